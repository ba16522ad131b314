"""Grafana dashboards generated with the rules: one per service, one on-call overview per team.

Classic dashboard JSON (what Grafana's "Import dashboard" and its provisioning read; Grafana 12 and 13 still import
it). A service's dashboard has a row of its firing alerts, then a row per active signal whose panels are the queries
that signal's runbooks give the on-call (the decision trees' steps and the "More queries"), so the graphs the on-call
is told to look at are one click away; firing alerts are annotations on every panel. The team overview graphs the
on-call health series (pages started per day and week, pages firing). Panels read the Prometheus data source picked
in the dashboard's `datasource` variable. Deterministic: panels in rule order, ids by position, sorted keys nowhere
needed since the data is built in a fixed order.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator

import promql_parser

from . import conventions as c
from . import promql_fragments as fragments
from .content.runbook import RunbookContent
from .plan import Plan, SignalRunbooks
from .rules import Alert
from .spec.model import Service, Team

SCHEMA_VERSION = 39
WIDTH, HEIGHT = 12, 8          # two panels a row, on Grafana's 24-column grid
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _text(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _panel(title: str, expr: str, description: str = "") -> dict:
    panel = {"type": "timeseries", "title": title, "datasource": DATASOURCE,
             "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": expr, "legendFormat": "__auto"}]}
    if description:
        panel["description"] = description
    return panel


# A comparison with a number in an alert's condition: the series it compares, drawn with the number as a line (red
# on the side that fires).
_FIRES_ABOVE = {">": True, ">=": True, "<": False, "<=": False}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def _promql(node) -> str:
    """PromQL text of a parsed node. promql-parser prints matcher values unescaped (a regex matcher's backslash is
    printed bare, which Prometheus refuses): each selector's matchers are written again as PromQL strings."""
    text = str(node)
    found = []

    def visit(n) -> None:
        if isinstance(n, promql_parser.VectorSelector):
            found.extend(n.matchers.matchers)
    promql_parser.walk(node, pre_visit=visit)
    for m in found:
        op = _MATCH_OPS[str(m.op)]
        text = text.replace(f'{m.name}{op}"{m.value}"', f"{m.name}{op}{fragments.string(m.value)}")
    return text


def thresholds(expr: str) -> list[tuple[str, str, float]]:
    """(compared expression, operator, number) of every `x > N`, `x < N` (and `N < x` read as `x > N`) in `expr`, in
    the order they appear."""
    out: list[tuple[str, str, float]] = []

    def visit(node) -> None:
        if isinstance(node, promql_parser.BinaryExpr):
            op = str(node.op)
            if op in _FIRES_ABOVE:
                if isinstance(node.rhs, promql_parser.NumberLiteral) and not isinstance(node.lhs, promql_parser.NumberLiteral):
                    out.append((_promql(node.lhs), op, float(node.rhs.val)))
                elif isinstance(node.lhs, promql_parser.NumberLiteral) and not isinstance(node.rhs, promql_parser.NumberLiteral):
                    out.append((_promql(node.rhs), _FLIPPED[op], float(node.lhs.val)))
    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return out


def _threshold_panel(alert: Alert, expr: str, op: str, value: float) -> dict:
    red, green = {"color": "red", "value": value}, {"color": "green", "value": value}
    steps = [{"color": "green", "value": None}, red] if _FIRES_ABOVE[op] else [{"color": "red", "value": None}, green]
    panel = _panel(f"{alert.alert}: {op} {value:g}", expr,
                   f"What {alert.alert} compares with {value:g} (it fires {'above' if _FIRES_ABOVE[op] else 'below'} "
                   "the line while its other conditions hold), the number its rule holds.")
    panel["fieldConfig"] = {"defaults": {"thresholds": {"mode": "absolute", "steps": steps},
                                         "custom": {"thresholdsStyle": {"mode": "line"}}}, "overrides": []}
    return panel


