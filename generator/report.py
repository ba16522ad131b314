"""`oncallgen report`: what a team's on-call shifts were like, read from Prometheus' `ALERTS`.

A page is a rising edge of a firing `severity="critical"` alert (one label set going from not firing to firing at
an evaluation), counted when Alertmanager would have sent it: not while a firing alert inhibits it under the
generated inhibition rules. Its tier is its `escalation` label (the secondary tier is an escalation). Each page is
counted in the team's rotation shift it started in (`OnCallTeam.spec.rotation`; a team without one is counted by
week), as off hours when it started outside the team's business hours and at night when it started between 22:00
and 07:00 in the team's time zone. Time firing (start to the last evaluation it fired at) stands in for time to
resolve. The current shift is compared with the four before it: pages rising shift after shift mean a system
deteriorating or a scope that grew (the practice this tool encodes), and the report says so.

`ALERTS` holds what Prometheus evaluated, before Alertmanager: a silence does not stop a page being counted, and an
inhibition is applied here from the generated rules (a rule changed since is applied as it is now). Samples are read
at the evaluation interval given (`--step`, default 60s): a page shorter than one step can be missed, and a page
whose last evaluation read is within a step of now (or of the window's end) is still firing.

Time to acknowledge (with Alertmanager's silences): a page is acknowledged by the first ack silence (its comment
starts with the ack prefix, "ack" by default) whose matchers match the page's labels and whose `startsAt` falls
while the page fired (from its start to its resolution); the time is that `startsAt` minus the page's start. With a
PagerDuty export (pagerduty.py), the incident of the page's service or team created while it fired acknowledged it
at `created_at + seconds_to_first_ack`; with both, the earlier acknowledgement counts.
Time to mitigate: from the page's start to its resolution (the first evaluation after its last firing one); when a
remediation alert of the service fired while the page did, to the resolution of the last user-facing alert of the
service (critical or warning, not a remediation request, not the secondary tier's copy) firing in that span,
the span growing with each such alert that overlaps it: automation moved the traffic or added replicas, so the
page resolving says the remediated condition cleared, not that the users are served again.
"""
from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from . import conventions as c
from .content import markdown as md
from .plan import Routing
from .printable import printable
from .prometheus_api import RangeQuery
from . import pagerduty as pd
from .silences import Silence
from .spec.model import WEEKDAYS, Specs, Team

UTC = timezone.utc
POINTS = 10_000          # Prometheus refuses a range query of more than 11,000 points per series
NIGHT = (22, 7)          # local hours: a page starting from 22:00 to 07:00 woke someone
PREVIOUS = 4             # shifts the current one is compared with
ACK_PREFIX = "ack"       # karma's ack button writes "ACK! ...", kthxbye extends silences whose comment starts "ACK!"
SILENCE_RETENTION = 120 * 3600   # Alertmanager's default --data.retention: expired silences are gone after it
_MATCHER = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)"(.*)"$')


@dataclass(frozen=True)
class Episode:
    """One label set firing from `start` to `end` (the last evaluation it fired at)."""

    labels: tuple[tuple[str, str], ...]
    start: float
    end: float

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def active(self, t: float) -> bool:
        return self.start <= t <= self.end


@dataclass(frozen=True)
class Outcome:
    """What became of one page: who acknowledged it, how soon and where, and how long until its users were served
    again."""

    page: Episode
    acked_after: float | None       # seconds from the page's start to the first ack
    acked_by: str                   # the silence's creator, or PagerDuty's first acknowledging user
    acked_via: str                  # "silence" | "PagerDuty"
    mitigated_after: float | None   # seconds from the page's start to its mitigation; None: still firing


@dataclass
class ShiftReport:
    start: datetime
    end: datetime
    primary: str | None
    secondary: str | None
    pages: list[Episode] = field(default_factory=list)       # primary-tier pages
    escalated: list[Episode] = field(default_factory=list)   # secondary-tier pages
    off_hours: int = 0
    night: int = 0
    inhibited: int = 0
    outcomes: list[Outcome] = field(default_factory=list)   # of the primary-tier pages, in order


