"""Model in, compiled plan out: which rule groups go in which file, and which tests load which files.

Pure: no I/O. The renderer turns the plan into file contents; the writer puts them on disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import conventions as c
from . import escalation, meta, sli
from .rules import Alert, Group, Scenario
from .signals import SIGNALS
from .spec.model import Service, Specs, Team

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
class Plan:
    specs: Specs
    rule_files: tuple[RuleFile, ...]
    test_files: tuple[TestFile, ...]

    @property
    def services(self) -> tuple[Service, ...]:
        return self.specs.services

    @cached_property
    def groups(self) -> tuple[Group, ...]:
        return tuple(g for f in self.rule_files for g in f.groups)

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
        return {t.rule_files[-1]: t.path for t in self.test_files if t.rule_files}


def active_signals(service: Service) -> list[str]:
    """Names of the signals that generate rules for `service`, in registry order."""
    return [name for name, sig in SIGNALS.items() if sig.active(service, service.signals[name])]


def compile_service(service: Service, team: Team | None = None) -> tuple[list[RuleFile], list[TestFile]]:
    """The rule and test files of one service; pages get a secondary tier when its team escalates in Prometheus."""
    source = service.location.file
    rules = [RuleFile(c.rules_path(service.name, sli.GROUP_KEY), source, (sli.build(service),), service.name)]
    tests = []
    by_path = {}
    for name in active_signals(service):
        signal = SIGNALS[name]
        out = signal.build(service, service.signals[name])
        if team is not None and team.escalation.tiers:
            out = escalation.add_tiers(service, out, team.escalation.secondary_after)
        path = c.rules_path(service.name, name)
        rules.append(RuleFile(path, source, out.groups, service.name))
        by_path[path] = out.groups
        by_path[rules[0].path] = rules[0].groups
        if out.scenarios:
            needed = ([c.rules_path(service.name, sli.GROUP_KEY)] if signal.requires_sli else []) + \
                     [c.rules_path(service.name, r) for r in out.requires] + [path]
            order = tuple(g.name for p in needed for g in by_path[p])
            tests.append(TestFile(c.test_path(service.name, name), source, tuple(needed), out.scenarios, service, order))
    return rules, tests


def compile_all(specs: Specs) -> Plan:
    """The whole plan for every service, plus the global on-call health rules."""
    rule_files: list[RuleFile] = []
    test_files: list[TestFile] = []
    for service in specs.services:
        r, t = compile_service(service, specs.team_of(service))
        rule_files += r
        test_files += t
    health = meta.build()
    path = c.rules_path(GLOBAL, meta.GROUP_KEY)
    rule_files.append(RuleFile(path, "all specs", health.groups))
    test_files.append(TestFile(c.test_path(GLOBAL, meta.GROUP_KEY), "all specs", (path,), health.scenarios, None,
                               tuple(g.name for g in health.groups)))
    return Plan(specs, tuple(rule_files), tuple(test_files))
