"""Every signal of every preset, firing and silent, over the series its real exporter exposes.

The generated promtool tests of the example services (one per preset: support-assistant reads otel-genai,
search-answers litellm, internal-chat vllm) run again with their input series rewritten onto the fixture pages of
`tests/fixtures/` (`tests/fixtures/traffic.py`): the same scenarios, days of history for the baselines included, the
same expected alerts, but every series name, label name and label value is what the library wrote. A preset whose
selectors miss what its library emits records nothing, and its firing cases fail here.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.compile import compile_all
from generator.render import render_test_file
from generator.spec.build import load_specs
from tests.fixtures import traffic
from tests.test_fixtures import scraped

ROOT = Path(__file__).resolve().parent.parent
PRESETS = {"support-assistant": traffic.OTEL_GENAI, "search-answers": traffic.LITELLM, "internal-chat": traffic.VLLM}
# Scenarios no series of the library can stand for, by service, signal and scenario name: vLLM answers no 429.
UNREPRESENTABLE = {("internal-chat", "rate_limit")}


def _plan():
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_all(load_specs([Path("specs")]))
    finally:
        os.chdir(old)


PLAN = _plan()
FILES = [f for f in PLAN.test_files if f.service is not None and f.service.name in PRESETS]


def _signal(f) -> str:
    return Path(f.path).name.split(".")[0]


def _kept(f):
    """The file's scenarios the fixture can express, and the names of those it cannot."""
    series_of = traffic.FixtureTraffic(PRESETS[f.service.name], scraped(f.service.name))
    kept, dropped = [], []
    for s in f.scenarios:
        try:
            series_of(s, f.service)
            kept.append(s)
        except traffic.Unrepresentable:
            dropped.append(s.name)
    return kept, dropped, series_of


def coverage() -> dict[tuple[str, str], dict[str, list[int]]]:
    """(service, signal) -> alertname -> [firing checks, silent checks] over the fixture's series."""
    table: dict = {}
    for f in FILES:
        kept, _, _ = _kept(f)
        row = table.setdefault((f.service.name, _signal(f)), {})
        for s in kept:
            for ch in s.checks:
                counts = row.setdefault(ch.alertname, [0, 0])
                counts[0 if ch.alerts else 1] += 1
    return table


@pytest.mark.parametrize("f", FILES, ids=[f.path for f in FILES])
def test_signal_over_its_exporters_series(f, out_dir, tmp_path) -> None:
    kept, dropped, series_of = _kept(f)
    if (f.service.name, _signal(f)) not in UNREPRESENTABLE:
        assert dropped == [], f"scenarios the fixture cannot express: {dropped}"
    assert kept, "no scenario left"
    from dataclasses import replace
    doc = yaml.safe_load(render_test_file(replace(f, scenarios=tuple(kept)), series_of))
    doc["rule_files"] = [str(out_dir / p) for p in f.rule_files]
    path = tmp_path / Path(f.path).name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = promtool.test_rules(path)
    assert run.ok, run.output


def test_every_alert_fires_and_stays_silent_over_its_exporters_series() -> None:
    missing = []
    for (service, signal), alerts in coverage().items():
        for alertname, (firing, silent) in alerts.items():
            if (service, signal) in UNREPRESENTABLE and firing == 0 and silent:
                continue
            if not firing or not silent:
                missing.append((service, signal, alertname, firing, silent))
    assert missing == []


def test_the_fixture_series_are_the_librarys_own() -> None:
    """The check bites: a preset reading a label its library does not write would select nothing here."""
    f = next(f for f in FILES if f.service.name == "search-answers" and _signal(f) == "provider_down")
    _, _, series_of = _kept(f)
    names = {x.series.split("{")[0] for s in f.scenarios for x in series_of(s, f.service)}
    assert names <= {n for n, _ in scraped("search-answers")}
