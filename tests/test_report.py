"""`oncallgen report` against a real Prometheus 2.42 whose `ALERTS` history was written with `promtool tsdb
create-blocks-from openmetrics`: the counts equal a hand count of the history below.

The example specs' ml-platform team hands off on Mondays at 10:00 Europe/Berlin from 30 Nov 2026 (Ana, Bao, Chidi),
with business hours Monday to Friday 09:00-18:00 Berlin. The reported shift is Ana's first: 30 Nov 10:00 to 7 Dec
10:00 Berlin (09:00 UTC both). All times below are UTC; Berlin is UTC+1 then.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.content import html as h
from tests import browser
from tests.browser import Page
from tests.e2e.harness import Server, free_port
from tests.history import prometheus_on

pytestmark = pytest.mark.proof

ROOT = Path(__file__).resolve().parent.parent
SERVICE = {"service": "support-assistant", "team": "ml-platform"}

# (alertname, extra labels, first minute, last minute): one sample a minute from first to last, both included.
HISTORY = [
    # Ana's shift (the one reported):
    ("AIProviderDown", {"severity": "critical", "signal": "provider_down", "provider": "anthropic"},
     "2026-12-01 02:00", "2026-12-01 02:30"),          # 03:00 Berlin, a Tuesday: a page at night, off hours
    ("AIProviderDown", {"severity": "critical", "signal": "provider_down", "provider": "anthropic",
                        "escalation": "secondary"}, "2026-12-01 02:20", "2026-12-01 02:30"),   # escalated
    ("AIErrorRateSpike", {"severity": "critical", "signal": "error_spike"},
     "2026-12-01 02:05", "2026-12-01 02:25"),          # inhibited: the provider's outage explains it
    ("AILatencyP95High", {"severity": "critical", "signal": "latency"},
     "2026-12-02 13:00", "2026-12-02 13:20"),          # 14:00 Berlin, a Wednesday: working hours
    ("AILatencyP95High", {"severity": "critical", "signal": "latency"},
     "2026-12-02 15:00", "2026-12-02 15:10"),          # the same alert again: a second page
    ("AILatencyP95AboveSLO", {"severity": "warning", "signal": "latency"},
     "2026-12-03 10:00", "2026-12-03 11:00"),          # a ticket: not a page
    ("AITrafficStopped", {"severity": "critical", "signal": "traffic_stopped"},
     "2026-12-05 12:00", "2026-12-05 12:10"),          # 13:00 Berlin on a Saturday: off hours, not night
    # The four shifts before: one page in the first, one in the third.
    ("AITrafficStopped", {"severity": "critical", "signal": "traffic_stopped"},
     "2026-11-03 12:00", "2026-11-03 12:05"),
    ("AILatencyP95High", {"severity": "critical", "signal": "latency"},
     "2026-11-17 12:00", "2026-11-17 12:05"),
]


def _minutes(first: str, last: str) -> list[int]:
    a = int(datetime.fromisoformat(first).replace(tzinfo=timezone.utc).timestamp())
    b = int(datetime.fromisoformat(last).replace(tzinfo=timezone.utc).timestamp())
    return list(range(a, b + 1, 60))


def history() -> str:
    """HISTORY as the OpenMetrics text promtool backfills."""
    lines = []
    for name, extra, first, last in HISTORY:
        labels = {"alertname": name, "alertstate": "firing", **SERVICE, **extra}
        text = "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        lines += [f"{text} 1 {t}" for t in _minutes(first, last)]
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory):
    with prometheus_on(tmp_path_factory.mktemp("report"), history()) as server:
        yield server


def _report(prometheus: Server, *args: str) -> str:
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["report", "specs", "--prometheus", prometheus.url(""), *args])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout if "html" in args else result.output   # the page alone, without the specs' warnings


def _section(text: str, team: str) -> str:
    return text.split(f"## Team `{team}`")[1].split("## Team")[0]


def test_the_shift_is_counted_as_by_hand(prometheus: Server) -> None:
    text = _report(prometheus, "--at", "2026-12-03T12:00:00Z")
    mine = _section(text, "ml-platform")
    assert "Shift Mon 30 Nov 10:00 to Mon 7 Dec 10:00 (Europe/Berlin): primary Ana, secondary Chidi." in mine
    # pages: provider down, latency twice, traffic stopped; the secondary tier of the first; two off hours (Tuesday
    # 03:00, Saturday 13:00 Berlin), one at night; the error spike inhibited; longest 02:00-02:30 (31 samples).
    assert "| 4 | 1 | 2 | 1 | 1 | 31m |" in mine
    # no remediation fired: each page is mitigated when it resolves, 31m, 21m, 11m, 11m after it started
    assert "| no source | no source | no source | 4 of 4 | 16m | 31m |" in mine
    assert "| Wed 2 Dec 14:00 | `AILatencyP95High` of `support-assistant` | no source | 21m |" in mine
    assert "- `AILatencyP95High` of `support-assistant`: 2" in mine
    assert "Pages per shift, the 4 before and this one: 1 → 0 → 1 → 0 → 4. **Pages are rising**" in mine


def test_a_week_maps_to_the_shift_holding_its_monday(prometheus: Server) -> None:
    # 2026-W48 starts Mon 23 Nov 00:00 UTC: 23 Nov 01:00 Berlin is before that day's
    # 10:00 handoff, so it is the shift of 16 Nov (Bao's: two shifts before Ana's), which holds the page of 17 Nov.
    mine = _section(_report(prometheus, "--week", "2026-W48"), "ml-platform")
    assert "Shift Mon 16 Nov 10:00 to Mon 23 Nov 10:00 (Europe/Berlin): primary Bao, secondary Ana." in mine
    assert "| 1 | 0 | 0 | 0 | 0 | 6m |" in mine
    assert "**Pages are rising**" not in mine


def test_a_team_without_pages_or_rotation_is_counted_by_week(prometheus: Server) -> None:
    other = _section(_report(prometheus, "--at", "2026-12-03T12:00:00Z"), "search")
    assert "| 0 | 0 | 0 | 0 | 0 | - |" in other
    assert re.search(r"Shift Thu 3 Dec \d\d:00 to Thu 10 Dec \d\d:00", other)


def test_a_server_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["report", "specs", "--prometheus", f"http://127.0.0.1:{free_port()}",
                                           "--week", "2026-W49"])
    finally:
        os.chdir(old)
    assert result.exit_code == 5
    assert [line for line in result.output.splitlines() if line.startswith("error:")][0].startswith(
        "error: cannot query http://127.0.0.1:")


def test_the_html_draws_the_hand_counted_figures(prometheus: Server) -> None:
    """The page's charts hold the figures the Markdown prints above: bars of 1, 0, 1, 0 and 4 pages (the current
    shift's two off hours at its foot), each as tall as its count on one scale, and the noisiest alerts 2, 1, 1."""
    page = Page(_report(prometheus, "--at", "2026-12-03T12:00:00Z", "--format", "html"))
    bars = page.rects("pages-ml-platform", data_count=None)
    assert [int(b["data-count"]) for b in bars] == [1, 0, 1, 0, 4]
    assert [float(b["height"]) for b in bars] == [n * h.UNIT for n in (1, 0, 1, 0, 4)]
    assert {float(b["y"]) + float(b["height"]) for b in bars} == {float(bars[0]["y"]) + float(bars[0]["height"])}
    off = page.rects("pages-ml-platform", data_part=None)
    assert [(o["data-part"], float(o["height"]), o["x"]) for o in off] == [("2", 2 * h.UNIT, bars[-1]["x"])]
    noisy = page.rects("noisy-ml-platform", data_count=None)
    assert [n["data-count"] for n in noisy] == ["2", "1", "1"]
    assert float(noisy[0]["width"]) == 2 * float(noisy[1]["width"])
    assert "AILatencyP95High of support-assistant" in [t for tag, t in page.texts if tag == "text"]
    # the reported shift's table: the Markdown's row
    cells = page.cells()
    row = cells[cells.index("ml-platform"):]
    assert [c for c in row if c.strip()][1:7] == ["4", "1", "2", "1", "1", "31m"]
    assert any("Pages are rising" in t for _, t in page.texts)
    # a team with no page at all: five empty bars
    assert [b["data-count"] for b in page.rects("pages-search", data_count=None)] == ["0"] * 5