@dataclass
class TeamReport:
    team: str
    location: str
    shifts: list[ShiftReport]            # the previous ones first, the reported one last

    @property
    def current(self) -> ShiftReport:
        return self.shifts[-1]

    @property
    def rising(self) -> bool:
        """The reported shift paged more than half again the average of the ones before, by two pages or more."""
        before = [len(s.pages) for s in self.shifts[:-1]]
        if not before:
            return False
        mean = sum(before) / len(before)
        return len(self.current.pages) >= max(mean * 1.5, mean + 2)


def episodes(result: Iterable[dict], step: float) -> list[Episode]:
    """The firing episodes of each series of a range query's answer (gaps longer than a step end an episode)."""
    out = []
    for series in result:
        labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
        times = sorted(float(t) for t, _ in series["values"])
        start = prev = None
        for t in times:
            if start is None:
                start = prev = t
            elif t - prev > step * 1.5:
                out.append(Episode(labels, start, prev))
                start = t
            prev = t
        if start is not None:
            out.append(Episode(labels, start, prev))
    return sorted(out, key=lambda e: (e.start, e.labels))


def fetch(query: RangeQuery, selector: str, start: float, end: float, step: float) -> list[Episode]:
    """Episodes of the series of `selector` from `start` to `end`. It reads `timestamp(selector)`: the time of the
    sample each step found, so a sample is counted once at its own time and a series that stopped (whose last sample
    a query would otherwise see for five minutes without a staleness marker) ends at its last sample. Read in pieces
    small enough for Prometheus' points limit."""
    samples: dict[tuple, set[float]] = {}
    t = start
    while t <= end:
        stop = min(end, t + step * (POINTS - 1))
        for series in query(f"timestamp({selector})", t, stop, step):
            labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
            samples.setdefault(labels, set()).update(float(v) for _, v in series["values"])
        t = stop + step
    return episodes(({"metric": dict(k), "values": [[ts, "1"] for ts in v]} for k, v in samples.items()), step)


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    name, op, value = _MATCHER.match(matcher).groups()
    have = labels.get(name, "")
    if op == "=":
        return have == value
    if op == "!=":
        return have != value
    found = re.fullmatch(value, have) is not None
    return found if op == "=~" else not found


def inhibited(page: Episode, firing: list[Episode], routing: Routing | None) -> bool:
    """Whether an inhibition rule of the generated configuration mutes `page` when it starts."""
    if routing is None:
        return False
    target = page.label_map
    for rule in routing.inhibitions():
        if not all(_matches(m, target) for m in rule["target_matchers"]):
            continue
        for source in firing:
            if source is page or not source.active(page.start):
                continue
            labels = source.label_map
            if (all(_matches(m, labels) for m in rule["source_matchers"])
                    and all(labels.get(k, "") == target.get(k, "") for k in rule["equal"])):
                return True
    return False


def _weekday_set(ranges: tuple[str, ...]) -> set[int]:
    """Alertmanager weekday ranges (`monday:friday`, `sunday`) as date.weekday() numbers."""
    out: set[int] = set()
    for item in ranges:
        first, _, last = item.partition(":")
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        out |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
    return out


def off_hours(team: Team, local: datetime) -> bool:
    hours = team.business_hours
    if hours is None:
        return False
    start, end = (clock(*map(int, t.split(":"))) if t != "24:00" else clock(23, 59, 59, 999999)
                  for t in (hours.start, hours.end))
    return local.weekday() not in _weekday_set(hours.weekdays) or not start <= local.time() < end


def _night(local: datetime) -> bool:
    return local.hour >= NIGHT[0] or local.hour < NIGHT[1]


