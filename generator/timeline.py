"""`oncallgen timeline`: a postmortem draft from Prometheus' history, in Markdown.

The precise sequence of what the alerting saw between two times: each alert of the service (or of every service)
going pending, firing (a page, a ticket, information), escalating to the secondary tier, asking automation for a
remediation, and resolving, each with the service's key SLI values at that moment (error ratio, p95 latency, spend
per hour). Then the sections of a blameless postmortem to fill in: impact, root cause, what went well, what did not,
and action items with an owner, a due date and a tracking link.

Read from `ALERTS` at `--step` like `report` (each evaluation at its own time, `timestamp(...)`); resolved is the
first evaluation after the last firing one. With Alertmanager's silences (`--alertmanager`), each silence created in
the window (its `startsAt`, which Alertmanager sets to the moment of creation) is an event too: by whom, until when,
its matchers and its comment. Scoped to a service, a silence is in when it names the service (a `service` matcher
that holds for it) or mutes one of the service's alerts seen in the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from . import conventions as c
from .content import markdown as md
from .printable import printable
from .prometheus_api import RangeQuery
from .report import fetch
from .silences import Silence

UTC = timezone.utc
# The service's key SLI values at each transition: (title, recorded series, scale, unit).
KEY_VALUES = (("error ratio", c.ERRORS_RATIO_RATE5M, 100, "%"),
              ("p95 latency", c.LATENCY_P95, 1, "s"),
              ("spend", c.SPEND_RATE5M, 3600, " USD/h"))


@dataclass(frozen=True)
class Event:
    at: float
    service: str
    what: str


def _kind(labels: dict[str, str]) -> str:
    if labels.get(c.REMEDIATION):
        return f"automation asked to {md.code(labels[c.REMEDIATION])} by"
    if labels.get(c.ESCALATION) == c.SECONDARY:
        return "the secondary on-call paged by"
    return {c.PAGE: "page", c.TICKET: "ticket", c.INFO: "information"}.get(labels.get(c.SEVERITY, ""), "alert")


def _name(labels: dict[str, str]) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())
                      if k in (c.PROVIDER, c.MODEL, "reason", "suite", "integration"))
    return md.code(labels.get("alertname", "")) + (f" ({md.text(extra)})" if extra else "")


def _silence(s: Silence) -> str:
    """A silence as a table cell; what a person typed is escaped (printable), so no control reaches a terminal."""
    matchers = ", ".join(md.code(printable(str(m))) for m in s.matchers)
    comment = printable(s.comment)
    return md.cell(md.Markdown(f"silence created by {md.text(printable(s.created_by or 'someone'))} until "
                               f"{_time(s.ends)} ({md.text(printable(s.state))}): {matchers}"
                               + (f" — “{md.text(comment)}”" if comment else "")))


def _named_service(s: Silence) -> str:
    """The service a silence names with an equality matcher, if it does."""
    return next((m.value for m in s.matchers if m.name == c.SERVICE and m.equal and not m.regex), "")


def silence_events(silences: list[Silence], start: float, end: float, service: str | None,
                   seen: list[dict[str, str]]) -> list[Event]:
    """The silences created from `start` to `end`; scoped to `service`, those naming it or muting an alert `seen`."""
    out = []
    for s in silences:
        if not start <= s.starts <= end:
            continue
        if service is not None:
            names = any(m.name == c.SERVICE for m in s.matchers)
            if not (names and all(m.matches({c.SERVICE: service}) for m in s.matchers if m.name == c.SERVICE)
                    or any(s.matches(labels) for labels in seen)):
                continue
        out.append(Event(s.starts, service or _named_service(s), _silence(s)))
    return out


def events(query: RangeQuery, start: float, end: float, step: float, service: str | None,
           silences: list[Silence] | None = None) -> list[Event]:
    """Every transition of the alerts of `service` (all services when None) between `start` and `end`, and the
    silences created then, in order."""
    scope = f', {c.SERVICE}="{c.escape(service)}"' if service else ""
    out: list[Event] = []
    seen: list[dict[str, str]] = []
    for state in ("pending", "firing"):
        for ep in fetch(query, f'ALERTS{{alertstate="{state}"{scope}}}', start, end, step):
            labels = ep.label_map
            seen.append({k: v for k, v in labels.items() if k != "alertstate"})
            who = labels.get(c.SERVICE, "")
            if state == "pending":
                out.append(Event(ep.start, who, f"{_name(labels)} pending: its condition holds, its `for` runs"))
                continue
            out.append(Event(ep.start, who, f"{_kind(labels)} {_name(labels)}"
                             if labels.get(c.REMEDIATION) or labels.get(c.ESCALATION) == c.SECONDARY
                             else f"{_kind(labels)}: {_name(labels)} fires"))
            if ep.end + step <= end:
                out.append(Event(ep.end + step, who, f"{_name(labels)}"
                                 + (" (secondary tier)" if labels.get(c.ESCALATION) == c.SECONDARY else "")
                                 + " resolved"))
    out += silence_events(silences or [], start, end, service, seen)
    return sorted(out, key=lambda e: (e.at, e.service, e.what))


def _values(query: RangeQuery, service: str, at: float) -> str:
    shown = []
    for title, series, scale, unit in KEY_VALUES:
        result = query(f'{series}{{{c.SERVICE}="{c.escape(service)}"}}', at, at, 60)
        if result and result[0]["values"]:
            value = float(result[0]["values"][-1][1]) * scale
            shown.append(f"{title} {value:.3g}{unit}")
    return "; ".join(shown)


def _time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def _date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def markdown(query: RangeQuery, start: float, end: float, step: float, service: str | None,
             silences: list[Silence] | None = None) -> str:
    """The postmortem draft; with `silences` (Alertmanager's), those created in the window too."""
    found = events(query, start, end, step, service, silences)
    title = f"`{service}`" if service else "every service"
    lines = [f"# Postmortem draft: {md.text(title) if not service else md.code(service)}, "
             f"{_date(start)} {_time(start)} to {_date(end)} {_time(end)} UTC", "",
             "## Timeline", "",
             "Times in UTC, from Prometheus' `ALERTS`"
             + ("; silences from Alertmanager (created at their start)" if silences is not None
                else "; silences not read (give `--alertmanager`)")
             + "; values are the service's at that minute.", "",
             "| time | service | what happened | key values |", "|---|---|---|---|"]
    day = None
    for e in found:
        stamp = _time(e.at) if _date(e.at) == day else f"{_date(e.at)} {_time(e.at)}"
        day = _date(e.at)
        lines.append(f"| {stamp} | {md.cell(md.code(printable(e.service))) if e.service else ''} | {e.what} | "
                     f"{md.cell(_values(query, e.service, e.at)) if e.service else ''} |")
    if not found:
        lines.append("| | | no alert of this scope was pending or firing in the window | |")
    lines += ["", "## Impact", "", "Who was affected, how, and for how long (start at the first page above).", "",
              "## Root cause", "", "What failed, and why it could. Blameless: systems and decisions, not people.", "",
              "## What went well", "", "-", "", "## What did not", "", "-", "",
              "## Action items", "", "| action | owner | due | tracking |", "|---|---|---|---|", "| | | | |", "",
              "Then add a line to `spec.runbooks.changelog` of the service with the link to this postmortem, and "
              "improve the runbook the on-call used.", ""]
    return "\n".join(lines)
