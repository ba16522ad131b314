"""The compiled plan, plain data: which rule groups go in which file, which tests load which files, and what each
signal wrote for its runbooks. Compile builds it; the renderers, the targets and the runbook pages only read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

from . import conventions as c
from .content.runbook import RunbookContent, Threshold
from .rules import Alert, Group, Scenario
from .spec.model import Service, Specs

GLOBAL = c.GENERATOR  # the folder of rules that belong to no service


@dataclass(frozen=True)
class RuleFile:
    path: str                 # relative to the output folder
    source: str               # the spec it came from (or "all specs")
    groups: tuple[Group, ...]
    owner: str = GLOBAL       # the service whose rules these are (GLOBAL: rules of no service)


@dataclass(frozen=True)
class TestFile:
    path: str
    source: str
    rule_files: tuple[str, ...]     # relative to the output folder
    scenarios: tuple[Scenario, ...]
    service: Service | None
    group_order: tuple[str, ...]    # promtool otherwise evaluates groups in map order: SLIs must go first


@dataclass(frozen=True)
class SignalRunbooks:
    """What one signal of one service says in its runbooks: content per alert name, and its threshold rows."""

    content: Mapping[str, RunbookContent | None]
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class RouteCase:
    """An alert's labels and the exact ordered receivers it must reach."""

    name: str
    labels: dict
    receivers: tuple[str, ...]


@dataclass(frozen=True)
class TeamRouting:
    """One team's part of Alertmanager's configuration."""

    route: dict                           # the team's subtree of the routing tree
    receivers: tuple[dict, ...]
    time_intervals: tuple[dict, ...]      # its business hours, if it has any


@dataclass(frozen=True)
class Routing:
    """Alertmanager's configuration as compile decided it, in the pieces the targets assemble: the whole tree for
    plain Alertmanager, a tenant's teams for Mimir, one team per AlertmanagerConfig for the operator."""

    settings: dict                        # `global`
    root: dict                            # the root route, without its child routes
    root_routes: tuple[dict, ...]         # the heartbeat's and the pipeline's, before every team's
    root_receivers: tuple[dict, ...]
    teams: Mapping[str, TeamRouting]      # in the specs' order
    service_inhibitions: Mapping[str, tuple[dict, ...]]  # by service, in the specs' order
    shared_inhibitions: tuple[dict, ...]  # those of every service
    cases: tuple[RouteCase, ...]          # amtool's routing cases

    def inhibitions(self, services: Iterable[str] | None = None) -> list[dict]:
        """The inhibitions of `services` (default: every service), then the shared ones."""
        names = self.service_inhibitions if services is None else services
        return [r for name in names for r in self.service_inhibitions[name]] + list(self.shared_inhibitions)

    def config(self, teams: Iterable[str] | None = None, services: Iterable[str] | None = None) -> dict:
        """alertmanager.yml for `teams` and `services` (default: all of them)."""
        mine = [self.teams[t] for t in (self.teams if teams is None else teams)]
        config: dict = {
            "global": self.settings,
            "route": {**self.root, "routes": [*self.root_routes, *(t.route for t in mine)]},
            "inhibit_rules": self.inhibitions(services),
            "receivers": [*self.root_receivers, *(r for t in mine for r in t.receivers)],
        }
        intervals = [i for t in mine for i in t.time_intervals]
        if intervals:
            config["time_intervals"] = intervals
        return config


@dataclass(frozen=True)
class Plan:
    specs: Specs
    rule_files: tuple[RuleFile, ...]
    test_files: tuple[TestFile, ...]
    # By (service, signal), GLOBAL for the rules of no service: the runbook layer reads these and never calls back
    # into what wrote them.
    runbooks: Mapping[tuple[str, str], SignalRunbooks] = field(default_factory=dict)
    routing: Routing | None = None        # None: the specs have no AlertmanagerRouting
    # The services each target packages (plain Prometheus: all of them), and the meta-monitoring group a Mimir
    # deployment's pipeline checks need (None: no service is on Mimir).
    placement: Mapping[str, tuple[Service, ...]] = field(default_factory=dict)
    tenant_pipeline: Group | None = None
    thanos_shards: int = 1                # Thanos rulers the thanos target's files are split across (1: not split)

    @property
    def services(self) -> tuple[Service, ...]:
        return self.specs.services

    @cached_property
    def groups(self) -> tuple[Group, ...]:
        return tuple(g for f in self.rule_files for g in f.groups)

    @cached_property
    def rule_files_of(self) -> dict[str, tuple[RuleFile, ...]]:
        """The rule files of each owner (a service, or GLOBAL), in plan order: targets package them per service."""
        out: dict[str, list[RuleFile]] = {}
        for f in self.rule_files:
            out.setdefault(f.owner, []).append(f)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def alerts_by_service(self) -> dict[str, tuple[Alert, ...]]:
        """Every alert rule of each service, in rule order (lookups per page must not rescan the plan)."""
        out: dict[str, list[Alert]] = {}
        for group in self.groups:
            for alert in group.alerts:
                out.setdefault(alert.label_map.get(c.SERVICE, ""), []).append(alert)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def test_file_of(self) -> dict[str, str]:
        """The unit-test file of each signal rule file (the last rule file a test loads is its own)."""
        out: dict[str, str] = {}
        for t in self.test_files:
            if t.rule_files:
                out.setdefault(t.rule_files[-1], t.path)
        return out
