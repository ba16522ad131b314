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
from .targets.utc_hours import weekday_set

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


def off_hours(team: Team, local: datetime) -> bool:
    hours = team.business_hours
    if hours is None:
        return False
    start, end = (clock(*map(int, t.split(":"))) if t != "24:00" else clock(23, 59, 59, 999999)
                  for t in (hours.start, hours.end))
    return local.weekday() not in weekday_set(hours.weekdays) or not start <= local.time() < end


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


def duration(seconds: float) -> str:
    """A time firing as the report prints it: to the minute, a minute at least."""
    return c.window(max(60, round(seconds / 60) * 60))


def when(moment: datetime, tz: ZoneInfo) -> str:
    """`Mon 30 Nov 10:00` in the team's time zone."""
    local = moment.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()][:3].capitalize()} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOISIEST = 5             # alerts listed as the noisiest


def span(seconds: float) -> str:
    """A time to acknowledge or mitigate: seconds under a minute, else minutes."""
    return f"{max(0, round(seconds))}s" if seconds < 59.5 else duration(seconds)


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


@dataclass(frozen=True)
class Noisy:
    alertname: str
    service: str
    pages: int


@dataclass(frozen=True)
class Spread:
    """How many of a shift's pages have a time (acknowledged, mitigated), and its median and worst."""

    count: int
    median: float | None
    worst: float | None


def _spread(values: list[float]) -> Spread:
    return Spread(len(values), statistics.median(values) if values else None, max(values) if values else None)


@dataclass(frozen=True)
class ShiftFigures:
    """What one shift's pages add up to: every number a rendering of the report prints."""

    start: datetime
    end: datetime
    primary: str | None
    secondary: str | None
    pages: int
    escalated: int
    off_hours: int
    night: int
    inhibited: int
    longest: float | None        # seconds the longest primary page fired (to its last evaluation, plus a minute)
    outcomes: tuple[Outcome, ...]   # of the primary-tier pages, in order
    acked: Spread
    mitigated: Spread

    @property
    def still_firing(self) -> int:
        return len(self.outcomes) - self.mitigated.count


@dataclass(frozen=True)
class TeamFigures:
    team: str
    location: str
    shifts: tuple[ShiftFigures, ...]     # the previous ones first, the reported one last
    noisy: tuple[Noisy, ...]             # the reported shift's noisiest alerts, most pages first
    rising: bool
    forgotten_before: float | None       # acks read from silences: those before this time may be forgotten

    @property
    def current(self) -> ShiftFigures:
        return self.shifts[-1]


@dataclass(frozen=True)
class Figures:
    """The report as plain data: what the Markdown and the HTML both print, computed once here."""

    step: float
    acks: AckNote | None                 # where acknowledgements were read (None: nowhere)
    teams: tuple[TeamFigures, ...]


def figures(reports: list[TeamReport], step: float, acks: AckNote | None = None, now: float | None = None
            ) -> Figures:
    """The numbers of every team's report; `now` (default: the clock) dates what Alertmanager may have forgotten."""
    now = time.time() if now is None else now
    teams = []
    for r in reports:
        shifts = tuple(ShiftFigures(s.start, s.end, s.primary, s.secondary, len(s.pages), len(s.escalated),
                                    s.off_hours, s.night, s.inhibited,
                                    max((e.end - e.start + 60 for e in s.pages), default=None), tuple(s.outcomes),
                                    _spread([o.acked_after for o in s.outcomes if o.acked_after is not None]),
                                    _spread([o.mitigated_after for o in s.outcomes if o.mitigated_after is not None]))
                       for s in r.shifts)
        noisy: dict[tuple[str, str], int] = {}
        for page in r.current.pages:
            labels = page.label_map
            key = (labels.get("alertname", ""), labels.get(c.SERVICE, ""))
            noisy[key] = noisy.get(key, 0) + 1
        top = tuple(Noisy(a, s, n) for (a, s), n in sorted(noisy.items(), key=lambda kv: (-kv[1], kv[0]))[:NOISIEST])
        forgotten = (now - SILENCE_RETENTION if acks and acks.alertmanager
                     and r.current.start.timestamp() < now - SILENCE_RETENTION else None)
        teams.append(TeamFigures(r.team, r.location, shifts, top, r.rising, forgotten))
    return Figures(step, acks, tuple(teams))


