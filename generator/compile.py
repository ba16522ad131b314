"""Model in, compiled plan out: which rule groups go in which file, and which tests load which files.

Pure: no I/O. The renderer turns the plan into file contents; the writer puts them on disk.
"""
from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Mapping

from . import conventions as c
from . import alerting_pipeline, decision_proof, escalation, meta, outage, sli
from .alertmanager import config as routing
from .content.runbook import RunbookContent
from .plan import GLOBAL, Plan, RuleFile, SignalRunbooks, TestFile
from .rules import Output, Recording
from .spec import deploy
from .spec.errors import SpecError
from .spec.loader import format_path
from .signals import SIGNALS
from .spec.model import Pipeline, Service, Specs, Team

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
                written = signal.runbook(service, cfg, alert)
                held = written is not None and outage.RECENT in alert.expr
                content[alert.alert] = replace(written, outage_quiet=outage.QUIET_AFTER) if held else written
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
    recorder = next((name for name in active if SIGNALS[name].records_outages), None)
    for name in active:
        signal = SIGNALS[name]
        cfg = service.signals[name]
        compiled = signal.rules(service, cfg)
        out = Output(compiled.groups, signal.scenarios(service, cfg, compiled.groups), compiled.requires)
        if signal.explained_by_outage and recorder:
            requires = out.requires if recorder in out.requires else (recorder,) + out.requires
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


def compile_global(specs: Specs) -> tuple[list[RuleFile], list[TestFile], dict[tuple[str, str], SignalRunbooks]]:
    """The rules of no service, on-call health and the alerting pipeline, their tests and their runbook content."""
    rule_files, test_files, runbooks = [], [], {}
    pipeline = specs.routing.pipeline if specs.routing else Pipeline()
    example_page = next(s.alerts["page"] for s in SIGNALS.values() if "page" in s.alerts)
    for key, out, runbook in ((meta.GROUP_KEY, meta.build(example_page, specs.teams.values()), lambda alert: meta.runbook(specs.routing)),
                              (alerting_pipeline.GROUP_KEY, alerting_pipeline.build(pipeline),
                               lambda alert: alerting_pipeline.runbook(alert, specs.routing))):
        path = c.rules_path(GLOBAL, key)
        rule_files.append(RuleFile(path, "all specs", out.groups))
        test_files.append(TestFile(c.test_path(GLOBAL, key), "all specs", (path,), out.scenarios, None,
                                   tuple(g.name for g in out.groups)))
        for group in out.groups:
            for alert in group.alerts:
                mine = runbooks.setdefault((GLOBAL, alert.signal), {})
                mine.setdefault(alert.alert, runbook(alert))
    return rule_files, test_files, {k: SignalRunbooks(MappingProxyType(v), ()) for k, v in runbooks.items()}


def placement(specs: Specs, run_targets: tuple[str, ...]) -> dict[str, tuple[Service, ...]]:
    """The services each target packages: plain Prometheus all of them; another target all of them when the run asks
    for it, else those whose spec does."""
    out = {deploy.PLAIN: specs.services}
    for name in deploy.EXTRA_TARGETS:
        out[name] = specs.services if name in run_targets else tuple(
            s for s in specs.services if name in s.deploy.targets)
    return out


def finish(specs: Specs, rule_files: tuple[RuleFile, ...], test_files: tuple[TestFile, ...],
           runbooks: Mapping[tuple[str, str], SignalRunbooks], run_targets: tuple[str, ...],
           thanos_shards: int = 1) -> Plan:
    """The whole plan, once every service's rules are compiled: Alertmanager's routing and its cases (they need every
    alert), where each target runs which services, and the pipeline checks of the Mimir tenants."""
    placed = placement(specs, run_targets)
    tenants = tuple(sorted({s.deploy.tenant for s in placed[deploy.MIMIR]}))
    pipeline = specs.routing.pipeline if specs.routing else Pipeline()
    return Plan(specs, rule_files, test_files, MappingProxyType(dict(runbooks)),
                routing=routing.compile(specs, (g for f in rule_files for g in f.groups)),
                placement=MappingProxyType(placed),
                tenant_pipeline=alerting_pipeline.mimir_group(pipeline, tenants) if tenants else None,
                thanos_shards=thanos_shards)


def check_service_recorded_names(service: Service, rule_files: tuple[RuleFile, ...] | list[RuleFile]) -> None:
    """Two groups of one service recording the same series would write the same samples twice (Prometheus drops
    one as a duplicate, at random): refuse it, at the settings of the signal that chose the name. `rule_files`: those
    of the service will do."""
    service_name = service.name
    first: dict[str, str] = {}
    for f in rule_files:
        for group in f.groups:
            if f.owner != service_name:
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
