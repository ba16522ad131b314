"""Every signal of every preset, firing and silent, over the series its real exporter exposes.

The generated promtool tests of the example services (one per preset: support-assistant reads otel-genai,
search-answers litellm, internal-chat vllm) run again with their input series rewritten onto the fixture pages of
`tests/fixtures/` (`tests/fixtures/traffic.py`): the same scenarios, days of history for the baselines included, the
same expected alerts, but every series name, label name and label value is what the library wrote. A preset whose
selectors miss what its library emits records nothing, and its firing cases fail here.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.compile import active_signals
from generator.pipeline import build
from generator.promql import Selector
from generator.render import render_test_file
from tests.fixtures import exporters, traffic
from tests.test_fixtures import OTEL_PAGES, PAGES as FIXTURE_PAGES, scraped

ROOT = Path(__file__).resolve().parent.parent
PRESETS = {"support-assistant": traffic.OTEL_GENAI, "search-answers": traffic.LITELLM, "internal-chat": traffic.VLLM}
# Each service's pages: support-assistant reads both generations of OTel GenAI names (semconv left out), so its
# scenarios run once on the legacy page and once on the 2026 one, each alone: either one pages where the other does.
PAGES = {"support-assistant": (("legacy", traffic.OTEL_GENAI, OTEL_PAGES["legacy"]),
                               ("2026", traffic.OTEL_GENAI_2026, OTEL_PAGES["2026"])),
         "search-answers": (("", traffic.LITELLM, FIXTURE_PAGES["search-answers"]),),
         "internal-chat": (("", traffic.VLLM, FIXTURE_PAGES["internal-chat"]),)}
_OTEL_NAMES = {g: frozenset(n for n, _ in exporters.series(path.read_text())) for g, path in OTEL_PAGES.items()}
# Where scenarios may need a series the library never writes: vLLM answers no 429, so rate_limit's cases of a
# rate-limited share cannot be written on its series (its traffic-surge cases can, and run).
UNREPRESENTABLE = {("internal-chat", "rate_limit")}


def _plan():
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return build([Path("specs")]).plan
    finally:
        os.chdir(old)


PLAN = _plan()
FILES = [f for f in PLAN.test_files if f.service is not None and f.service.name in PRESETS]
CASES = [(f, page) for f in FILES for page in PAGES[f.service.name]]


def _signal(f) -> str:
    return Path(f.path).name.split(".")[0]


def _kept(f, page=None):
    """The file's scenarios the fixture page can express, and those it cannot."""
    generation, roles, path = page or PAGES[f.service.name][0]
    foreign = frozenset().union(*(names for g, names in _OTEL_NAMES.items() if g != generation)) if generation else \
        frozenset()
    series_of = traffic.FixtureTraffic(roles, scraped(f.service.name, path), foreign)
    kept, dropped = [], []
    for s in f.scenarios:
        try:
            series_of(s, f.service)
            kept.append(s)
        except traffic.Unrepresentable:
            dropped.append(s)
    return kept, dropped, series_of


def coverage() -> dict[tuple[str, str], dict[str, list[int]]]:
    """(service, signal) -> alertname -> [firing checks, silent checks] over the fixture's series (the service as
    `name@generation` where it is proved on each generation's page)."""
    table: dict = {}
    for f, page in CASES:
        kept, _, _ = _kept(f, page)
        row = table.setdefault((f.service.name + (f"@{page[0]}" if page[0] else ""), _signal(f)), {})
        for s in kept:
            for ch in s.checks:
                counts = row.setdefault(ch.alertname, [0, 0])
                counts[0 if ch.alerts else 1] += 1
    return table


@pytest.mark.proof
@pytest.mark.parametrize("f,page", CASES, ids=[f.path + (f"@{page[0]}" if page[0] else "") for f, page in CASES])
def test_signal_over_its_exporters_series(f, page, out_dir, tmp_path) -> None:
    kept, dropped, series_of = _kept(f, page)
    if (f.service.name, _signal(f)) in UNREPRESENTABLE:  # only those with rate-limited calls
        dropped = [s for s in dropped if not any(ph.rate_limited for st in s.streams for ph in st.phases)]
    assert [s.name for s in dropped] == [], "scenarios the fixture cannot express"
    if not kept and (f.service.name, _signal(f)) in UNREPRESENTABLE:
        pytest.skip("every scenario of this file has rate-limited calls, which its exporter never reports")
    assert kept, "no scenario left"
    doc = yaml.safe_load(render_test_file(replace(f, scenarios=tuple(kept)), series_of))
    doc["rule_files"] = [str(out_dir / p) for p in f.rule_files]
    path = tmp_path / Path(f.path).name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = promtool.test_rules(path)
    assert run.ok, run.output


def test_every_alert_fires_and_stays_silent_over_its_exporters_series() -> None:
    table = coverage()
    missing = [(service, signal, alertname, firing, silent) for (service, signal), alerts in table.items()
               for alertname, (firing, silent) in alerts.items() if not firing or not silent]
    assert missing == []
    # Every signal each preset's example turns on is there (slo has no alert: its figures are checked as values).
    for service in PRESETS:
        for generation, _, _ in PAGES[service]:
            key = service + (f"@{generation}" if generation else "")
            signals = {signal for s, signal in table if s == key}
            active = next(s for s in PLAN.services if s.name == service)
            assert signals == set(active_signals(active)), key


def test_every_input_series_of_a_library_is_one_its_fixture_shows() -> None:
    """Names, label names and values as the library wrote them (and Prometheus added its target labels); only a
    model's value may differ, where a scenario invents a model the fixture never saw."""
    for f, page in CASES:
        kept, _, series_of = _kept(f, page)
        fixture = scraped(f.service.name, page[2])
        names = {n for n, _ in fixture}
        roles = page[1]
        for s in kept:
            for x in series_of(s, f.service):
                selector = Selector.parse(x.series)
                if selector.metric not in names:  # probes, rollouts, eval results: no preset reads them
                    continue
                labels = {m.name: m.value for m in selector.matchers}
                model = roles.model_label.get(selector.metric)
                assert any(n == selector.metric and {k: v for k, v in l.items() if k != model}
                           == {k: v for k, v in labels.items() if k != model} and set(l) == set(labels)
                           for n, l in fixture), (f.path, s.name, x.series)
