"""The pipeline, top to bottom: load -> validate -> model -> compile -> render -> check runbooks. Writing: the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .compile import Plan, active_signals, check_recorded_names, compile_all
from .render import render
from .rules import Alert, Recording
from .runbooks.checks import check_all as check_runbooks
from .signals import SIGNALS
from .spec.build import load_specs
from .spec.loader import format_path
from .spec.model import Service


@dataclass(frozen=True)
class Result:
    services: tuple[Service, ...]
    plan: Plan
    files: dict[str, str]
    warnings: tuple[str, ...]

    @property
    def alert_count(self) -> int:
        return sum(isinstance(r, Alert) for g in self.plan.groups for r in g.rules)

    @property
    def recording_count(self) -> int:
        return sum(isinstance(r, Recording) for g in self.plan.groups for r in g.rules)


def warnings_for(service: Service) -> list[str]:
    """Advice on a service's settings that does not stop generation."""
    out = []
    for name in active_signals(service):
        for path, message in SIGNALS[name].warnings(service, service.signals[name]):
            full = ("spec", "signals", name) + tuple(path)
            out.append(f"{service.locate(full)}: {format_path(full)}: {message}")
    return out


def build(paths: list[Path]) -> Result:
    """Compile the specs under `paths`; raises SpecError on bad input."""
    specs = load_specs(paths)
    services = specs.services
    plan = compile_all(specs)
    check_recorded_names(plan)
    files = render(plan)
    check_runbooks(plan, files)
    warnings = tuple(w for s in services for w in warnings_for(s))
    return Result(tuple(services), plan, files, warnings)