def _windows(team: Team, start: datetime) -> tuple[str, list[tuple[datetime, datetime, str | None, str | None]]]:
    """The team's time zone and the shift containing `start` with the PREVIOUS before it (weeks without a rotation)."""
    r = team.rotation
    if r is not None:
        current = r.shift_at(start)
        shifts = [r.shift(current.index - k) for k in range(PREVIOUS, -1, -1)]
        return r.location, [(s.start, s.end, s.primary, s.secondary) for s in shifts]
    location = team.business_hours.location if team.business_hours else "UTC"
    return location, [(start - timedelta(weeks=k), start - timedelta(weeks=k - 1), None, None)
                      for k in range(PREVIOUS, -1, -1)]


def _user_facing(labels: dict[str, str]) -> bool:
    """A page or ticket that says the users are affected: not a request to automation, not the secondary's copy."""
    return (labels.get(c.SEVERITY) in (c.PAGE, c.TICKET) and not labels.get(c.REMEDIATION)
            and labels.get(c.ESCALATION) != c.SECONDARY)


def mitigated_at(page: Episode, firing: list[Episode], step: float) -> float:
    """When the users of the page's service were served again (see the module's docstring): the page's resolution,
    or, when a remediation alert of the service fired while the page did, the last resolution of the service's
    user-facing alerts overlapping the span from the page's start, the span growing with each."""
    service = page.label_map.get(c.SERVICE, "")
    same = [e for e in firing if e.label_map.get(c.SERVICE, "") == service]
    end = page.end + step
    if not any(e.label_map.get(c.REMEDIATION) and e.start < end and e.end + step > page.start for e in same):
        return end
    grew = True
    while grew:
        grew = False
        for e in same:
            if _user_facing(e.label_map) and e.start < end and e.end + step > page.start and e.end + step > end:
                end, grew = e.end + step, True
    return end


def acknowledged_by(page: Episode, resolved: float, silences: list[Silence], prefix: str) -> Silence | None:
    """The first ack silence matching the page's labels created (`startsAt`) from its start to before `resolved`."""
    labels = {k: v for k, v in page.labels if k != "alertstate"}  # what Alertmanager received from Prometheus
    for silence in silences:  # oldest first
        if page.start <= silence.starts < resolved and silence.is_ack(prefix) and silence.matches(labels):
            return silence
    return None


def answered_by(page: Episode, resolved: float, incidents: list[pd.Incident]) -> pd.Incident | None:
    """The first PagerDuty incident of the page's service or team created from its start to before `resolved`."""
    labels = page.label_map
    for incident in incidents:  # oldest first
        if page.start <= incident.created < resolved and incident.names(labels, c.SERVICE, c.TEAM):
            return incident
    return None


@dataclass(frozen=True)
class AckSources:
    """Where acknowledgements are read: Alertmanager's silences (those whose comment starts with `prefix`), a
    PagerDuty export; None where not given."""

    silences: list[Silence] | None = None
    prefix: str = ACK_PREFIX
    incidents: list[pd.Incident] | None = None


def outcome(page: Episode, firing: list[Episode], step: float, until: float, sources: AckSources) -> Outcome:
    """The first ack and the mitigation of `page`, from what was read up to `until`. An alert whose last sample is
    within a step of `until` may have had a next sample the last evaluation read did not reach: still firing."""
    end = mitigated_at(page, firing, step)
    resolved = page.end + step if page.end + 2 * step <= until else float("inf")
    acks: list[tuple[float, str, str]] = []
    if sources.silences is not None:
        silence = acknowledged_by(page, resolved, sources.silences, sources.prefix)
        if silence is not None:
            acks.append((silence.starts, silence.created_by, "silence"))
    if sources.incidents is not None:
        incident = answered_by(page, resolved, sources.incidents)
        if incident is not None and incident.acked is not None:
            acks.append((incident.acked, incident.acknowledged_by, "PagerDuty"))
    first = min(acks, default=None)
    return Outcome(page, first[0] - page.start if first else None, first[1] if first else "",
                   first[2] if first else "", end - page.start if end + step <= until else None)


