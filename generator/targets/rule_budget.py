"""A ruler's limits on rule groups (Grafana Mimir's `ruler_max_rules_per_rule_group`, 20 by default, and
`ruler_max_rule_groups_per_tenant`, 70): groups split to fit, and what each tenant needs.

Prometheus evaluates a group's rules in order, so a rule reading a series recorded earlier in its group sees this
evaluation's value. Split across groups it sees the previous one: up to one evaluation interval later. So rules
that read each other stay in one piece whenever that piece fits the limit; a chain longer than the limit is cut in
order, and every read across a cut is stated.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import conventions as c
from ..promql import metric_names

MIMIR_RULES_PER_GROUP = 20
MIMIR_GROUPS_PER_TENANT = 70


@dataclass(frozen=True)
class Lag:
    """A rule that reads a series recorded in another piece of its group."""

    group: str       # the piece holding the reading rule
    rule: str        # its alert or record name
    reads: str       # the series
    source: str      # the piece that records it

    def __str__(self) -> str:
        return (f"{self.group}: {self.rule} reads {self.reads} from {self.source}, up to one evaluation interval "
                "later than in one group")


def _name(rule: dict) -> str:
    return rule.get("record") or rule["alert"]


def split(group: dict, limit: int) -> tuple[list[dict], list[Lag]]:
    """`group` as pieces of at most `limit` rules (the first keeps its name), and the reads across pieces."""
    rules = group["rules"]
    if len(rules) <= limit:
        return [group], []
    recorded: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        if "record" in rule:
            recorded.setdefault(rule["record"], []).append(i)
    reads = [sorted(metric_names(r["expr"]) & recorded.keys()) for r in rules]
    # Rules that read each other, directly or not: one component (union-find, smallest index as the root).
    parent = list(range(len(rules)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i, names in enumerate(reads):
        for name in names:
            for j in recorded[name]:
                a, b = root(i), root(j)
                parent[max(a, b)] = min(a, b)
    components: dict[int, list[int]] = {}
    for i in range(len(rules)):
        components.setdefault(root(i), []).append(i)
    pieces: list[list[int]] = []
    for members in components.values():  # in order of each component's first rule
        chunks = [members[k:k + limit] for k in range(0, len(members), limit)]
        for chunk in chunks:
            home = next((p for p in pieces if len(p) + len(chunk) <= limit and len(chunks) == 1), None)
            if home is None:
                pieces.append(list(chunk))
            else:
                home.extend(chunk)
    names = [c.group_part(group["name"], n + 1) for n in range(len(pieces))]
    piece_of = {i: n for n, piece in enumerate(pieces) for i in piece}
    lags = [Lag(names[piece_of[i]], _name(rules[i]), name, names[piece_of[j]])
            for i, found in enumerate(reads) for name in found for j in recorded[name] if piece_of[j] != piece_of[i]]
    out = [{**group, "name": names[n], "rules": [rules[i] for i in sorted(piece)]} for n, piece in enumerate(pieces)]
    return out, sorted(set(lags), key=str)
