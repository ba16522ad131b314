"""The generated rules, checked and unit-tested by the real promtool (never mocked)."""
from __future__ import annotations

import re
from pathlib import Path

import promql_parser
import pytest
import yaml

from generator import promtool
from generator.plan import Plan
from generator.rules import Alert, Recording
from generator.spec.units import duration

from . import proofs

ROOT = Path(__file__).resolve().parent.parent
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # LibYAML where present: the same documents, several times faster


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_Loader)
TEST_FILES = sorted(p.relative_to(ROOT / "output").as_posix() for p in (ROOT / "output" / "tests").rglob("*.test.yml"))


@pytest.mark.proof
def test_promtool_lint_passes_on_every_rule_file(out_dir: Path) -> None:
    files = sorted(out_dir.glob("rules/*.rules.yml"))
    assert len(files) >= 10
    run = promtool.check_rules(files)
    assert run.ok, run.output
    assert run.output.count("SUCCESS") == len(files)


def test_the_compiled_tests_are_the_committed_ones(out_dir: Path) -> None:
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.glob("tests/**/*.test.yml")) == TEST_FILES


@pytest.mark.proof
@pytest.mark.parametrize("test_file", TEST_FILES)
def test_promtool_unit_tests_pass(out_dir: Path, test_file: str) -> None:
    """Every generated unit-test file through promtool (one test each: xdist spreads them over the cores)."""
    run = proofs.promtool_test(out_dir / test_file)
    assert run.ok, run.output
    assert "SUCCESS" in run.output


def _alerts_by_file(plan: Plan) -> dict[str, set[str]]:
    return {f.path: {r.alert for g in f.groups for r in g.rules if isinstance(r, Alert)} for f in plan.rule_files}


def test_every_alert_has_a_firing_and_a_silent_case(compiled) -> None:
    """For every alert the compiler emits: one scenario where it fires, one don't-page case where it is silent."""
    plan = compiled.plan
    alerts_in = _alerts_by_file(plan)
    # A signal's scenarios may be split over test files by evaluation interval: count them per rule file.
    firing: dict[str, set[str]] = {}
    silent: dict[str, set[str]] = {}
    for tf in plan.test_files:
        firing.setdefault(tf.rule_files[-1], set()).update(ch.alertname for s in tf.scenarios for ch in s.checks
                                                           if ch.alerts)
        silent.setdefault(tf.rule_files[-1], set()).update(ch.alertname for s in tf.scenarios for ch in s.checks
                                                           if not ch.alerts)
    always_on = {"AIWatchdog"}  # the heartbeat fires by design
    for path in firing:
        own = alerts_in[path]
        assert own <= firing[path], f"{path}: never seen firing: {sorted(own - firing[path])}"
        assert own - always_on <= silent[path], f"{path}: never seen silent: {sorted(own - silent[path] - always_on)}"
    tested = {tf.rule_files[-1] for tf in plan.test_files}
    untested = [p for p, names in alerts_in.items() if names and p not in tested]
    assert not untested


def test_every_alertname_in_tests_exists_in_the_loaded_rules(out_dir: Path) -> None:
    """promtool 2.42 passes a misspelled alertname with `exp_alerts: []`: catch it here."""
    for test_file in out_dir.glob("tests/**/*.test.yml"):
        data = _load(test_file)
        names = set()
        for rf in data["rule_files"]:
            for group in _load(test_file.parent / rf)["groups"]:
                names |= {r["alert"] for r in group["rules"] if "alert" in r}
        for test in data["tests"]:
            for case in test.get("alert_rule_test", []):
                assert case["alertname"] in names, f"{test_file}: {case['alertname']} is in no rule file it loads"


def test_every_test_sets_interval_and_group_order(out_dir: Path) -> None:
    for test_file in out_dir.glob("tests/**/*.test.yml"):
        data = _load(test_file)
        assert data["evaluation_interval"]
        assert data["group_eval_order"]
        assert all(t["interval"] for t in data["tests"])


ALLOWED_SEVERITIES = {"critical", "warning", "info"}


def test_alert_conventions(compiled) -> None:
    for group in compiled.plan.groups:
        for rule in group.rules:
            if not isinstance(rule, Alert):
                continue
            labels, ann = rule.label_map, rule.annotation_map
            assert re.fullmatch(r"AI([A-Z][a-z0-9]*|[A-Z][0-9]+|SLO)+", rule.alert), rule.alert
            assert labels["severity"] in ALLOWED_SEVERITIES
            for key in ("service", "team", "signal"):
                assert labels.get(key), (rule.alert, key)
            assert ann["summary"].endswith(".") and "{{" not in ann["summary"], rule.alert
            assert ann["description"] and ann["runbook_url"], rule.alert


def test_recording_rule_names_follow_level_metric_operations(compiled) -> None:
    for group in compiled.plan.groups:
        for rule in group.rules:
            if isinstance(rule, Recording):
                assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule.record), rule.record


_RANGE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\[(\w+)\]")


def test_no_rule_reads_more_than_an_hour_of_raw_series(compiled) -> None:
    """Long windows and baselines must read recorded series (names with colons), never raw ones."""
    seen_long = False
    for group in compiled.plan.groups:
        for rule in group.rules:
            promql_parser.parse(rule.expr)
            for metric, _, window in _RANGE.findall(rule.expr):
                if duration(window) > 3600:
                    seen_long = True
                    assert ":" in metric, f"{rule}: reads {window} of raw {metric}"
    assert seen_long  # the check above must have had something to check


def test_every_baseline_has_an_empty_history_and_an_earliest_scenario(compiled) -> None:
    """Young data never pages: each signal whose baseline needs history is tested from an empty history (silent) and
    at the earliest it can page, for every service of the examples."""
    from generator.compile import active_signals
    from generator.signals import SIGNALS

    names: dict[str, list[str]] = {}
    for tf in compiled.plan.test_files:
        names.setdefault(tf.rule_files[-1], []).extend(s.name for s in tf.scenarios)
    checked = 0
    for service in compiled.services:
        for signal in active_signals(service):
            cfg = service.signals[signal]
            if not SIGNALS[signal].history(service, cfg):
                continue
            if signal == "eval_regression" and cfg["floor"] + cfg["max_drop"] >= 1:
                continue  # a pass ratio cannot fall max_drop below its baseline without falling under the floor
            scenarios = " | ".join(names[f"rules/{service.name}.{signal}.rules.yml"])
            assert "empty history" in scenarios, (service.name, signal, scenarios)
            assert "at the earliest" in scenarios, (service.name, signal, scenarios)
            checked += 1
    assert checked >= 10  # five baseline signals over the example services
