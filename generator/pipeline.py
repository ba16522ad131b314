"""The pipeline, top to bottom: load -> validate -> model -> compile -> render -> check runbooks. Writing: the CLI.

`Run` streams: each service is compiled, and its promtool tests and runbooks rendered and checked, before the next is
compiled, and every file is handed on (to the writer) as soon as it is rendered, so a run holds the compiled rules
(the rule files, Alertmanager's routing cases and Prometheus' flags come last and need them all) but never the output,
nor more than one service's test scenarios and runbook content. `build` is the same run kept whole in memory.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Iterator

from . import dashboards
from .compile import (active_signals, check_service_recorded_names, compile_global, compile_service, finish,
                      placement)
from .plan import Plan, RuleFile, SignalRunbooks, TestFile
from .render import render_configuration, render_test_file
from .rules import Alert, Recording
from .runbooks.checks import check_alerts_have_runbooks, check_decision_trees, check_notes, link_error, page_links
from .runbooks.collect import INDEX, Page, collect as collect_runbooks
from .runbooks.pages import render_index, render_pages
from .signals import SIGNALS
from .spec import deploy
from .spec.build import load_specs
from .spec.loader import format_path
from .spec.model import Service
from .targets import operator
from .targets.files import MANIFEST, manifest_text


@dataclass(frozen=True)
class Result:
    services: tuple[Service, ...]
    plan: Plan
    files: dict[str, str]
    warnings: tuple[str, ...]

    @property
    def alert_count(self) -> int:
        return alert_count(self.plan)

    @property
    def recording_count(self) -> int:
        return recording_count(self.plan)


def alert_count(plan: Plan) -> int:
    return sum(isinstance(r, Alert) for g in plan.groups for r in g.rules)


def recording_count(plan: Plan) -> int:
    return sum(isinstance(r, Recording) for g in plan.groups for r in g.rules)


def warnings_for(service: Service) -> list[str]:
    """Advice on a service's settings that does not stop generation."""
    out = []
    for name in active_signals(service):
        for path, message in SIGNALS[name].warnings(service, service.signals[name]):
            full = ("spec", "signals", name) + tuple(path)
            out.append(f"{service.locate(full)}: {format_path(full)}: {message}")
    return out


@contextmanager
def _no_cyclic_gc():
    """The run keeps a large, long-lived, acyclic graph (every service's compiled rules): the cyclic collector would
    only re-scan the growing heap (at 1,000 services a fifth of the CPU time). Reference counting frees the rest, as
    long as nothing rendered forms a reference cycle (see `yamltext._walk`): a cycle would live until the run ends.
    The collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Run:
    """One compile of the specs under `paths` (loaded and validated on creation; raises SpecError on bad input),
    for plain Prometheus and `targets` (the thanos target's files split across `thanos_shards` rulers).

    `files()` compiles and renders, yielding (path, content) one file at a time in no particular order, the
    manifest (which records `targets`) last; it raises SpecError where a service cannot be compiled or a runbook check fails, so a writer
    that swaps its output in only at the end leaves the output folder untouched. Afterwards `plan` holds the
    compiled plan (without its test scenarios and runbook content unless `keep`: they are what takes memory)."""

    def __init__(self, paths: list[Path], targets: tuple[str, ...] = (), keep: bool = False, thanos_shards: int = 1):
        with _no_cyclic_gc():
            self.specs = load_specs(paths)
        self.services = tuple(self.specs.services)
        self.targets = targets
        self.thanos_shards = thanos_shards
        self.keep = keep
        self.plan: Plan | None = None
        self.file_count = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for s in self.services for w in warnings_for(s))

    def files(self) -> Iterator[tuple[str, str]]:
        with _no_cyclic_gc():
            paths: set[str] = set()
            for path, text in self._files(paths):
                paths.add(path)
                yield path, text
            self.file_count = len(paths) + 1
            yield MANIFEST, manifest_text(paths, self.targets, self.thanos_shards)

    def _tests(self, files: list[TestFile], kept: list[TestFile]) -> Iterator[tuple[str, str]]:
        for f in files:
            yield f.path, render_test_file(f)
            kept.append(f if self.keep else replace(f, scenarios=()))

    def _runbooks(self, part: Plan, services: tuple[Service, ...], paths: set[str], pages: list[Page],
                  links: list[tuple[str, Page, str, str]]) -> Iterator[tuple[str, str]]:
        """The runbook pages of `part` (one service's plan, or the rules of no service), checked: their alerts, notes
        and decision trees now, their links as each page is rendered, against the paths generated so far and the
        part's own (a link to anything else is kept in `links`, to be checked once every path is known)."""
        mine = collect_runbooks(part)
        written = {p.path for p in mine if p.content is not None}
        check_notes(part, services)
        check_alerts_have_runbooks(part, mine, written)
        check_decision_trees(mine)
        known = written | {f.path for f in part.rule_files} | {INDEX}
        by_path = {p.path: p for p in mine}
        for path, text in render_pages(part, mine):
            for target, resolved in page_links(path, text):
                if resolved not in known and resolved not in paths:
                    links.append((path, replace(by_path[path], content=None), target, resolved))
            yield path, text
        pages += [replace(p, content=None) for p in mine]  # the index needs their alerts, not their text

    def _files(self, paths: set[str]) -> Iterator[tuple[str, str]]:
        specs = self.specs
        rule_files: list[RuleFile] = []
        test_files: list[TestFile] = []
        runbooks: dict[tuple[str, str], SignalRunbooks] = {}
        pages: list[Page] = []
        links: list[tuple[str, Page, str, str]] = []
        on_operator = {s.name for s in placement(specs, self.targets)[deploy.OPERATOR]}
        for service in specs.services:
            rules, tests, content = compile_service(service, specs.team_of(service))
            check_service_recorded_names(service, rules)
            kept: list[TestFile] = []
            yield from self._tests(tests, kept)  # scenarios are rendered, then let go, service by service
            part = Plan(specs, tuple(rules), tuple(kept), MappingProxyType(content))
            yield from self._runbooks(part, (service,), paths, pages, links)  # and so is runbook content
            written = list(dashboards.service_files(part, service))  # whose queries its dashboard graphs
            yield from written
            if service.name in on_operator:
                yield from operator.dashboard_configmaps(service.name, service.location.file, written)
            rule_files += rules
            test_files += kept
            if self.keep:
                runbooks.update(content)
        rules, tests, content = compile_global(specs)
        kept = []
        yield from self._tests(tests, kept)
        yield from self._runbooks(Plan(specs, tuple(rules), tuple(kept), MappingProxyType(content)), (), paths, pages,
                                  links)
        if self.keep:
            runbooks.update(content)
        self.plan = plan = finish(specs, tuple(rule_files + rules), tuple(test_files + kept), runbooks, self.targets,
                                  self.thanos_shards)
        yield from render_configuration(plan)
        yield from dashboards.team_files(plan)
        yield INDEX, render_index(plan, tuple(pages))
        for path, page, target, resolved in links:
            if resolved not in paths:
                raise link_error(path, page, target, resolved)


def build(paths: list[Path], targets: tuple[str, ...] = (), thanos_shards: int = 1) -> Result:
    """Compile the specs under `paths`, for plain Prometheus and `targets`, keeping every file in memory (in path
    order, the manifest included) and the whole plan; raises SpecError on bad input."""
    run = Run(paths, targets, keep=True, thanos_shards=thanos_shards)
    files = dict(sorted(run.files()))
    return Result(run.services, run.plan, files, run.warnings)
