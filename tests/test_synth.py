"""The scenario arithmetic the generated tests rely on, checked against numbers worked out by hand, and the
generated error_spike tests of a spec far from the defaults run through the real promtool."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.boundaries import same_hour_history
from generator.rules import Phase, Stream
from generator.synth import Seen, window_sum

ROOT = Path(__file__).resolve().parent.parent

# 3 minutes at 10 failed calls a minute, then 2 at 40: increments arrive at the samples of minutes 1..5.
STREAM = Stream("openai", "gpt", (Phase(3, errors=10), Phase(2, errors=40)))
SEEN = Seen(STREAM)


def test_a_window_on_a_whole_minute_holds_its_five_increments() -> None:
    # [0m, 5m] holds the samples 0..5: increments 1..5 = 10 + 10 + 10 + 40 + 40.
    assert SEEN("errors", 5, 5) == 110
    assert window_sum(STREAM, "errors", 5, 5) == 110


def test_a_window_between_two_minutes_holds_one_increment_fewer() -> None:
    # [0.5m, 5.5m] holds the samples 1..5: increments 2..5 = 10 + 10 + 40 + 40.
    assert SEEN("errors", 5.5, 5) == 100
    # [-0.5m, 4.5m]: samples 0..4, increments 1..4 = 10 + 10 + 10 + 40.
    assert SEEN("errors", 4.5, 5) == 70


def test_same_hour_history_keeps_other_hours_below_a_small_factor() -> None:
    # start 1560: 60 minutes at the other level, 180 at 1x (the hour a day before start and the next two), the rest.
    assert same_hour_history(1560, 3) == ((60, 2.0), (180, 1.0), (1320, 2.0))
    # With a page at 1.5x the history's other hours run at 1.25x: the history alone never crosses it.
    assert same_hour_history(1560, 1.5) == ((60, 1.25), (180, 1.0), (1320, 1.25))


@pytest.mark.proof
def test_error_spike_tests_of_an_unusual_spec_pass(tmp_path: Path) -> None:
    """A 10% floor, a 5x factor, no traffic guard and a 2m `growing_for`: the growing page's ramps still cross each
    threshold where the generator says, and every generated error_spike test passes."""
    docs = list(yaml.safe_load_all((ROOT / "specs" / "contract-review.yaml").read_text()))
    for doc in docs:
        if doc.get("kind") == "AIService":
            doc["spec"]["signals"]["error_spike"] = {"factor": "5x", "min_error_ratio": "10%", "min_request_rate": 0,
                                                     "growing_for": "2m", "for": "10m"}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump_all(docs))
    run = subprocess.run([sys.executable, "-m", "generator", "generate", str(spec), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    files = sorted((tmp_path / "out" / "tests").rglob("error_spike*.test.yml"))
    text = "".join(f.read_text() for f in files)
    # The growing page's two firing ramps and two silent ones are there (no traffic guard: no guard case).
    assert text.count("AIErrorRateSpikeGrowing fires when the error ratio passes") == 2
    assert text.count("AIErrorRateSpikeGrowing stays silent while the error ratio grows only 1.08x") == 1
    assert "below the traffic guard" not in text
    for f in files:
        result = promtool.test_rules(f)
        assert result.ok, f"{f.name}: {result.output[-3000:]}"
