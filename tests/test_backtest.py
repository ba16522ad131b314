"""`oncallgen backtest` on a real Prometheus 2.42 whose history was written with `promtool tsdb create-blocks-from
openmetrics`: the example specs' AIProviderDown (success ratio under 50% with more than 0.05 calls/s, `for: 1m`; its
secondary tier after ml-platform's 20m, so `for: 21m`) over a week of support-assistant's recorded series with two
outages of anthropic, counted by hand. Times UTC; Berlin (ml-platform's business hours, 09:00-18:00 Mon-Fri) is
UTC+1."""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.backtest import condition, firing
from generator.cli import main
from generator.content import html as h
from tests import browser
from tests.browser import Page
from tests.e2e.harness import Server
from tests.history import prometheus_on

pytestmark = pytest.mark.proof

ROOT = Path(__file__).resolve().parent.parent
LABELS = 'provider="anthropic",service="support-assistant",team="ml-platform"'
START, END = "2026-11-30 00:00", "2026-12-07 00:00"
OUTAGES = (("2026-12-01 02:00", "2026-12-01 02:30"),   # Tuesday 03:00 Berlin: off hours; long enough to escalate
           ("2026-12-03 14:00", "2026-12-03 14:05"))   # Thursday 15:00 Berlin: working hours; too short to escalate


def _t(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def history() -> str:
    down = set()
    for first, last in OUTAGES:
        down |= set(range(_t(first), _t(last) + 1, 60))
    lines = []
    for t in range(_t(START) - 3600, _t(END) + 3600, 60):
        lines.append(f"service_provider:ai_requests:success_ratio_rate2m{{{LABELS}}} {0.1 if t in down else 0.99} {t}")
    lines += [f"service_provider:ai_requests:rate2m{{{LABELS}}} 1 {t}" for t in range(_t(START) - 3600, _t(END) + 3600, 60)]
    return "\n".join(lines) + "\n# EOF\n"


# The two outages, the first again from its 10th minute (the page already firing), a quality regression nothing in
# this history shows, and the first outage named with an alert that did not page.
INCIDENTS = """incidents:
  - {name: anthropic outage at night, service: support-assistant, start: 2026-12-01T02:00:00Z,
     end: 2026-12-01T02:30:00Z, pages: [AIProviderDown]}
  - {name: short outage, service: support-assistant, start: "2026-12-03 14:00", end: "2026-12-03 14:05"}
  - {name: joined late, service: support-assistant, start: 2026-12-01T02:10:00Z, end: 2026-12-01T02:20:00Z}
  - {name: answers got worse, service: support-assistant, start: 2026-12-05T10:00:00Z, end: 2026-12-05T11:00:00Z}
  - {name: outage as an error spike, service: support-assistant, start: 2026-12-01T02:00:00Z,
     end: 2026-12-01T02:30:00Z, pages: [AIErrorRateSpike]}
"""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory):
    with prometheus_on(tmp_path_factory.mktemp("backtest"), history()) as server:
        yield server


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return specs_folder(tmp_path_factory.mktemp("specs"))


def specs_folder(work: Path) -> Path:
    """`work` with specs/: support-assistant alone, its eval suite left out (this history has no eval results, and
    `AIEvalResultsStale` would rightly page about that; a backtest of the full example specs shows it), and the
    incidents file."""
    shutil.copytree(ROOT / "specs" / "oncall", work / "specs" / "oncall")
    spec = (ROOT / "specs" / "support-assistant.yaml").read_text()
    (work / "specs" / "support-assistant.yaml").write_text(
        spec.replace("    eval_regression: {suite: prod-golden, max_drop: 10pp, floor: 80%}\n", ""))
    (work / "incidents.yaml").write_text(INCIDENTS)
    return work


def _backtest(prometheus: Server, work: Path, *args: str) -> str:
    old = os.getcwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, ["backtest", "specs", "--prometheus", prometheus.url(""),
                                           "--from", "2026-11-30T00:00:00Z", "--to", "2026-12-07T00:00:00Z",
                                           "--incidents", "incidents.yaml", *args])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout if "html" in args else result.output   # the page alone, without the specs' warnings


@pytest.fixture(scope="module")
def report(prometheus: Server, work: Path) -> str:
    return _backtest(prometheus, work)


@pytest.fixture(scope="module")
def html_report(prometheus: Server, work: Path) -> str:
    return _backtest(prometheus, work, "--format", "html")


def test_the_pages_are_those_counted_by_hand(report: str) -> None:
    # Two primary pages (one off hours), one secondary page (the first outage held past 21m), over one week.
    assert "| `ml-platform/pagerduty-primary` | 2 | 2.0 | 1 | 30m |" in report
    assert "| `ml-platform/pagerduty-secondary` | 1 | 1.0 | 1 | 10m |" in report


