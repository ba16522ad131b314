"""Model in, compiled plan out: which rule groups go in which file, and which tests load which files.

Pure: no I/O. The renderer turns the plan into file contents; the writer puts them on disk.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Mapping

from . import conventions as c
from . import alerting_pipeline, decision_proof, escalation, meta, outage, sli
from .rules import Alert, Group, Output, Recording, Scenario
from .runbooks.content import RunbookContent, Threshold
from .spec.errors import SpecError
from .spec.loader import format_path
from .signals import SIGNALS, provider_down
from .spec.model import Pipeline, Service, Specs, Team

GLOBAL = c.GENERATOR  # the folder of rules that belong to no service
PROVIDER_DOWN = provider_down.NAME  # records the outages other signals are held back by (see outage.py)


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
class Plan:
    specs: Specs
    rule_files: tuple[RuleFile, ...]
    test_files: tuple[TestFile, ...]
    # By (service, signal): the runbook layer reads these and never calls back into the signals.
    runbooks: Mapping[tuple[str, str], SignalRunbooks] = field(default_factory=dict)

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


def active_signals(service: Service) -> list[str]:
    """Names of the signals that generate rules for `service`, in registry order."""
    return list(service.active_signals)


def runbooks_of(service: Service, name: str, out: Output) -> SignalRunbooks:
    """The runbook content of each alert a signal emitted (tiers share their page's), and its threshold rows."""
    signal, cfg = SIGNALS[name], service.signals[name]
    content: dict[str, RunbookContent | None] = {}
    for group in out.groups:
        for alert in group.alerts:
            if alert.alert not in content:
                content[alert.alert] = signal.runbook(service, cfg, alert)
    return SignalRunbooks(MappingProxyType(content), signal.thresholds(service, cfg))


def compile_service(service: Service, team: Team | None = None
                    ) -> tuple[list[RuleFile], list[TestFile], dict[tuple[str, str], SignalRunbooks]]:
    """The rule and test files of one service, and its signals' runbook content; pages get a secondary tier when its
    team escalates in Prometheus."""
    source = service.location.file
    active = active_signals(service)
    windows = tuple(w for name in active for w in SIGNALS[name].rate_windows(service, service.signals[name]))
    rules = [RuleFile(c.rules_path(service.name, sli.GROUP_KEY), source, (sli.build(service, windows),), service.name)]
    tests = []
    runbooks = {}
    by_path = {}
    outage_recorded = PROVIDER_DOWN in active
    for name in active:
        signal = SIGNALS[name]
        out = signal.build(service, service.signals[name])
        if signal.explained_by_outage and outage_recorded:
            requires = out.requires if PROVIDER_DOWN in out.requires else (PROVIDER_DOWN,) + out.requires
            out = replace(outage.hold_back(service, out, signal.history(service, service.signals[name])),
                          requires=requires)
        if team is not None and team.escalation.tiers:
            out = escalation.add_tiers(service, out, team.escalation.secondary_after)
        runbooks[(service.name, name)] = runbooks_of(service, name, out)
        out = decision_proof.prove_branches(out, runbooks[(service.name, name)].content)
        path = c.rules_path(service.name, name)
        rules.append(RuleFile(path, source, out.groups, service.name))
        by_path[path] = out.groups
        by_path[rules[0].path] = rules[0].groups
        if out.scenarios:
            needed = ([c.rules_path(service.name, sli.GROUP_KEY)] if signal.requires_sli else []) + \
                     [c.rules_path(service.name, r) for r in out.requires] + [path]
            order = tuple(g.name for p in needed for g in by_path[p])
            # promtool evaluates a whole file at one interval: scenarios that need days of history run at a
            # coarser one, in a file of their own.
            # The firing boundary scenarios may run at a finer one, to see a `for` end (`boundaries.for_step`).
            intervals = sorted({s.evaluation_interval for s in out.scenarios})
            plain = 60 if 60 in intervals else intervals[-1]
            for interval in sorted(intervals, key=lambda i: i != plain):  # the plain one first: runbooks link it
                scenarios = tuple(s for s in out.scenarios if s.evaluation_interval == interval)
                key = name if interval == plain else f"{name}.{c.window(interval)}"
                tests.append(TestFile(c.test_path(service.name, key), source, tuple(needed), scenarios, service, order))
    return rules, tests, runbooks


def compile_global(specs: Specs) -> tuple[list[RuleFile], list[TestFile]]:
    """The rules of no service, on-call health and the alerting pipeline, and their tests."""
    rule_files, test_files = [], []
    pipeline = specs.routing.pipeline if specs.routing else Pipeline()
    for key, out in ((meta.GROUP_KEY, meta.build()), (alerting_pipeline.GROUP_KEY, alerting_pipeline.build(pipeline))):
        path = c.rules_path(GLOBAL, key)
        rule_files.append(RuleFile(path, "all specs", out.groups))
        test_files.append(TestFile(c.test_path(GLOBAL, key), "all specs", (path,), out.scenarios, None,
                                   tuple(g.name for g in out.groups)))
    return rule_files, test_files


def compile_all(specs: Specs) -> Plan:
    """The whole plan for every service, plus the rules of no service: on-call health and the alerting pipeline."""
    rule_files: list[RuleFile] = []
    test_files: list[TestFile] = []
    runbooks: dict[tuple[str, str], SignalRunbooks] = {}
    for service in specs.services:
        r, t, b = compile_service(service, specs.team_of(service))
        rule_files += r
        test_files += t
        runbooks.update(b)
    r, t = compile_global(specs)
    return Plan(specs, tuple(rule_files + r), tuple(test_files + t), MappingProxyType(runbooks))


def check_recorded_names(plan: Plan) -> None:
    """Two groups of one service recording the same series would write the same samples twice (Prometheus
    drops one as a duplicate, at random): refuse it, at the settings of the signal that chose the name."""
    for service in {s.name: s for s in plan.services}.values():
        check_service_recorded_names(service, plan.rule_files_of.get(service.name, ()))


def check_service_recorded_names(service: Service, rule_files: tuple[RuleFile, ...] | list[RuleFile]) -> None:
    """`check_recorded_names` for one service, over `rule_files` (those of the service will do)."""
    service_name = service.name
    first: dict[str, str] = {}
    for f in rule_files:
        for group in f.groups:
            if not group.name.startswith(f"{c.GENERATOR}-{service_name}-"):
                continue
            for rule in group.rules:
                if not isinstance(rule, Recording):
                    continue
                owner = first.setdefault(rule.record, group.key)
                if owner != group.key:
                    signal = group.key if group.key in SIGNALS else owner
                    keys = [k for k, p in SIGNALS[signal].schema.items() if p.get("x-rate-window")]
                    path = ("spec", "signals", signal) + tuple(keys[:1])
                    raise SpecError(service.locate(path), format_path(path),
                                    f"records {rule.record}, which the {owner if owner != signal else group.key} "
                                    "group records too: choose another value")
