"""`oncallgen backtest`: what the compiled alerts would have done over a Prometheus' real history.

Every alert rule of the plan (its secondary tier included: it is a rule of its own) is evaluated by that Prometheus'
own engine with one range query at its group's interval (in pieces under the points limit); Prometheus' alert
semantics are then applied per label set: pending from the first evaluation its condition holds, firing once it has
held for the rule's `for`, resolved at the first evaluation it no longer holds. Each firing episode carries the
rule's labels over the result's, as a live alert does. The generated inhibitions mute what they would mute when an
episode starts, and the team's routes say who would have received it: per receiver, pages, pages per week, pages off
hours (outside the team's business hours), and the longest episode.

Where a backtest differs from live evaluation, the report says so: rules are evaluated at steps aligned to the
window's start, not at their group's offset; a recorded series the alerts read must already be in the server's
history (the report lists those it does not have: alerts reading them are evaluated on what there is).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import promql_parser

from . import conventions as c
from .alertmanager.receivers import expected_receivers
from .content import markdown as md
from .incidents import Detection, Incident, Page, detect
from .plan import Plan
from .prometheus_api import RangeQuery
from .report import POINTS, Episode, inhibited, off_hours

UTC = timezone.utc
RECORDED = re.compile(r"\b([a-z_]+:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+)\b")


@dataclass(frozen=True)
class Fired:
    """One firing episode of one alert rule."""

    alertname: str
    episode: Episode
    for_seconds: float


def _holds(query: RangeQuery, expr: str, start: float, end: float, step: float) -> dict[tuple, list[float]]:
    """The evaluation times at which `expr` returned each label set."""
    out: dict[tuple, list[float]] = {}
    t = start
    while t <= end:
        stop = min(end, t + step * (POINTS - 1))
        for series in query(expr, t, stop, step):
            labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
            out.setdefault(labels, []).extend(float(ts) for ts, _ in series["values"])
        t = stop + step
    return out


def firing(times: list[float], step: float, for_seconds: float) -> list[tuple[float, float]]:
    """(first firing, last firing) evaluation times of each episode, from the times the condition held."""
    out = []
    since = prev = None
    fired: float | None = None
    for t in sorted(times) + [float("inf")]:
        if prev is not None and t - prev > step * 1.5:   # the condition stopped holding: resolve
            if fired is not None:
                out.append((fired, prev))
            since, fired = None, None
        if t == float("inf"):
            break
        if since is None:
            since = t
        if fired is None and t - since >= for_seconds:
            fired = t
        prev = t
    return out


def evaluate(plan: Plan, query: RangeQuery, start: float, end: float) -> list[Fired]:
    """Every firing episode of every alert rule of the plan's services over [start, end]."""
    out = []
    for group in plan.groups:
        step = group.interval or 60
        for rule in group.alerts:
            if rule.label_map.get(c.SERVICE) not in {s.name for s in plan.services}:
                continue
            for labels, times in _holds(query, rule.expr, start, end, step).items():
                full = tuple(sorted({**dict(labels), **rule.label_map, "alertname": rule.alert}.items()))
                for first, last in firing(times, step, rule.for_seconds):
                    out.append(Fired(rule.alert, Episode(full, first, last), rule.for_seconds))
    return sorted(out, key=lambda f: (f.episode.start, f.episode.labels))


COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
SET_OPERATORS = {"and", "or", "unless"}
TRACE_POINTS = 1000     # points of each traced series over the window: about one a pixel of its chart


@dataclass(frozen=True)
class Trace:
    """An alert's first condition over the window, for one label set: the series it compares with a threshold."""

    alertname: str
    labels: tuple[tuple[str, str], ...]   # the series' labels (those the alert's episodes carry too)
    expr: str                             # the compared side, as written in the rule
    op: str
    threshold: float
    step: float
    points: tuple[tuple[float, float], ...]   # (time, the step's extreme towards the threshold)

    def covers(self, episode: Episode) -> bool:
        """Whether `episode` is of this series (its labels hold the series' labels)."""
        mine = episode.label_map
        return all(mine.get(k) == v for k, v in self.labels)


def condition(expr: str) -> tuple[str, str, float] | None:
    """The first comparison of a series with a number in `expr`, its leftmost condition through parentheses and
    and/or/unless: (series expression, operator, threshold), or None when it starts otherwise."""
    node = promql_parser.parse(expr)
    while True:
        if isinstance(node, promql_parser.ParenExpr):
            node = node.expr
        elif isinstance(node, promql_parser.BinaryExpr) and str(node.op) in SET_OPERATORS:
            node = node.lhs
        elif (isinstance(node, promql_parser.BinaryExpr) and str(node.op) in COMPARISONS
              and isinstance(node.rhs, promql_parser.NumberLiteral) and node.modifier is None):
            return str(node.lhs), str(node.op), float(node.rhs.val)
        else:
            return None