def report(specs: Specs, routing: Routing | None, query: RangeQuery, start: datetime, step: float = 60,
           acks: AckSources = AckSources(), now: float | None = None) -> list[TeamReport]:
    """Every team's shift containing `start` (or the week from `start`) and the four before it, read up to `now`,
    each page's first acknowledgement looked for in `acks`."""
    windows = {name: _windows(team, start) for name, team in specs.teams.items()}
    if not windows:
        return []
    first = min(w[1][0][0] for w in windows.values()).timestamp()
    last = max(w[1][-1][1] for w in windows.values()).timestamp()
    firing = fetch(query, 'ALERTS{alertstate="firing"}', first, last, step)
    until = min(last, time.time() if now is None else now)  # what firing then may fire on: not resolved yet
    out = []
    for name, (location, shifts) in windows.items():
        team = specs.teams[name]
        tz = ZoneInfo(location)
        rows = [ShiftReport(a, b, p, s) for a, b, p, s in shifts]
        for page in firing:
            labels = page.label_map
            if labels.get(c.TEAM) != name or labels.get(c.SEVERITY) != c.PAGE:
                continue
            if page.start == first and page.start > 0:
                continue  # already firing when the window opens: its edge is not in the window
            for row in rows:
                if row.start.timestamp() <= page.start < row.end.timestamp():
                    if inhibited(page, firing, routing):
                        row.inhibited += 1
                        break
                    (row.escalated if labels.get(c.ESCALATION) == c.SECONDARY else row.pages).append(page)
                    if labels.get(c.ESCALATION) != c.SECONDARY:
                        local = datetime.fromtimestamp(page.start, tz)
                        row.off_hours += off_hours(team, local)
                        row.night += _night(local)
                        row.outcomes.append(outcome(page, firing, step, until, acks))
                    break
        out.append(TeamReport(name, location, rows))
    return out


