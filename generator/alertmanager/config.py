"""The routing tree, receivers, time intervals and inhibitions, from the teams and the routing root.

Order inside a team's route matters and is the point of the design:
1. remediation routes first, with `continue: true`: automation sees the alert, then routing goes on;
2. the secondary tier (escalation="secondary") before the primary, so a tier goes to one receiver only;
3. pages, tickets (only in business hours when the team says so), information.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import alerting_pipeline
from .. import conventions as c
from ..escalation import SECONDARY
from ..meta import WATCHDOG
from ..rules import Alert
from ..signals import REMEDIATION_ACTIONS, SIGNALS
from ..spec.model import Routing, Specs, Team, Timers
from ..spec.units import format_duration
from .receivers import full_name, render as render_receiver

PAGE_GROUP_BY = ["alertname", c.SERVICE, c.PROVIDER]
TICKET_GROUP_BY = ["alertname", c.SERVICE, c.SIGNAL]
REMEDIATION_GROUP_BY = ["alertname", c.SERVICE, c.PROVIDER, c.MODEL]


def _m(name: str, value: str, op: str = "=") -> str:
    """A matcher string with a double-quoted value, the only form Alertmanager 0.25 documents for `matchers`."""
    return f'{name}{op}"{value}"'


def _timers(t: Timers) -> dict:
    return {"group_wait": format_duration(t.group_wait), "group_interval": format_duration(t.group_interval),
            "repeat_interval": format_duration(t.repeat_interval)}


def business_hours_name(team: Team) -> str:
    return f"{team.name}/business-hours"


def team_route(team: Team) -> dict:
    """The subtree of one team."""
    name = lambda r: full_name(team.name, r)  # noqa: E731
    routes = []
    for action in REMEDIATION_ACTIONS:
        if action in team.remediation:
            routes.append({"receiver": name(team.remediation[action]), "matchers": [_m(c.REMEDIATION, action)],
                           "continue": True, "group_by": REMEDIATION_GROUP_BY, **_timers(team.remediation_timers)})
    if team.escalation.tiers:
        routes.append({"receiver": name(team.secondary), "matchers": [_m(c.SEVERITY, c.PAGE), _m(c.ESCALATION, SECONDARY)],
                       "group_by": PAGE_GROUP_BY, **_timers(team.page_timers)})
    routes.append({"receiver": name(team.primary), "matchers": [_m(c.SEVERITY, c.PAGE)],
                   "group_by": PAGE_GROUP_BY, **_timers(team.page_timers)})
    ticket = {"receiver": name(team.ticket), "matchers": [_m(c.SEVERITY, c.TICKET)],
              "group_by": TICKET_GROUP_BY, **_timers(team.ticket_timers)}
    if team.business_hours:
        ticket["active_time_intervals"] = [business_hours_name(team)]
    routes.append(ticket)
    routes.append({"receiver": name(team.info), "matchers": [_m(c.SEVERITY, c.INFO)],
                   "group_by": TICKET_GROUP_BY, **_timers(team.info_timers)})
    # Anything of the team that matches no child (say, a hand-written rule without severity) is a ticket.
    return {"receiver": name(team.ticket), "matchers": [_m(c.TEAM, team.name)], "group_by": TICKET_GROUP_BY,
            **_timers(team.ticket_timers), "routes": routes}


def pipeline_route(root: Routing) -> dict:
    """Alerts about alerting itself: the root's pipeline receiver, then (continue) the owning team's routes."""
    route = {"receiver": full_name(root.name, root.pipeline.receiver),
             "matchers": [_m(c.SIGNAL, alerting_pipeline.SIGNAL)], "group_by": PAGE_GROUP_BY,
             "group_wait": "0s", "group_interval": "1m", "repeat_interval": "1h"}
    if root.pipeline.team:
        route["continue"] = True
    return route


def inhibit_rules(specs: Specs) -> list[dict]:
    """Inhibitions from declared dependencies. None has an empty `equal` and none can mute a remediation alert."""
    rules = []
    for service in specs.services:
        # An outage of a provider the service depends on explains its latency, error and failover pages. Those
        # pages are service-level (no provider label), so the dependency is in the matchers; a standby
        # secondary going down explains nothing and mutes nothing.
        providers = "|".join(service.traffic_providers)
        rules.append({
            "source_matchers": [_m("alertname", c.alert_name("ProviderDown")), _m(c.SERVICE, service.name),
                                _m(c.PROVIDER, providers, "=~")],
            "target_matchers": [_m(c.SERVICE, service.name), _m(c.SEVERITY, c.PAGE),
                                _m(c.SIGNAL, "|".join(n for n, s in SIGNALS.items() if s.explained_by_outage), "=~"),
                                _m(c.REMEDIATION, "")],
            "equal": [c.TEAM, c.SERVICE],
        })
    return rules + [
        {   # A page makes the ticket for the same signal of the same service redundant. The pipeline's checks
            # watch different failures under one signal: none of them explains another.
            "source_matchers": [_m(c.SEVERITY, c.PAGE)],
            "target_matchers": [_m(c.SEVERITY, c.TICKET), _m(c.REMEDIATION, ""),
                                _m(c.SIGNAL, alerting_pipeline.SIGNAL, "!=")],
            "equal": [c.TEAM, c.SERVICE, c.SIGNAL],
        },
        {   # A growing spike is already paging sooner; the steady-spike page of the same tier adds nothing.
            "source_matchers": [_m("alertname", c.alert_name("ErrorRateSpikeGrowing"))],
            "target_matchers": [_m("alertname", c.alert_name("ErrorRateSpike"))],
            "equal": [c.TEAM, c.SERVICE, c.ESCALATION],
        },
    ]


def build(specs: Specs) -> dict:
    """The whole Alertmanager configuration; `specs.routing` must be set."""
    root: Routing = specs.routing
    receivers = [render_receiver(root.name, r) for r in root.receivers]
    for team in specs.teams.values():
        receivers += [render_receiver(team.name, r) for r in team.receivers]
    routes = [{"receiver": full_name(root.name, root.heartbeat), "matchers": [_m("alertname", WATCHDOG)],
               # Alertmanager resends only at a group_interval tick once repeat_interval has passed: with a
               # 1m/1m pair a tick lands a hair early and the heartbeat comes every 2m. 30s/50s beats every minute.
               "group_wait": "0s", "group_interval": "30s", "repeat_interval": "50s"}]
    routes.append(pipeline_route(root))
    routes += [team_route(t) for t in specs.teams.values()]
    config: dict = {
        "global": {"resolve_timeout": format_duration(root.resolve_timeout)},
        "route": {"receiver": full_name(root.name, root.fallback), "group_by": ["alertname", c.SERVICE],
                  "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h", "routes": routes},
        "inhibit_rules": inhibit_rules(specs),
        "receivers": receivers,
    }
    intervals = [{"name": business_hours_name(t), "time_intervals": [{
        "weekdays": list(t.business_hours.weekdays),
        "times": [{"start_time": t.business_hours.start, "end_time": t.business_hours.end}],
        "location": t.business_hours.location}]} for t in specs.teams.values() if t.business_hours]
    if intervals:
        config["time_intervals"] = intervals
    return config


@dataclass(frozen=True)
class RouteCase:
    """An alert's labels and the exact ordered receivers it must reach."""

    name: str
    labels: dict
    receivers: tuple[str, ...]


