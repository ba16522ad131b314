"""Plain Prometheus rule files, `rules/<service>.<signal>.rules.yml`: one `rule_files` entry loads them all.
`prometheus/` says how to load them: the `rule_files` fragment of prometheus.yml, and the flags the rules need.

This is also the shape every other target repackages: `group_dict` is the rule group as Prometheus reads it.
"""
from __future__ import annotations

import posixpath
from typing import Iterator

from .. import conventions as c
from .. import prometheus_setup
from ..plan import Plan, RuleFile
from ..rules import Alert, Group, Recording
from ..spec import deploy
from ..spec.model import Service
from ..spec.units import format_duration
from ..yamltext import dump, header

NAME = deploy.PLAIN
DESCRIPTION = "plain Prometheus rule files, loaded by one rule_files entry (rules/*.rules.yml)"


def _rule(rule: Recording | Alert) -> dict:
    if isinstance(rule, Recording):
        out: dict = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            out["labels"] = dict(sorted(rule.labels))
        return out
    out = {"alert": rule.alert, "expr": rule.expr}
    if rule.for_seconds:
        out["for"] = format_duration(rule.for_seconds)
    out["labels"] = dict(rule.labels)
    out["annotations"] = dict(rule.annotations)
    return out


def group_dict(group: Group) -> dict:
    """A rule group as Prometheus' rule file format (and every ruler that copies it) writes it."""
    out: dict = {"name": group.name}
    if group.interval:
        out["interval"] = format_duration(group.interval)
    out["rules"] = [_rule(r) for r in group.rules]
    return out


def render_rule_file(f: RuleFile) -> str:
    """A Prometheus rule file."""
    return header(f.source, "Prometheus recording and alerting rules") + dump({"groups": [group_dict(g) for g in f.groups]})


PROMETHEUS_FLAGS = "prometheus/flags.txt"
PROMETHEUS_CONFIG = "prometheus/prometheus.yml"


def render_prometheus(plan: Plan) -> dict[str, str]:
    """The flags Prometheus should run with for these rules, and the `rule_files` entry that loads them all."""
    alerts = [a for g in plan.groups for a in g.alerts]
    lines = [header("all specs", "Prometheus command-line flags the generated rules need, one per line").rstrip("\n")]
    for flag in prometheus_setup.flags(alerts):
        lines += [f"# {flag.why}.", str(flag)]
    rules = posixpath.relpath(c.RULES_GLOB, posixpath.dirname(PROMETHEUS_CONFIG))
    config = (header("all specs", "the part of prometheus.yml that loads every generated rule file; merge it into "
                                  "yours (paths are relative to the configuration file)")
              + dump(prometheus_setup.config_fragment(rules)))
    return {PROMETHEUS_FLAGS: "\n".join(lines) + "\n", PROMETHEUS_CONFIG: config}


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """Every rule file of the plan (the promtool tests load them whichever other targets are used), and how
    Prometheus loads them."""
    for f in plan.rule_files:
        yield f.path, render_rule_file(f)
    yield from render_prometheus(plan).items()