def iso_week(text: str) -> datetime:
    """`2026-W49` -> Monday 00:00 UTC of that ISO week."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text)
    if not match:
        raise ValueError(f'"{text}" is not an ISO week like 2026-W49')
    day = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _duration(seconds: float) -> str:
    return c.window(max(60, round(seconds / 60) * 60))


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()][:3].capitalize()} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _span(seconds: float) -> str:
    """A time to acknowledge or mitigate: seconds under a minute, else minutes."""
    return f"{max(0, round(seconds))}s" if seconds < 59.5 else _duration(seconds)


def _spread(values: list[float]) -> tuple[str, str]:
    """Median and worst, or dashes."""
    return (_span(statistics.median(values)), _span(max(values))) if values else ("-", "-")


@dataclass(frozen=True)
class AckNote:
    """Where the report says acknowledgements came from."""

    text: str
    alertmanager: bool   # silences read: they are forgotten after Alertmanager's retention
    several: bool        # more than one source: each ack says which


def ack_source(alertmanager: str | None, prefix: str, pagerduty: str | None) -> AckNote | None:
    """How the report says where acknowledgements come from (None: nowhere)."""
    parts = []
    if alertmanager is not None:
        parts.append(f"a silence of the Alertmanager at {alertmanager}"
                     + (f' whose comment starts with "{prefix}"' if prefix else "") + ", matching the page")
    if pagerduty is not None:
        parts.append(f"the acknowledgement of an incident of the PagerDuty export {pagerduty} of the page's service "
                     "or team")
    return AckNote("; or ".join(parts), alertmanager is not None, len(parts) > 1) if parts else None


def _page_name(labels: dict[str, str]) -> md.Markdown:
    extra = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k in (c.PROVIDER, c.MODEL))
    return md.Markdown(f"{md.code(labels.get('alertname', ''))} of {md.code(labels.get(c.SERVICE, ''))}"
                       + (f" ({md.text(extra)})" if extra else ""))


def _acked(o: Outcome, source: bool, via: bool) -> str:
    if not source:
        return "no source"
    if o.acked_after is None:
        return "no"
    return (f"after {_span(o.acked_after)} by {md.text(printable(o.acked_by or 'someone'))}"
            + (f" ({o.acked_via})" if via else ""))


def markdown(reports: list[TeamReport], step: float, acks: AckNote | None = None, now: float | None = None) -> str:
    """The report as Markdown: one section per team. `acks` says where acknowledgements were read (None: nowhere)."""
    now = time.time() if now is None else now
    lines = ["# On-call report", "",
             f"From Prometheus' `ALERTS` at a {_duration(step)} step, up to now; inhibitions as generated. "
             + (f"A page's acknowledgement is the first of: {md.text(acks.text)}; created while the page fired."
                if acks else "Acknowledgements: no source (give `--alertmanager` or `--pagerduty`)."),
             ""]
    for r in reports:
        tz = ZoneInfo(r.location)
        cur = r.current
        who = ", ".join(x for x in (f"primary {md.text(cur.primary)}" if cur.primary else "",
                                    f"secondary {md.text(cur.secondary)}" if cur.secondary else "") if x)
        lines += [f"## Team {md.code(r.team)}", "",
                  f"Shift {_when(cur.start, tz)} to {_when(cur.end, tz)} ({md.text(r.location)})"
                  + (f": {who}." if who else "."), ""]
        firing = sorted((e.end - e.start + 60 for e in cur.pages), reverse=True)
        lines += ["| pages | escalated to the secondary | off hours | at night | inhibited | longest firing |",
                  "|---:|---:|---:|---:|---:|---:|",
                  f"| {len(cur.pages)} | {len(cur.escalated)} | {cur.off_hours} | {cur.night} | {cur.inhibited} | "
                  f"{_duration(firing[0]) if firing else '-'} |", ""]
        acked = [o.acked_after for o in cur.outcomes if o.acked_after is not None]
        mitigated = [o.mitigated_after for o in cur.outcomes if o.mitigated_after is not None]
        still = len(cur.outcomes) - len(mitigated)
        ack_cells = (f"{len(acked)} of {len(cur.outcomes)} | " + " | ".join(_spread(acked))) if acks else \
            "no source | no source | no source"
        lines += ["| acknowledged | time to acknowledge, median | worst | mitigated | time to mitigate, median | "
                  "worst |", "|---:|---:|---:|---:|---:|---:|",
                  f"| {ack_cells} | {len(mitigated)} of {len(cur.outcomes)}"
                  + (f" ({still} still firing)" if still else "") + " | " + " | ".join(_spread(mitigated)) + " |",
                  ""]
        if cur.outcomes:
            lines += ["| started | page | acknowledged | mitigated after |", "|---|---|---|---:|"]
            lines += [f"| {_when(datetime.fromtimestamp(o.page.start, UTC), tz)} | "
                      f"{md.cell(_page_name(o.page.label_map))} | "
                      f"{_acked(o, acks is not None, acks is not None and acks.several)} | "
                      f"{_span(o.mitigated_after) if o.mitigated_after is not None else 'still firing'} |"
                      for o in cur.outcomes]
            lines.append("")
        if acks and acks.alertmanager and cur.start.timestamp() < now - SILENCE_RETENTION:
            lines += [f"Alertmanager forgets an expired silence after `--data.retention` (120h by default): pages "
                      f"before {_when(datetime.fromtimestamp(now - SILENCE_RETENTION, UTC), tz)} may show no "
                      "acknowledgement though one was made.", ""]
        noisy: dict[tuple[str, str], int] = {}
        for page in cur.pages:
            labels = page.label_map
            key = (labels.get("alertname", ""), labels.get(c.SERVICE, ""))
            noisy[key] = noisy.get(key, 0) + 1
        if noisy:
            lines += ["Noisiest alerts:", ""]
            lines += [f"- {md.code(a)} of {md.code(s)}: {n}" for (a, s), n in
                      sorted(noisy.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
            lines.append("")
        trend = " → ".join(str(len(s.pages)) for s in r.shifts)
        lines.append(f"Pages per shift, the {len(r.shifts) - 1} before and this one: {trend}."
                     + (" **Pages are rising**: a system deteriorating, or a scope that grew; look at the noisiest "
                        "alerts and at what changed." if r.rising else ""))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
