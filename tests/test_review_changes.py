"""The changes a reviewer tried on compiled rules (issue 8): each must make a generated promtool test fail.

Each change edits one compiled rule file of one service the way a person would (a threshold, a `for`, a matcher),
with the numbers taken from the spec, and runs every generated test that loads the file. `make mutation` does this
for every threshold, comparison and `for`; these six are the ones that once passed unnoticed.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.promql_fragments import matcher
from generator.signals import p95
from generator.spec.build import load_specs
from generator.spec.units import format_duration, format_number

from .mutation import ROOT, rule_file_tests


def _alerts(data: dict, name: str):
    return [r for g in data["groups"] for r in g["rules"] if r.get("alert") == name]


def _replace_in(name: str, old: str, new: str):
    def change(data: dict) -> None:
        rules = _alerts(data, name)
        assert rules and all(old in r["expr"] for r in rules), (name, old)
        for r in rules:
            r["expr"] = r["expr"].replace(old, new)
    return change


def _for_halved(name: str, seconds: float):
    def change(data: dict) -> None:
        rules = [r for r in _alerts(data, name) if "escalation" not in r["labels"]]
        assert rules and rules[0]["for"] == format_duration(seconds)
        rules[0]["for"] = format_duration(seconds / 2)
    return change


def _cases(services) -> list[tuple[str, str, object]]:
    """(description, rule file, change) for every service a change applies to."""
    out = []
    for s in services:
        sig = s.signals
        if sig["provider_down"].get("enabled") is not False:
            ratio = sig["provider_down"]["success_ratio_below"]
            out.append((f"{s.name}: provider_down success ratio {ratio:.0%} -> {ratio / 2:.0%}",
                        f"rules/{s.name}.provider_down.rules.yml",
                        _replace_in("AIProviderDown", f"< {format_number(ratio)}", f"< {format_number(ratio / 2)}")))
        if sig["eval_regression"].get("suite"):
            floor = sig["eval_regression"]["floor"]
            out.append((f"{s.name}: eval floor {floor:.0%} -> {floor * 0.8:.0%}", f"rules/{s.name}.eval_regression.rules.yml",
                        _replace_in("AIEvalRegression", f"< {format_number(floor)})", f"< {format_number(floor * 0.8)})")))
        limited = sig["rate_limit"]["rate_limited_ratio_above"]
        out.append((f"{s.name}: rate-limit engage ratio {limited:.1%} -> {limited * 2.5:.1%}",
                    f"rules/{s.name}.rate_limit.rules.yml",
                    _replace_in("AIRateLimitEngaged", f"> {format_number(limited)}", f"> {format_number(limited * 2.5)}")))
        if s.slo.latency_p95 and s.source.latency is not None:
            # The page counts the calls slower than a bucket boundary: the change moves it one boundary up.
            bounds = s.source.latency.boundaries
            page = p95.boundary_at_or_above(bounds, sig["latency"]["page_at"] * s.slo.latency_p95)
            higher = bounds[bounds.index(page) + 1]
            out.append((f"{s.name}: latency page boundary {format_number(page)}s -> {format_number(higher)}s",
                        f"rules/{s.name}.latency.rules.yml",
                        _replace_in("AILatencyP95High", matcher("le", "=~", p95.le_pattern(page)),
                                    matcher("le", "=~", p95.le_pattern(higher)))))
        out.append((f"{s.name}: error_spike `for` halved", f"rules/{s.name}.error_spike.rules.yml",
                    _for_halved("AIErrorRateSpike", sig["error_spike"]["for"])))

    def secondary_counted(data: dict) -> None:
        for g in data["groups"]:
            for r in g["rules"]:
                r["expr"] = r["expr"].replace(', escalation!="secondary"', "")
    out.append(("on-call health also counting secondary tiers", "rules/oncallgen.oncall_health.rules.yml",
                secondary_counted))
    return out


CASES = _cases(load_specs([ROOT / "specs"]).services)


def test_the_changes_reach_every_kind() -> None:
    kinds = {what.split(": ", 1)[-1].split(" ")[0] for what, _, _ in CASES}
    assert len(CASES) >= 6 and {"provider_down", "eval", "rate-limit", "latency", "error_spike"} <= kinds


@pytest.fixture(scope="module")
def loading(out_dir: Path) -> dict[str, list[str]]:
    return rule_file_tests(out_dir)


@pytest.mark.proof
@pytest.mark.parametrize("what,rule_file,change", CASES, ids=[c[0] for c in CASES])
def test_every_reviewer_change_is_caught(out_dir: Path, loading: dict, tmp_path: Path, what, rule_file, change) -> None:
    """The change applied to its own copy of the output: a generated test that loads the file must fail."""
    root = tmp_path / "output"
    shutil.copytree(out_dir, root)
    data = yaml.safe_load((root / rule_file).read_text())
    change(data)
    (root / rule_file).write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 20))
    tests = loading[rule_file]
    assert tests, rule_file
    # Smallest files first: one failure settles it.
    caught = any(not promtool.test_rules(root / t).ok for t in sorted(tests, key=lambda t: (root / t).stat().st_size))
    assert caught, f"a change no generated test notices: {what}"
