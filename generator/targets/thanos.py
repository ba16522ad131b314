"""Thanos Ruler: the plain rule files, plus `partial_response_strategy` on every group when the spec asks for it.

Thanos Ruler reads Prometheus' format with that one extra group field; `--rule-file=thanos/*.thanos.yml` loads them.
Named `.thanos.yml`, not `.rules.yml`: with the extra field they are not Prometheus rule files, and tools that lint
every `*.rules.yml` with promtool must not take them for ones.
"""
from __future__ import annotations

import posixpath
from typing import Iterator

from ..plan import GLOBAL, Plan
from ..spec import deploy
from ..spec.model import Service
from ..yamltext import dump, header
from .prometheus import group_dict

NAME = deploy.THANOS
DESCRIPTION = "Thanos Ruler rule files (thanos/*.thanos.yml), partial_response_strategy per group when asked"
FOLDER = "thanos"


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """One Thanos rule file per plain rule file of `services`, and the global rules."""
    strategy = {s.name: s.deploy.partial_response_strategy for s in services}
    for f in plan.rule_files:
        if f.owner not in strategy and f.owner != GLOBAL:
            continue
        groups = []
        for g in f.groups:
            group = group_dict(g)
            if strategy.get(f.owner):
                group = {"name": group.pop("name"), "partial_response_strategy": strategy[f.owner], **group}
            groups.append(group)
        path = posixpath.join(FOLDER, posixpath.basename(f.path).removesuffix(".rules.yml") + ".thanos.yml")
        yield path, header(f.source, "Thanos Ruler recording and alerting rules") + dump({"groups": groups})