def test_each_episode_starts_when_its_for_has_passed(report: str) -> None:
    rows = [line for line in report.splitlines() if line.startswith("| `AIProviderDown`")]
    assert rows == [
        "| `AIProviderDown` | `support-assistant` | provider=anthropic | critical | 2026-12-01 02:01 | 2026-12-01 02:30 |",
        "| `AIProviderDown` | `support-assistant` | escalation=secondary, provider=anthropic | critical | "
        "2026-12-01 02:21 | 2026-12-01 02:30 |",
        "| `AIProviderDown` | `support-assistant` | provider=anthropic | critical | 2026-12-03 14:01 | 2026-12-03 14:05 |",
    ]


def test_known_incidents_detected_or_missed_and_how_soon(report: str) -> None:
    """AIProviderDown fires at 02:01 and 14:01 (`for: 1m` after the ratio drops at 02:00 and 14:00): 1 minute after
    each outage starts; already firing when "joined late" starts; nothing pages for the quality regression, and no
    AIErrorRateSpike fires."""
    section = report.split("## Known incidents")[1].split("## Where this differs")[0]
    assert "3 of 5 detected, 2 missed." in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| incident")]
    assert rows == [
        "| anthropic outage at night | `support-assistant` | 2026-12-01 02:00 | 2026-12-01 02:30 | `AIProviderDown` | "
        "`AIProviderDown` | 1m |",
        "| short outage | `support-assistant` | 2026-12-03 14:00 | 2026-12-03 14:05 | any page | `AIProviderDown` | 1m |",
        "| joined late | `support-assistant` | 2026-12-01 02:10 | 2026-12-01 02:20 | any page | `AIProviderDown` | 0m |",
        "| answers got worse | `support-assistant` | 2026-12-05 10:00 | 2026-12-05 11:00 | any page | **missed** | - |",
        "| outage as an error spike | `support-assistant` | 2026-12-01 02:00 | 2026-12-01 02:30 | `AIErrorRateSpike` | "
        "**missed** | - |",
    ]


@pytest.mark.parametrize("text, message", [
    ("incidents:\n  - {name: x, service: support-assistant, start: yesterday, end: 2026-12-01T02:00:00Z}\n",
     "incidents.yaml:2:43: incidents[0].start: expected an ISO 8601 time such as 2026-12-01T02:00:00Z, got 'yesterday'"),
    ("incidents:\n  - name: x\n    service: support-assistant\n    start: 2026-12-01T02:00:00Z\n"
     "    end: 2026-12-01T01:00:00Z\n",
     "incidents.yaml:5:5: incidents[0].end: the incident ends (2026-12-01T01:00:00Z) before it starts "
     "(2026-12-01T02:00:00Z)"),
    ("incidents:\n  - {name: x, service: chat, start: 2026-12-01T02:00:00Z, end: 2026-12-01T03:00:00Z}\n",
     "incidents.yaml:2:15: incidents[0].service: no service named 'chat' in the specs"),
])
def test_a_bad_incidents_file_is_one_located_line_before_any_query(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "incidents.yaml").write_text(text)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["backtest", str(ROOT / "specs"), "--prometheus", "http://127.0.0.1:9",
                                           "--last", "1d", "--incidents", "incidents.yaml"])
    finally:
        os.chdir(old)
    assert result.exit_code == 1, result.output
    assert [line for line in result.output.splitlines() if not line.startswith("warning: ")] == [f"error: {message}"]


def test_series_the_server_lacks_are_named(report: str) -> None:
    assert "`service_provider:ai_probe:success`" in report.split("## Where this differs from live evaluation")[1]


@pytest.mark.parametrize("expr, expected", [
    ('(a{service="x"} < 0.5 and b > 0.05) or (c == 0)', ('a{service="x"}', "<", 0.5)),
    ("rate(x[5m]) > 3", ("rate(x{}[5m])", ">", 3.0)),   # as promql-parser prints it (valid PromQL)
    ("x > 3 * avg(y)", None),                         # against a baseline, not a number
    ("absent(x)", None),
    ("x > bool 3", None),
])
def test_the_first_condition_is_read_from_the_expression(expr: str, expected) -> None:
    assert condition(expr) == expected


@pytest.mark.parametrize("times, for_seconds, expected", [
    ([0, 60, 120, 180], 60, [(60, 180)]),            # pending at 0, fires at 60
    ([0, 60, 120, 180], 0, [(0, 180)]),
    ([0, 60, 180, 240, 300], 120, [(300, 300)]),      # a gap resets pending: 180 + 120 = 300
    ([0, 60], 120, []),                               # never held long enough
])
def test_prometheus_alert_semantics(times: list[float], for_seconds: float, expected: list) -> None:
    assert firing(times, 60, for_seconds) == expected


