"""Targets: where the compiled rules run, and the files each needs. One module per target, one table.

Plain Prometheus rule files are always written (the promtool tests load them, and one `rule_files` entry,
`rules/*.rules.yml`, loads them all). The other targets package the very same rule groups for the
systems that run them at scale; a run asks for them with `generate --target`, a spec with `spec.deploy.targets`.
Every target reads the compiled plan, never rendered YAML.
"""
from __future__ import annotations

from typing import Iterator, Protocol

from ..plan import Plan
from ..spec.model import Service
from . import mimir, operator, prometheus, thanos


class Target(Protocol):
    """What a target module provides."""

    NAME: str
    DESCRIPTION: str

    def files(self, plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
        """The files that run the rules of `services` (the services using this target) on this target, as
        (path, content), each rendered when it is asked for."""


TARGETS: dict[str, Target] = {
    prometheus.NAME: prometheus,  # type: ignore[dict-item]
    operator.NAME: operator,      # type: ignore[dict-item]
    mimir.NAME: mimir,            # type: ignore[dict-item]
    thanos.NAME: thanos,          # type: ignore[dict-item]
}
DEFAULT = prometheus.NAME


def render_targets(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every target's files, one at a time: plain rule files always, the others for the services placed on them."""
    for name, target in TARGETS.items():
        services = plan.placement.get(name, ())
        if services:
            yield from target.files(plan, services)