def traces(plan: Plan, query: RangeQuery, fired: list[Fired], start: float, end: float) -> list[Trace]:
    """The first condition's series of each page-severity alert that fired, over the window at about TRACE_POINTS
    points; each point is the lowest (for `<`) or highest value of its step, so a dip shorter than a step shows."""
    step = max(60.0, -(-(end - start) // TRACE_POINTS // 60) * 60)
    wanted = {(f.alertname, f.episode.label_map.get(c.SERVICE)) for f in fired
              if f.episode.label_map.get(c.SEVERITY) == c.PAGE}
    out, seen = [], set()
    for group in plan.groups:
        for rule in group.alerts:
            key = (rule.alert, rule.label_map.get(c.SERVICE))
            found = condition(rule.expr) if key in wanted and key not in seen else None
            if found is None:
                continue
            seen.add(key)
            expr, op, threshold = found
            extreme = "min_over_time" if op.startswith("<") else "max_over_time"
            resolution = group.interval or 60
            sampled = f"{extreme}(({expr})[{int(step)}s:{int(resolution)}s])"
            for series in query(sampled, start, end, step):
                labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
                points = tuple((float(t), float(v)) for t, v in series["values"])
                out.append(Trace(rule.alert, labels, expr, op, threshold, step, points))
    return sorted(out, key=lambda t: (t.alertname, t.labels))


def missing_series(plan: Plan, query: RangeQuery, start: float, end: float) -> list[str]:
    """Recorded series the plan's alerts read that the server has no sample of in the window."""
    names = sorted({n for g in plan.groups for a in g.alerts for n in RECORDED.findall(a.expr)})
    if not names:
        return []
    step = max(60.0, (end - start) / 100)
    seen = {s["metric"].get("__name__") for s in
            query(f'count by (__name__) ({{__name__=~"{"|".join(re.escape(n) for n in names)}"}})', start, end, step)}
    return [n for n in names if n not in seen]


@dataclass
class Received:
    receiver: str
    pages: int = 0
    off_hours: int = 0
    longest: float = 0.0


def delivered(plan: Plan, fired: list[Fired]) -> tuple[list[tuple[Fired, tuple[str, ...]]], int]:
    """The page-severity episodes that would have reached someone, each with its receivers (its team's routes), and
    how many the generated inhibitions would have muted."""
    teams = plan.specs.teams
    services = {s.name: s for s in plan.services}
    episodes = [f.episode for f in fired]
    out, muted = [], 0
    for f in fired:
        labels = f.episode.label_map
        if labels.get(c.SEVERITY) != c.PAGE:
            continue
        if inhibited(f.episode, episodes, plan.routing):
            muted += 1
            continue
        team = teams.get(services[labels[c.SERVICE]].team)
        if team is not None:
            out.append((f, tuple(expected_receivers(team, labels))))
    return out, muted


def people(pages: list[tuple[Fired, tuple[str, ...]]]) -> list[Page]:
    """The delivered pages a person receives (a remediation request goes to automation)."""
    return [Page(f.alertname, f.episode) for f, _ in pages if not f.episode.label_map.get(c.REMEDIATION)]


SHOWN = (c.PROVIDER, c.MODEL, c.ESCALATION, "reason", "suite")   # the labels an episode is told apart by


def shown_labels(labels: dict[str, str]) -> str:
    """`escalation=secondary, provider=anthropic`: what tells an alert's episodes apart, beyond its service."""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k in SHOWN)


@dataclass(frozen=True)
class Row:
    """One firing episode and what became of it."""

    fired: Fired
    service: str
    labels: str               # shown_labels
    severity: str
    receivers: tuple[str, ...]   # who received it as a page (empty: not a page, muted, or no team)
    person: bool              # a page a person received (not a request to automation)


@dataclass(frozen=True)
class Outcome:
    """The backtest as plain data: what the Markdown and the HTML both print, computed once here."""

    start: float
    end: float
    received: tuple[Received, ...]       # receivers with pages, most first
    per_week: tuple[float, ...]          # pages per week of each of `received`
    muted: int
    remediations: int
    rows: tuple[Row, ...]                # every episode, in order of start
    detections: tuple[Detection, ...] | None
    missing: tuple[str, ...]
    traces: tuple[Trace, ...] = ()       # the alerts' series against their thresholds (the HTML draws them)

    @property
    def days(self) -> float:
        return (self.end - self.start) / 86400

    @property
    def missed(self) -> int:
        """Known incidents no page a person would have received detected."""
        return sum(1 for d in self.detections or () if d.first is None)


def outcome(plan: Plan, fired: list[Fired], missing: list[str], start: float, end: float,
            incidents: list[Incident] | None = None, traced: list[Trace] = ()) -> Outcome:
    """Who would have received what, each alert's episodes and the known incidents they would have caught."""
    teams = plan.specs.teams
    services = {s.name: s for s in plan.services}
    weeks = (end - start) / (7 * 86400)
    received: dict[str, Received] = {}
    pages, muted = delivered(plan, fired)
    to: dict[Fired, tuple[str, ...]] = {}
    for f, receivers in pages:
        to[f] = receivers
        labels = f.episode.label_map
        team = teams[services[labels[c.SERVICE]].team]
        for name in receivers:
            r = received.setdefault(name, Received(name))
            if labels.get(c.REMEDIATION):
                continue  # automation, not a person: counted below as remediation
            r.pages += 1
            local = datetime.fromtimestamp(f.episode.start, ZoneInfo(team.business_hours.location
                                                                     if team.business_hours else "UTC"))
            r.off_hours += off_hours(team, local)
            r.longest = max(r.longest, f.episode.end - f.episode.start)
    ranked = tuple(r for r in sorted(received.values(), key=lambda r: (-r.pages, r.receiver)) if r.pages)
    rows = []
    for f in fired:
        labels = f.episode.label_map
        rows.append(Row(f, labels.get(c.SERVICE, ""), shown_labels(labels), labels.get(c.SEVERITY, ""),
                        to.get(f, ()), f in to and not labels.get(c.REMEDIATION)))
    return Outcome(start, end, ranked, tuple(r.pages / weeks for r in ranked), muted,
                   sum(1 for f in fired if f.episode.label_map.get(c.REMEDIATION)), tuple(rows),
                   None if incidents is None else tuple(detect(incidents, people(pages))), tuple(missing),
                   tuple(traced))


def longest(seconds: float) -> str:
    """An episode's time firing: from its first to its last firing evaluation, plus the minute after."""
    return c.window(max(60, round((seconds + 60) / 60) * 60))


def after(d: Detection) -> str:
    """How long after the incident began its first page fired, to the minute (evaluations are a minute or more
    apart)."""
    if d.latency is None:
        return "-"
    return c.window(round(d.latency / 60) * 60) if d.latency >= 30 else "0m"


LIMITS = ("Rules are evaluated at steps aligned to the window's start, not at their group's offset: an edge can move "
          "by up to one interval.",
          "Pending state restarts at the window's start: an alert already pending then fires later here.",
          "Silences are not applied; a page and its secondary tier reach two receivers and count at each.")
MISSING = ("Recorded series the alerts read that this Prometheus does not have in the window (the rules reading them "
           "are evaluated on what there is): ")


def markdown(result: Outcome) -> str:
    """The backtest report: who would have received what, each alert's episodes, the known incidents it would have
    caught, and where it differs from live evaluation."""
    span = f"{when(result.start)} to {when(result.end)} UTC ({result.days:g} days)"
    lines = [f"# Backtest: {span}", "", "## What people would have received", "",
             "| receiver | pages | per week | off hours | longest firing |", "|---|---:|---:|---:|---:|"]
    for r, per_week in zip(result.received, result.per_week):
        lines.append(f"| {md.code(r.receiver)} | {r.pages} | {per_week:.1f} | {r.off_hours} | {longest(r.longest)} |")
    if not result.received:
        lines.append("| nobody | 0 | 0 | 0 | - |")
    lines += ["", f"Pages muted by the generated inhibitions: {result.muted}. Remediation requests sent to automation: "
                  f"{result.remediations}.", "", "## Episodes", "",
              "| alert | service | labels | severity | from | to |", "|---|---|---|---|---|---|"]
    for row in result.rows:
        e = row.fired.episode
        lines.append(f"| {md.code(row.fired.alertname)} | {md.code(row.service)} | {md.cell(md.text(row.labels))} | "
                     f"{row.severity} | {when(e.start)} | {when(e.end)} |")
    if result.detections is not None:
        lines += _incidents(result)
    lines += ["", "## Where this differs from live evaluation", ""] + [f"- {x}" for x in LIMITS]
    if result.missing:
        lines.append(f"- {MISSING}" + ", ".join(md.code(n) for n in result.missing) + ".")
    return "\n".join(lines) + "\n"


def _incidents(result: Outcome) -> list[str]:
    detections = result.detections or ()
    lines = ["", "## Known incidents", "",
             f"{len(detections) - result.missed} of {len(detections)} detected, {result.missed} missed.", "",
             "| incident | service | from | to | should page | first page | after |", "|---|---|---|---|---|---|---:|"]
    for d in detections:
        i = d.incident
        expected = ", ".join(md.code(a) for a in i.pages) or "any page"
        first = "**missed**" if d.first is None else md.code(d.first.alertname)
        lines.append(f"| {md.cell(md.text(i.name))} | {md.code(i.service)} | {when(i.start)} | {when(i.end)} | "
                     f"{expected} | {first} | {after(d)} |")
    return lines


def when(t: float) -> str:
    """`2026-12-01 02:00` (UTC)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")