def expected_receivers(team: Team, labels: dict) -> tuple[str, ...]:
    """Where the spec says an alert with `labels` goes, read from the team's roles (not from the tree)."""
    out = []
    action = labels.get(c.REMEDIATION)
    if action:
        out.append(full_name(team.name, team.remediation[action]))
    severity = labels.get(c.SEVERITY)
    if severity == c.PAGE:
        tier = labels.get(c.ESCALATION) == SECONDARY
        out.append(full_name(team.name, team.secondary if tier else team.primary))
    elif severity == c.INFO:
        out.append(full_name(team.name, team.info))
    else:
        out.append(full_name(team.name, team.ticket))
    return tuple(out)


def expected_pipeline_receivers(specs: Specs, labels: dict) -> tuple[str, ...]:
    """Where a pipeline alert goes: the root's pipeline receiver, then the owning team's route for its severity."""
    root = specs.routing
    if root is None:
        return ()
    out = (full_name(root.name, root.pipeline.receiver),)
    if root.pipeline.team:
        out += expected_receivers(specs.teams[root.pipeline.team], labels)
    return out


def route_cases(plan) -> list[RouteCase]:
    """One routing case per generated alert and tier, plus the Watchdog, a foreign alert and an odd one."""
    specs: Specs = plan.specs
    root = specs.routing
    cases: list[RouteCase] = []
    seen: set[tuple] = set()
    by_service = {s.name: s for s in specs.services}
    for group in plan.groups:
        for rule in group.rules:
            if not isinstance(rule, Alert) or rule.alert == WATCHDOG:
                continue
            labels = {"alertname": rule.alert, **rule.label_map}
            key = tuple(sorted(labels.items()))
            if key in seen:
                continue
            seen.add(key)
            tier = " (secondary tier)" if labels.get(c.ESCALATION) == SECONDARY else ""
            extra = f" [{labels['reason']}]" if "reason" in labels else ""
            if labels[c.SIGNAL] == alerting_pipeline.SIGNAL:
                receivers = expected_pipeline_receivers(specs, labels)
            else:
                receivers = expected_receivers(specs.teams[by_service[labels[c.SERVICE]].team], labels)
            cases.append(RouteCase(f"{labels[c.SERVICE]}: {rule.alert}{tier}{extra}", labels, receivers))
    cases.append(RouteCase("the Watchdog reaches the heartbeat receiver", {"alertname": WATCHDOG, c.TEAM: c.GENERATOR,
                           c.SEVERITY: c.INFO, c.SIGNAL: "watchdog"}, (full_name(root.name, root.heartbeat),)))
    cases.append(RouteCase("an alert of no known team reaches the fallback receiver",
                           {"alertname": "SomethingElse", c.TEAM: "unknown-team", c.SEVERITY: c.PAGE},
                           (full_name(root.name, root.fallback),)))
    for team in specs.teams.values():
        cases.append(RouteCase(f"{team.name}: an alert without severity is a ticket",
                               {"alertname": "HandWritten", c.TEAM: team.name},
                               (full_name(team.name, team.ticket),)))
    return cases
