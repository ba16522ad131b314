"""The generated Alertmanager configuration, checked and route-tested by the real amtool (never mocked)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator import amtool

from . import proofs

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((ROOT / "output" / "alertmanager" / "routes.test.yml").read_text())["cases"]


@pytest.mark.proof
def test_amtool_check_config_passes(out_dir: Path) -> None:
    run = amtool.check_config(out_dir / "alertmanager" / "alertmanager.yml")
    assert run.ok, run.output
    assert "SUCCESS" in run.output


def test_the_compiled_routing_cases_are_the_committed_ones(out_dir: Path) -> None:
    assert yaml.safe_load((out_dir / "alertmanager" / "routes.test.yml").read_text())["cases"] == CASES


@pytest.mark.proof
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_route(out_dir: Path, case: dict) -> None:
    data = yaml.safe_load((out_dir / "alertmanager" / "routes.test.yml").read_text())
    run = proofs.amtool_route(out_dir / "alertmanager" / data["config"], case["labels"], case["receivers"])
    assert run.ok, f"{case['labels']} should reach {case['receivers']}: {run.output}"


@pytest.mark.proof
def test_a_wrong_expectation_fails(out_dir: Path) -> None:
    """The route check can fail: a page expected at the ticket receiver is refused by amtool."""
    page = next(c for c in CASES if c["labels"].get("severity") == "critical" and "escalation" not in c["labels"])
    wrong = [r.replace(r.split("/")[1], "nope") for r in page["receivers"]]
    assert not amtool.route(out_dir / "alertmanager" / "alertmanager.yml", page["labels"], wrong).ok


def test_every_alert_and_tier_has_a_route_case(compiled) -> None:
    names = {(r.alert, r.label_map.get("escalation", ""), r.label_map["service"])
             for g in compiled.plan.groups for r in g.alerts if r.alert != "AIWatchdog"}
    cased = {(c["labels"]["alertname"], c["labels"].get("escalation", ""), c["labels"]["service"])
             for c in CASES if "service" in c["labels"]}
    assert names == cased
    assert any(c["labels"].get("escalation") == "secondary" for c in CASES)


def test_remediation_reaches_automation_first_then_people() -> None:
    for case in CASES:
        if "remediation" in case["labels"]:
            assert len(case["receivers"]) == 2, case
            assert "remediator" in case["receivers"][0] or "automation" in case["receivers"][0], case


def test_matchers_use_double_quoted_values_and_no_deprecated_match(out_dir: Path) -> None:
    text = (out_dir / "alertmanager" / "alertmanager.yml").read_text()
    assert "match:" not in text and "match_re:" not in text
    config = yaml.safe_load(text)

    def walk(route):
        for m in route.get("matchers", []):
            assert re.fullmatch(r'[a-z_]+(=|!=|=~|!~)"[^"]*"', m), m
        for child in route.get("routes", []):
            walk(child)

    walk(config["route"])
    for rule in config["inhibit_rules"]:
        for m in rule["source_matchers"] + rule["target_matchers"]:
            assert re.fullmatch(r'[a-z_]+(=|!=|=~|!~)"[^"]*"', m), m