def test_the_html_renders_in_chromium(prometheus: Server, tmp_path: Path) -> None:
    """Chromium draws the page: not blank, and as many pixels in the bar and off-hours colours as the charts' and
    legends' rectangles cover (exact on Debian 12's Chromium 156; 2% allowed for another's anti-aliasing)."""
    if browser.chromium() is None:
        pytest.skip(browser.WHY_MISSING)
    text = _report(prometheus, "--at", "2026-12-03T12:00:00Z", "--format", "html")
    (tmp_path / "report.html").write_text(text, encoding="utf-8")
    png = browser.screenshot(tmp_path / "report.html", tmp_path / "report.png", (1200, 2600))
    width, height, rows = browser.read_png(png)
    pixels = browser.histogram(rows)
    assert (width, height) == (1200, 2600)
    assert len(pixels) > 20, "a blank page"
    # Off hours: the reported shift's 2 pages at 24px a page and 90px wide, and the legend's 10px square of each of
    # the three teams. The bar colour: the other 1 + 1 + 4 - 2 pages, the noisiest alerts' 2 + 1 + 1 pages at 40px
    # a page and 16px tall, and the legends' squares.
    assert browser.count(pixels, h.OFF_HOURS) == pytest.approx(2 * 24 * 90 + 3 * 100, rel=0.02)
    assert browser.count(pixels, h.BAR) == pytest.approx((1 + 1 + 4 - 2) * 24 * 90 + 4 * 40 * 16 + 3 * 100, rel=0.02)
