"""What a "p95 above X" alert measures, by hand: the bucket boundary at or above X, and the `le` text it matches."""
from __future__ import annotations

import re

import pytest

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
