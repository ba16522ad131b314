"""The pipeline, top to bottom: load -> validate -> model -> compile -> render -> check runbooks. Writing: the CLI.

`Run` streams: each service is compiled and its promtool tests rendered before the next is compiled, and every
file is handed on (to the writer) as soon as it is rendered, so a run holds the compiled rules and runbook content
but never the output, nor more than one service's test scenarios. `build` is the same run kept whole in memory.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Iterator

from .compile import (Plan, RuleFile, SignalRunbooks, TestFile, active_signals, check_service_recorded_names,
                      compile_global, compile_service)
from .render import render_configuration, render_test_file
from .rules import Alert, Recording
from .runbooks.checks import check_page_links, check_pages
from .runbooks.collect import INDEX, collect as collect_runbooks
from .runbooks.pages import render_all as render_runbooks
from .signals import SIGNALS
from .spec.build import load_specs
from .spec.loader import format_path
from .spec.model import Service
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
    """The build allocates a large, long-lived, acyclic graph and frees little: the cyclic collector would only
    re-scan the growing heap (at 1,000 services a fifth of the CPU time). Reference counting still frees everything
    it can; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Run:
    """One compile of the specs under `paths` (loaded and validated on creation; raises SpecError on bad input),
    for plain Prometheus and `targets`.

    `files()` compiles and renders, yielding (path, content) one file at a time in no particular order, the
    manifest last; it raises SpecError where a service cannot be compiled or a runbook check fails, so a writer
    that swaps its output in only at the end leaves the output folder untouched. Afterwards `plan` holds the
    compiled plan (its test files without their scenarios unless `keep_scenarios`: they are what takes memory)."""

    def __init__(self, paths: list[Path], targets: tuple[str, ...] = (), keep_scenarios: bool = False):
        with _no_cyclic_gc():
            self.specs = load_specs(paths)
        self.services = tuple(self.specs.services)
        self.targets = targets
        self.keep_scenarios = keep_scenarios
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
            yield MANIFEST, manifest_text(paths)

    def _tests(self, files: list[TestFile], kept: list[TestFile]) -> Iterator[tuple[str, str]]:
        for f in files:
            yield f.path, render_test_file(f)
            kept.append(f if self.keep_scenarios else replace(f, scenarios=()))

    def _files(self, paths: set[str]) -> Iterator[tuple[str, str]]:
        specs = self.specs
        rule_files: list[RuleFile] = []
        test_files: list[TestFile] = []
        runbooks: dict[tuple[str, str], SignalRunbooks] = {}
        for service in specs.services:
            rules, tests, content = compile_service(service, specs.team_of(service))
            check_service_recorded_names(service, rules)
            yield from self._tests(tests, test_files)  # scenarios are rendered, then let go, service by service
            rule_files += rules
            runbooks.update(content)
        rules, tests = compile_global(specs)
        yield from self._tests(tests, test_files)
        self.plan = plan = Plan(specs, tuple(rule_files + rules), tuple(test_files), MappingProxyType(runbooks))
        yield from render_configuration(plan, self.targets)
        # Runbooks last: their checks need every other generated path, and each page's links are checked as it is
        # rendered, against those and the pages still to come.
        pages = collect_runbooks(plan)
        generated = paths | {p.path for p in pages if p.content is not None} | {INDEX}
        check_pages(plan, pages, generated)
        by_path = {p.path: p for p in pages}
        for path, text in render_runbooks(plan, pages):
            check_page_links(path, text, by_path.get(path), generated)
            yield path, text


def build(paths: list[Path], targets: tuple[str, ...] = ()) -> Result:
    """Compile the specs under `paths`, for plain Prometheus and `targets`, keeping every file in memory (in path
    order, the manifest included) and the whole plan; raises SpecError on bad input."""
    run = Run(paths, targets, keep_scenarios=True)
    files = dict(sorted(run.files()))
    return Result(run.services, run.plan, files, run.warnings)