def test_the_html_draws_the_hand_counted_pages_and_episodes(html_report: str) -> None:
    """The page's charts hold what the Markdown above prints: 2 and 1 pages (one off hours each), and the three
    episodes on the week's axis, each shaded from its first to its last firing evaluation and marked as a page."""
    page = Page(html_report)
    receivers = page.rects("receivers", data_count=None)
    assert [r["data-count"] for r in receivers] == ["2", "1"]
    assert float(receivers[0]["width"]) == 2 * float(receivers[1]["width"])
    assert [r["data-part"] for r in page.rects("receivers", data_part=None)] == ["1", "1"]
    spans = page.rects("episodes", data_start=None)
    assert [(r["data-start"], r["data-end"]) for r in spans] == [     # the secondary tier's row first
        (str(_t("2026-12-01 02:21")), str(_t("2026-12-01 02:30"))),
        (str(_t("2026-12-01 02:01")), str(_t("2026-12-01 02:30"))),
        (str(_t("2026-12-03 14:01")), str(_t("2026-12-03 14:05"))),
    ]
    # one week on 1000px from x = 24: x = 24 + 1000 * (t - start) / week
    week = _t(END) - _t(START)
    for r in spans:
        assert float(r["x"]) == pytest.approx(24 + 1000 * (int(r["data-start"]) - _t(START)) / week, abs=0.06)
    assert sorted(r["data-page"] for r in page.rects("episodes", data_page=None)) == sorted(
        r["data-start"] for r in spans)
    assert len(page.rects("episodes", data_band="incident")) == 5
    labels = [t for tag, t in page.texts if tag == "text"]
    assert "AIProviderDown of support-assistant (provider=anthropic)" in labels
    assert "AIProviderDown of support-assistant (escalation=secondary, provider=anthropic)" in labels
    assert [labels[i] for i in range(len(labels)) if labels[i].endswith("Nov") or labels[i].endswith("Dec")][:2] == [
        "30 Nov", "01 Dec"]
    assert "3 of 5 detected, 2 missed." in [t for tag, t in page.texts if tag == "p"]


def test_the_html_draws_the_series_against_its_threshold(html_report: str) -> None:
    """AIProviderDown's first condition, the success ratio under 0.5: one chart for anthropic's series, its values
    from 0.99 down to 0.1 (the outages' minutes, each the lowest of its 11-minute step), the threshold dashed at 0.5,
    and the three episodes of both tiers shaded behind it."""
    page = Page(html_report)
    charts = [(a["data-chart"], a["data-threshold"]) for tag, a, _ in page.elements
              if tag == "svg" and a["data-chart"].startswith("trace-")]
    assert charts == [("trace-AIProviderDown-provider=anthropic, service=support-assistant, team=ml-platform", "0.5")]
    chart = charts[0][0]
    assert [(a["data-start"], a["data-end"]) for a in page.rects(chart, data_start=None)] == [
        (str(_t("2026-12-01 02:01")), str(_t("2026-12-01 02:30"))),
        (str(_t("2026-12-01 02:21")), str(_t("2026-12-01 02:30"))),
        (str(_t("2026-12-03 14:01")), str(_t("2026-12-03 14:05"))),
    ]
    texts = [t for tag, t in page.texts if tag == "text"]
    assert "0.99" in texts and "0.1" in texts        # the highest and lowest values drawn
    lines = [a for tag, a, c in page.elements if tag == "polyline" and c == chart]
    assert len(lines) == 1 and len(lines[0]["points"].split()) == 7 * 86400 // 660 + 1
    heights = sorted({float(p.split(",")[1]) for p in lines[0]["points"].split()})
    assert len(heights) == 2                         # 0.99 and 0.1, nothing between: each dip is its step's lowest
    assert any("success_ratio_rate2m" in t for tag, t in page.texts if tag == "code")


def test_the_html_renders_in_chromium(html_report: str, tmp_path: Path) -> None:
    """Chromium draws the page: the receivers' bars, the episodes' spans and page marks, and the series' line appear
    in their colours."""
    if browser.chromium() is None:
        pytest.skip(browser.WHY_MISSING)
    (tmp_path / "backtest.html").write_text(html_report, encoding="utf-8")
    width, height, rows = browser.read_png(browser.screenshot(tmp_path / "backtest.html", tmp_path / "b.png",
                                                              (1200, 1600)))
    pixels = browser.histogram(rows)
    assert len(pixels) > 20, "a blank page"
    # 2 + 1 pages less 1 + 1 off hours, at 40px a page and 16px tall, and the legend's square
    assert browser.count(pixels, h.BAR) == pytest.approx(1 * 40 * 16 + 100, rel=0.02)
    assert browser.count(pixels, h.OFF_HOURS) == pytest.approx(2 * 40 * 16 + 100, rel=0.02)
    # The legends' squares, and three spans of 3px at least (a half hour is 3px of a week on 1000px) and 12px tall,
    # three page marks of 5px by 5px: at a fractional x a span covers 2 whole pixels a line, a mark 4.
    assert browser.count(pixels, h.SPAN) >= 100 + 3 * 2 * 12
    assert browser.count(pixels, h.PAGE) >= 100 + 3 * 4 * 5
    assert browser.count(pixels, h.INCIDENT) > 100
    # the series' line across the week's 1000px (anti-aliased: near its colour)
    assert browser.count(pixels, h.LINE, tolerance=60) > 1000
