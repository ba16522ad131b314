"""Thanos Ruler: the plain rule files, plus `partial_response_strategy` on every group when the spec asks for it;
split across N rulers when the run asks for shards (`generate --shards N`).

Thanos Ruler reads Prometheus' format with that one extra group field; `--rule-file=thanos/*.thanos.yml` loads them.
Named `.thanos.yml`, not `.rules.yml`: with the extra field they are not Prometheus rule files, and tools that lint
every `*.rules.yml` with promtool must not take them for ones.

Thanos Ruler does not shard evaluation itself: each ruler evaluates every file it is given. With shards, every rule
file of a service goes to the one shard its name hashes to (rendezvous hashing), so no rule reads a series another
ruler records, and adding or removing a service moves no other; the rules of no service (Watchdog, pipeline checks,
on-call health) go to shard 0. Each shard's folder holds `flags.txt`, the flags of the ruler that runs it.
"""
from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Iterator

from .. import conventions as c
from ..plan import GLOBAL, Plan, RuleFile
from ..spec import deploy
from ..spec.model import Service
from ..yamltext import dump, header
from .prometheus import group_dict

NAME = deploy.THANOS
DESCRIPTION = ("Thanos Ruler rule files (thanos/*.thanos.yml), partial_response_strategy per group when asked; "
               "split across rulers with --shards")
FOLDER = c.THANOS_DIR
DEPLOYED = "/etc/thanos/oncallgen"  # where the flags say output/ is deployed (as the docs do)


def shard_of(service: str, shards: int) -> int:
    """The shard (0 .. shards-1) whose ruler runs `service`: the one with the highest sha256 of
    "<service>/<shard>" (rendezvous hashing). A service's shard depends on its name and the count alone, so adding
    or removing a service moves no other, and going from N to N+1 shards moves only the services the new one wins."""
    def weight(shard: int) -> bytes:
        return hashlib.sha256(f"{service}/{shard}".encode("utf-8")).digest()
    return max(range(shards), key=weight)


def assignment(services: tuple[Service, ...], shards: int) -> dict[str, int]:
    """The shard of each service's files, and of the rules of no service (GLOBAL)."""
    return {GLOBAL: c.THANOS_GLOBAL_SHARD, **{s.name: shard_of(s.name, shards) for s in services}}


def _path(f: RuleFile, shard: int | None) -> str:
    name = posixpath.basename(f.path).removesuffix(".rules.yml") + c.THANOS_RULE_SUFFIX
    return posixpath.join(FOLDER if shard is None else c.thanos_shard_dir(shard), name)


def _selected(plan: Plan, services: tuple[Service, ...]) -> list[RuleFile]:
    names = {s.name for s in services}
    return [f for f in plan.rule_files if f.owner in names or f.owner == GLOBAL]


@dataclass(frozen=True)
class Shard:
    """What one ruler runs: its services, and the groups and rules of its files (the rules of no service too)."""

    index: int
    count: int
    services: tuple[str, ...]
    groups: int
    rules: int
    global_groups: int          # of `groups`: the rules of no service (shard 0 only)
    global_rules: int

    def report(self) -> str:
        """One line for `generate` and `check`, as the Mimir tenants report theirs."""
        own = (f" (of them {self.global_groups} groups, {self.global_rules} rules of no service: Watchdog, "
               "pipeline, on-call health)" if self.global_groups else "")
        empty = " (no service hashes here: add services or use fewer shards)" if not self.services else ""
        noun = "service" if len(self.services) == 1 else "services"
        return (f"thanos shard {self.index}/{self.count}: {len(self.services)} {noun}, {self.groups} rule groups, "
                f"{self.rules} rules{own}{empty}")


def shards(plan: Plan, services: tuple[Service, ...]) -> list[Shard]:
    """Every shard's load, in shard order (empty when the run asks for no shards)."""
    count = plan.thanos_shards
    if count <= 1:
        return []
    where = assignment(services, count)
    names: list[list[str]] = [[] for _ in range(count)]
    for s in services:
        names[where[s.name]].append(s.name)
    totals = [[0, 0, 0, 0] for _ in range(count)]  # groups, rules, and those of no service
    for f in _selected(plan, services):
        load = totals[where[f.owner]]
        groups, rules = len(f.groups), sum(len(g.rules) for g in f.groups)
        load[0] += groups
        load[1] += rules
        if f.owner == GLOBAL:
            load[2] += groups
            load[3] += rules
    return [Shard(i, count, tuple(sorted(names[i])), *totals[i]) for i in range(count)]


def flags_file(shard: Shard) -> str:
    """The flags the ruler of `shard` needs, one per line, each with its reason (as prometheus/flags.txt)."""
    lines = [header("all specs", f"the Thanos Ruler flags of shard {shard.index} of {shard.count}, one per line")
             .rstrip("\n"),
             f"# services: {', '.join(shard.services) or '(none)'}"
             + ("; and the rules of no service (Watchdog, pipeline checks, on-call health)"
                if shard.index == c.THANOS_GLOBAL_SHARD else ""),
             "# --query: a Querier with every shard's StoreAPI (gRPC) as an --endpoint, run with "
             f"--query.replica-label={c.THANOS_REPLICA_LABEL} --query.replica-label={c.THANOS_SHARD_LABEL}"
             + (" (on-call health reads the ALERTS of every shard through it)"
                if shard.index == c.THANOS_GLOBAL_SHARD else ""),
             "# this shard's rule files (wherever output/ is deployed):",
             f"--rule-file={DEPLOYED}/{c.thanos_shard_dir(shard.index)}/*{c.THANOS_RULE_SUFFIX}",
             "# tells this shard's series and blocks apart from the other shards' (the compactor groups blocks by "
             "external labels):",
             f'--label={c.THANOS_SHARD_LABEL}="{shard.index}"',
             "# tells the replicas of this shard (an HA pair) apart: a value of its own per replica, e.g. the pod "
             "name:",
             f'--label={c.THANOS_REPLICA_LABEL}="$(POD_NAME)"',
             "# alerts reach Alertmanager with the labels the routing was tested with: replicas deduplicate, and a "
             "service that moves shard keeps its alerts:",
             f"--alert.label-drop={c.THANOS_REPLICA_LABEL}",
             f"--alert.label-drop={c.THANOS_SHARD_LABEL}"]
    return "\n".join(lines) + "\n"


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """One Thanos rule file per plain rule file of `services`, and the global rules; with shards, in the folder of
    each file's shard, and each shard's flags."""
    strategy = {s.name: s.deploy.partial_response_strategy for s in services}
    where = assignment(services, plan.thanos_shards) if plan.thanos_shards > 1 else {}
    for f in _selected(plan, services):
        groups = []
        for g in f.groups:
            group = group_dict(g)
            if strategy.get(f.owner):
                group = {"name": group.pop("name"), "partial_response_strategy": strategy[f.owner], **group}
            groups.append(group)
        yield _path(f, where.get(f.owner)), header(f.source, "Thanos Ruler recording and alerting rules") + dump(
            {"groups": groups})
    for shard in shards(plan, services):
        yield posixpath.join(c.thanos_shard_dir(shard.index), c.THANOS_SHARD_FLAGS), flags_file(shard)