RISING = "a system deteriorating, or a scope that grew; look at the noisiest alerts and at what changed."
NO_ACK_SOURCE = "Acknowledgements: no source (give `--alertmanager` or `--pagerduty`)."
FORGOTTEN = ("Alertmanager forgets an expired silence after `--data.retention` (120h by default): pages before {} "
             "may show no acknowledgement though one was made.")


def page_extra(labels: dict[str, str]) -> str:
    """`provider=anthropic`: what tells a page apart beyond its alert and service."""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k in (c.PROVIDER, c.MODEL))


def acked(o: Outcome, acks: AckNote | None) -> str:
    """A page's acknowledgement as the report says it (plain text: each rendering escapes it)."""
    if acks is None:
        return "no source"
    if o.acked_after is None:
        return "no"
    return (f"after {span(o.acked_after)} by {printable(o.acked_by or 'someone')}"
            + (f" ({o.acked_via})" if acks.several else ""))


def spread(s: Spread) -> tuple[str, str]:
    """Median and worst, or dashes."""
    return (span(s.median), span(s.worst)) if s.median is not None else ("-", "-")


def _page_name(labels: dict[str, str]) -> md.Markdown:
    extra = page_extra(labels)
    return md.Markdown(f"{md.code(labels.get('alertname', ''))} of {md.code(labels.get(c.SERVICE, ''))}"
                       + (f" ({md.text(extra)})" if extra else ""))


def markdown(report: Figures) -> str:
    """The report as Markdown: one section per team."""
    acks = report.acks
    lines = ["# On-call report", "",
             f"From Prometheus' `ALERTS` at a {duration(report.step)} step, up to now; inhibitions as generated. "
             + (f"A page's acknowledgement is the first of: {md.text(acks.text)}; created while the page fired."
                if acks else NO_ACK_SOURCE),
             ""]
    for r in report.teams:
        tz = ZoneInfo(r.location)
        cur = r.current
        who = ", ".join(x for x in (f"primary {md.text(cur.primary)}" if cur.primary else "",
                                    f"secondary {md.text(cur.secondary)}" if cur.secondary else "") if x)
        lines += [f"## Team {md.code(r.team)}", "",
                  f"Shift {when(cur.start, tz)} to {when(cur.end, tz)} ({md.text(r.location)})"
                  + (f": {who}." if who else "."), ""]
        lines += ["| pages | escalated to the secondary | off hours | at night | inhibited | longest firing |",
                  "|---:|---:|---:|---:|---:|---:|",
                  f"| {cur.pages} | {cur.escalated} | {cur.off_hours} | {cur.night} | {cur.inhibited} | "
                  f"{duration(cur.longest) if cur.longest is not None else '-'} |", ""]
        ack_cells = (f"{cur.acked.count} of {len(cur.outcomes)} | " + " | ".join(spread(cur.acked))) if acks else \
            "no source | no source | no source"
        still = cur.still_firing
        lines += ["| acknowledged | time to acknowledge, median | worst | mitigated | time to mitigate, median | "
                  "worst |", "|---:|---:|---:|---:|---:|---:|",
                  f"| {ack_cells} | {cur.mitigated.count} of {len(cur.outcomes)}"
                  + (f" ({still} still firing)" if still else "") + " | " + " | ".join(spread(cur.mitigated)) + " |",
                  ""]
        if cur.outcomes:
            lines += ["| started | page | acknowledged | mitigated after |", "|---|---|---|---:|"]
            lines += [f"| {when(datetime.fromtimestamp(o.page.start, UTC), tz)} | "
                      f"{md.cell(_page_name(o.page.label_map))} | {md.text(acked(o, acks))} | "
                      f"{span(o.mitigated_after) if o.mitigated_after is not None else 'still firing'} |"
                      for o in cur.outcomes]
            lines.append("")
        if r.forgotten_before is not None:
            lines += [FORGOTTEN.format(when(datetime.fromtimestamp(r.forgotten_before, UTC), tz)), ""]
        if r.noisy:
            lines += ["Noisiest alerts:", ""]
            lines += [f"- {md.code(n.alertname)} of {md.code(n.service)}: {n.pages}" for n in r.noisy]
            lines.append("")
        trend = " → ".join(str(s.pages) for s in r.shifts)
        lines.append(f"Pages per shift, the {len(r.shifts) - 1} before and this one: {trend}."
                     + (f" **Pages are rising**: {RISING}" if r.rising else ""))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
