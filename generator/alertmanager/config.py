"""The routing tree, receivers, time intervals and inhibitions, from the teams and the routing root.

Order inside a team's route matters and is the point of the design:
1. remediation routes first, with `continue: true`: automation sees the alert, then routing goes on;
2. the secondary tier (escalation="secondary") before the primary, so a tier goes to one receiver only;
3. pages, tickets (only in business hours when the team says so), information.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Iterable

from .. import conventions as c
from ..meta import WATCHDOG
from ..plan import RouteCase, Routing as Compiled, TeamRouting
from ..rules import Alert, Group
from ..signals import REMEDIATION_ACTIONS, SIGNALS
from ..spec.model import Routing, Service, Specs, Team, Timers
from ..spec.units import format_duration
from .receivers import expected_pipeline_receivers, expected_receivers, full_name, render as render_receiver

PAGE_GROUP_BY = ["alertname", c.SERVICE, c.PROVIDER]
TICKET_GROUP_BY = ["alertname", c.SERVICE, c.SIGNAL]
REMEDIATION_GROUP_BY = ["alertname", c.SERVICE, c.PROVIDER, c.MODEL]


def _timers(t: Timers) -> dict:
    return {"group_wait": format_duration(t.group_wait), "group_interval": format_duration(t.group_interval),
            "repeat_interval": format_duration(t.repeat_interval)}


def team_route(team: Team) -> dict:
    """The subtree of one team."""
    name = lambda r: full_name(team.name, r)  # noqa: E731
    routes = []
    for action in REMEDIATION_ACTIONS:
        if action in team.remediation:
            routes.append({"receiver": name(team.remediation[action]), "matchers": [c.am_matcher(c.REMEDIATION, action)],
                           "continue": True, "group_by": REMEDIATION_GROUP_BY, **_timers(team.remediation_timers)})
    if team.escalation.tiers:
        routes.append({"receiver": name(team.secondary), "matchers": [c.am_matcher(c.SEVERITY, c.PAGE), c.am_matcher(c.ESCALATION, c.SECONDARY)],
                       "group_by": PAGE_GROUP_BY, **_timers(team.page_timers)})
    routes.append({"receiver": name(team.primary), "matchers": [c.am_matcher(c.SEVERITY, c.PAGE)],
                   "group_by": PAGE_GROUP_BY, **_timers(team.page_timers)})
    ticket = {"receiver": name(team.ticket), "matchers": [c.am_matcher(c.SEVERITY, c.TICKET)],
              "group_by": TICKET_GROUP_BY, **_timers(team.ticket_timers)}
    if team.business_hours:
        ticket["active_time_intervals"] = [c.business_hours_interval(team.name)]
    routes.append(ticket)
    routes.append({"receiver": name(team.info), "matchers": [c.am_matcher(c.SEVERITY, c.INFO)],
                   "group_by": TICKET_GROUP_BY, **_timers(team.info_timers)})
    # Anything of the team that matches no child (say, a hand-written rule without severity) is a ticket.
    return {"receiver": name(team.ticket), "matchers": [c.am_matcher(c.TEAM, team.name)], "group_by": TICKET_GROUP_BY,
            **_timers(team.ticket_timers), "routes": routes}


def pipeline_route(root: Routing) -> dict:
    """Alerts about alerting itself: the root's pipeline receiver, then (continue) the owning team's routes."""
    route = {"receiver": full_name(root.name, root.pipeline.receiver),
             "matchers": [c.am_matcher(c.SIGNAL, c.PIPELINE_SIGNAL)], "group_by": PAGE_GROUP_BY,
             "group_wait": "0s", "group_interval": "1m", "repeat_interval": "1h"}
    if root.pipeline.team:
        route["continue"] = True
    return route


def service_inhibitions(service: Service) -> tuple[dict, ...]:
    """The inhibitions the signals need for `service`."""
    explained = tuple(n for n, s in SIGNALS.items() if s.explained_by_outage)
    return tuple(r for s in SIGNALS.values() for r in s.inhibitions(service, explained))


# A page makes the ticket for the same signal of the same service redundant. The pipeline's checks watch different
# failures under one signal: none of them explains another.
PAGE_MUTES_TICKET = {
    "source_matchers": [c.am_matcher(c.SEVERITY, c.PAGE)],
    "target_matchers": [c.am_matcher(c.SEVERITY, c.TICKET), c.am_matcher(c.REMEDIATION, ""),
                        c.am_matcher(c.SIGNAL, c.PIPELINE_SIGNAL, "!=")],
    "equal": [c.TEAM, c.SERVICE, c.SIGNAL],
}


def _team(team: Team) -> TeamRouting:
    intervals = () if not team.business_hours else ({
        "name": c.business_hours_interval(team.name), "time_intervals": [{
            "weekdays": list(team.business_hours.weekdays),
            "times": [{"start_time": team.business_hours.start, "end_time": team.business_hours.end}],
            "location": team.business_hours.location}]},)
    return TeamRouting(team_route(team), tuple(render_receiver(team.name, r) for r in team.receivers), intervals)


def compile(specs: Specs, groups: Iterable[Group]) -> Compiled | None:
    """Alertmanager's configuration and the routing cases of the alerts in `groups` (None: no routing root)."""
    root: Routing | None = specs.routing
    if root is None:
        return None
    heartbeat = {"receiver": full_name(root.name, root.heartbeat), "matchers": [c.am_matcher("alertname", WATCHDOG)],
                 # Alertmanager resends only at a group_interval tick once repeat_interval has passed: with a
                 # 1m/1m pair a tick lands a hair early and the heartbeat comes every 2m. 30s/50s beats every minute.
                 "group_wait": "0s", "group_interval": "30s", "repeat_interval": "50s"}
    return Compiled(
        settings={"resolve_timeout": format_duration(root.resolve_timeout)},
        root={"receiver": full_name(root.name, root.fallback), "group_by": ["alertname", c.SERVICE],
              "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"},
        root_routes=(heartbeat, pipeline_route(root)),
        root_receivers=tuple(render_receiver(root.name, r) for r in root.receivers),
        teams=MappingProxyType({name: _team(t) for name, t in specs.teams.items()}),
        service_inhibitions=MappingProxyType({s.name: service_inhibitions(s) for s in specs.services}),
        shared_inhibitions=(PAGE_MUTES_TICKET, *(r for s in SIGNALS.values() for r in s.shared_inhibitions())),
        cases=tuple(route_cases(specs, groups)),
    )


def route_cases(specs: Specs, groups: Iterable[Group]) -> list[RouteCase]:
    """One routing case per generated alert and tier, plus the Watchdog, a foreign alert and an odd one."""
    root = specs.routing
    cases: list[RouteCase] = []
    seen: set[tuple] = set()
    by_service = {s.name: s for s in specs.services}
    for group in groups:
        for rule in group.rules:
            if not isinstance(rule, Alert) or rule.alert == WATCHDOG:
                continue
            labels = {"alertname": rule.alert, **rule.label_map}
            key = tuple(sorted(labels.items()))
            if key in seen:
                continue
            seen.add(key)
            tier = " (secondary tier)" if labels.get(c.ESCALATION) == c.SECONDARY else ""
            extra = f" [{labels['reason']}]" if "reason" in labels else ""
            if labels[c.SIGNAL] == c.PIPELINE_SIGNAL:
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