def _row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def _layout(sections: Iterable[tuple[str, list[dict]]]) -> list[dict]:
    """Rows and their panels on the grid, two panels a line, ids by position."""
    out: list[dict] = []
    y = 0
    for title, panels in sections:
        out.append({**_row(title), "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
        y += 1
        for i, panel in enumerate(panels):
            out.append({**panel, "gridPos": {"h": HEIGHT, "w": WIDTH, "x": (i % 2) * WIDTH, "y": y + (i // 2) * HEIGHT}})
        y += ((len(panels) + 1) // 2) * HEIGHT
    for i, panel in enumerate(out, 1):
        panel["id"] = i
    return out


def _dashboard(owner: str, source: str, title: str, tags: list[str], annotations: list[dict], sections) -> dict:
    return {
        "title": title, "uid": c.dashboard_uid(owner), "tags": [c.GENERATOR, *tags], "editable": False,
        # JSON has no comments: the generated-file notice every output file carries is the description.
        "description": f"Generated by {c.GENERATOR} from {source}: Grafana dashboard. Do not edit: change the spec "
                       "and run `make generate`.",
        "schemaVersion": SCHEMA_VERSION, "version": 1, "timezone": "browser", "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus"}]},
        "annotations": {"list": annotations},
        "panels": _layout(sections),
    }


def _queries(content: RunbookContent) -> Iterator[tuple[str, str]]:
    """(title, PromQL) of what a runbook tells the on-call to look at: its steps' queries, then its other queries."""
    for step in content.steps:
        if step.query:
            yield step.check, step.query
    for query in content.queries:
        yield query.title, query.expr


def service_dashboard(service: Service, signals: Iterable[tuple[str, SignalRunbooks]],
                      alerts: dict[str, tuple[Alert, ...]] | None = None) -> str:
    """The dashboard of one service: its firing alerts, then a row per signal: what each of its alerts compares with a
    number, against that number (`alerts` by signal), then its runbooks' queries."""
    mine = c.selector(**{c.SERVICE: service.name})[1:-1]
    firing = f'ALERTS{{{mine}, alertstate="firing"}}'
    sections = [("Alerts", [_panel("Firing alerts by tier", f"count by (alertname, {c.ESCALATION}) ({firing})",
                                   "Each alert of the service that is firing, per escalation tier.")])]
    for name, written in signals:
        seen: set[str] = set()
        panels = []
        for alert in (alerts or {}).get(name, ()):
            for expr, op, value in thresholds(alert.expr):
                if (expr, op, value) not in seen:
                    seen.add((expr, op, value))
                    panels.append(_threshold_panel(alert, expr, op, value))
        for alertname in written.content:
            content = written.content[alertname]
            for title, expr in _queries(content) if content else ():
                if expr not in seen:
                    seen.add(expr)
                    panels.append(_panel(title, expr, f"From the runbook of {alertname}."))
        if panels:
            sections.append((name, panels))
    annotations = [{"name": "Firing alerts", "datasource": DATASOURCE, "enable": True, "iconColor": "red",
                    "expr": firing, "step": "60s", "titleFormat": "{{alertname}}",
                    "tagKeys": f"{c.SEVERITY},{c.ESCALATION}"}]
    return _text(_dashboard(service.name, service.location.file, f"{service.name} ({c.GENERATOR})", [service.team],
                            annotations, sections))


def team_dashboard(team: Team) -> str:
    """A team's on-call overview: pages started per day and week, and firing now, from the on-call health rules."""
    mine = c.selector(**{c.TEAM: team.name})
    sections = [("On-call health", [
        _panel("Pages started in the last day", f"{c.PAGES_COUNT1D}{mine}"),
        _panel("Pages started in the last week", f"{c.PAGES_COUNT1W}{mine}"),
        _panel("Pages firing now", f"{c.PAGES_FIRING}{mine}"),
        _panel("Pages started per service and alert (per minute)",
               f"sum by ({c.SERVICE}, alertname) ({c.PAGES_STARTED}{mine})"),
        *([_panel("Pages started off hours in the last week", f"{c.PAGES_OFF_HOURS_COUNT1W}{mine}",
                  "Pages that started outside the team's business hours (spec.business_hours).")]
          if team.business_hours else []),
    ])]
    return _text(_dashboard(c.team_dashboard(team.name), team.location.file, f"On-call of {team.name} ({c.GENERATOR})",
                            [team.name], [], sections))


def service_files(plan: Plan, service: Service) -> Iterator[tuple[str, str]]:
    """The dashboard of `service`, from the runbook content `plan` holds for it (its part of the plan will do)."""
    signals = [(name, plan.runbooks[(service.name, name)]) for name in service.active_signals
               if (service.name, name) in plan.runbooks]
    alerts: dict[str, tuple[Alert, ...]] = {}
    for f in plan.rule_files_of.get(service.name, ()):
        for g in f.groups:
            alerts[g.key] = alerts.get(g.key, ()) + g.alerts
    yield c.dashboard_path(service.name), service_dashboard(service, signals, alerts)


def team_files(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every team's on-call overview."""
    for name in plan.specs.teams:
        yield from team_files_of(plan, name)


def team_files_of(plan: Plan, name: str) -> Iterator[tuple[str, str]]:
    """The on-call overview of team `name`."""
    yield c.dashboard_path(c.team_dashboard(name)), team_dashboard(plan.specs.teams[name])
