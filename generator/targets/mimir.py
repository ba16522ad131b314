"""Grafana Mimir (and Cortex) ruler: one namespace file per service, in a folder per tenant.

`mimirtool rules load --id=<tenant> mimir/<tenant>/*.yaml` loads a tenant's files; the file's `namespace`
(the service name) is the ruler namespace, so reloading one service never touches another's groups.
"""
from __future__ import annotations

from typing import Iterator

from ..compile import GLOBAL, Plan
from ..spec.model import Service
from ..yamltext import dump, header
from .prometheus import group_dict

NAME = "mimir"
DESCRIPTION = "Grafana Mimir / Cortex ruler namespace files (mimir/<tenant>/<service>.yaml)"
FOLDER = "mimir"


def namespace_file(namespace: str, groups: list[dict], source: str) -> str:
    """What `mimirtool rules load` takes: a namespace and its rule groups."""
    return header(source, "Mimir ruler namespace") + dump({"namespace": namespace, "groups": groups})


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """A namespace file per service in its tenant's folder; every tenant also gets the global rules (the
    Watchdog and on-call health), since a tenant's ruler sees only its own series."""
    tenants = sorted({s.deploy.tenant for s in services})
    for service in services:
        groups = [group_dict(g) for f in plan.rule_files_of.get(service.name, ()) for g in f.groups]
        yield (f"{FOLDER}/{service.deploy.tenant}/{service.name}.yaml",
               namespace_file(service.name, groups, service.location.file))
    global_groups = [group_dict(g) for f in plan.rule_files_of.get(GLOBAL, ()) for g in f.groups]
    for tenant in tenants:
        yield f"{FOLDER}/{tenant}/{GLOBAL}.yaml", namespace_file(GLOBAL, global_groups, "all specs")
