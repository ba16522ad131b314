"""What a "p95 above X" alert measures, by hand: the bucket boundary at or above X, and the `le` text it matches."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from generator import proof

from generator.presets.litellm import LATENCY_BUCKETS
from generator.presets.source import OTEL_DURATION_BUCKETS
from generator.presets.vllm import E2E_LATENCY_BUCKETS
from generator.signals import p95
from generator.spec.errors import FieldError


@pytest.mark.parametrize("boundaries, seconds, expected", [
    (LATENCY_BUCKETS, 24, 30),          # LiteLLM: 8s SLO x 3 falls between 10 and 30
    (LATENCY_BUCKETS, 8, 10),
    (LATENCY_BUCKETS, 10, 10),          # on a boundary: that boundary
    (LATENCY_BUCKETS, 6, 10),           # 2s x 3
    (OTEL_DURATION_BUCKETS, 24, 40.96),
    (OTEL_DURATION_BUCKETS, 10.24, 10.24),
    (OTEL_DURATION_BUCKETS, 3.84, 5.12),
    (E2E_LATENCY_BUCKETS, 24, 30),
    (E2E_LATENCY_BUCKETS, 30, 30),
    ((0.5, 1, 2, 5), 5.0000000001, 5),  # float noise of factor x SLO is still the boundary
    ((0.5, 1, 2, 5), 6, None),          # above every boundary
])
def test_the_boundary_at_or_above_a_threshold(boundaries, seconds, expected) -> None:
    assert p95.boundary_at_or_above(boundaries, seconds) == expected


def test_a_threshold_above_every_boundary_is_refused_at_its_setting() -> None:
    with pytest.raises(FieldError) as err:
        p95.bound((0.5, 1, 2, 5), 2.0, {"page_at": 3.0}, "page_at")
    assert err.value.path == ("page_at",)
    assert "6s is above the histogram's highest bucket boundary (5s)" in str(err.value)


@pytest.mark.parametrize("boundary, matches, misses", [
    (10, ["10", "10.0", "10.00"], ["100", "1.0", "10.5", "1e+01x"]),
    (30, ["30", "30.0"], ["3", "300", "30.1"]),
    (0.25, ["0.25", "0.250"], ["0.2", "0.255", "0.025"]),
    (10.24, ["10.24"], ["10.2", "10.245", "1024"]),
])
def test_the_le_pattern_matches_the_boundary_as_exporters_write_it(boundary, matches, misses) -> None:
    pattern = re.compile(p95.le_pattern(boundary))  # PromQL regexes are anchored at both ends
    assert all(pattern.fullmatch(text) for text in matches)
    assert not any(pattern.fullmatch(text) for text in misses)


def test_the_warning_names_the_boundary_really_measured() -> None:
    out = p95.warnings(LATENCY_BUCKETS, 8.0, {"page_at": 3.0, "ticket_at": 1.0})
    assert [path for path, _ in out] == [("page_at",), ("ticket_at",)]
    assert "24s is not a bucket boundary" in out[0][1] and "longer than 30s" in out[0][1] and "3.75x" in out[0][1]
    assert "longer than 10s" in out[1][1] and "1.25x" in out[1][1]
    assert p95.warnings(LATENCY_BUCKETS, 10.0, {"page_at": 3.0, "ticket_at": 1.0}) == []


# ---- the generated latency proof on every preset's real buckets, for SLOs on and between their boundaries ----

OFF = {name: {"enabled": False} for name in ("provider_down", "traffic_stopped", "error_spike", "rate_limit",
                                              "cache_warming", "model_routing", "usage_pattern", "cost_anomaly",
                                              "slo", "capacity", "failover", "eval_regression")}
METRICS = {
    "otel-genai": {"preset": "otel-genai"},
    "litellm": {"preset": "litellm"},
    "vllm": {"preset": "vllm"},
    "custom": {"preset": "custom", "requests": "llm_calls_total", "errors": 'llm_calls_total{outcome="error"}',
               "latency_buckets": "llm_call_duration_seconds_bucket"},  # the OTel advisory buckets by default
}
# (SLO, page_at): 3x an SLO between boundaries on every preset, and 4x one whose page lands on a boundary.
SETUPS = {"otel-genai": [(0.5, 3), (2, 3), (8, 3), (1.28, 4)], "litellm": [(0.5, 3), (2, 3), (8, 3), (2.5, 4)],
          "vllm": [(0.5, 3), (2, 3), (8, 3), (2.5, 4)], "custom": [(0.5, 3), (8, 3), (1.28, 4)]}


@pytest.mark.proof
def test_the_latency_proof_holds_on_every_presets_buckets(tmp_path) -> None:
    docs = []
    for preset, setups in SETUPS.items():
        for i, (slo, page_at) in enumerate(setups):
            name = f"lat-{preset.replace('-', '')}-{i}"
            docs.append({"apiVersion": "oncallgen/v1", "kind": "AIService", "metadata": {"name": name, "team": "t"},
                         "spec": {"metrics": {**METRICS[preset], "selector": f'{{job="{name}"}}'},
                                  "providers": [{"name": "p", "models": ["m"]}],
                                  "slo": {"latency_p95": f"{slo}s"},
                                  "signals": {**OFF, "latency": {"page_at": f"{page_at}x"}}}})
    specs = tmp_path / "specs.yaml"
    specs.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "generator", "generate", str(specs), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "out"
    names = [yaml.safe_load((out / "tests" / d["metadata"]["name"] / "latency.test.yml").read_text())["tests"]
             for d in docs]
    # Every service's proof holds calls 10% beyond the page's boundary (it pages) and calls at 1.5x the SLO where that
    # is below the boundary (silent), besides the 5.5% / 4.5% probes.
    for doc, tests in zip(docs, names):
        titles = [t["name"] for t in tests]
        assert any("10% beyond" in t for t in titles), doc["metadata"]["name"]
        assert any("fires at share of calls with latency above" in t for t in titles), doc["metadata"]["name"]
        assert any("1.5x the SLO" in t and "stays silent" in t for t in titles), doc["metadata"]["name"]
    report = proof.run(out)
    assert report.ok, "\n".join(f"{f.path}: {f.summary}" for f in report.failures)
