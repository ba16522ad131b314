"""On-call health's business hours and off-hours pages, in promtool over the compiled rules of the example specs.

ml-platform's business hours are Monday to Friday 09:00-18:00 in Europe/Berlin: 08:00-17:00 UTC in winter (UTC+1) and
07:00-16:00 UTC in summer (UTC+2, from the last Sunday of March to the last Sunday of October, Berlin's rules today).
promtool's clock starts at 1970-01-01 00:00 UTC, a Thursday in winter; 1970-04-01 (day 90) is a Wednesday in summer.
promtool evaluates every rule of the file at each step, so each test uses the coarsest step its checks allow. The other teams
have no business hours: no series, and none of their pages is off hours (as `oncallgen report` counts them).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator import promtool

pytestmark = pytest.mark.proof

ACTIVE = 'team:ai_business_hours:active'
OFF_HOURS = 'team:ai_pages_off_hours:count1w'


def _run(out_dir: Path, tmp_path: Path, interval: str, test: dict) -> promtool.Run:
    doc = {"rule_files": [str(out_dir / "rules" / "oncallgen.oncall_health.rules.yml")],
           "evaluation_interval": interval, "tests": [test]}
    path = tmp_path / "health.test.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return promtool.test_rules(path)


def _active(at: str, on: bool) -> dict:
    return {"expr": ACTIVE, "eval_time": at,
            "exp_samples": [{"labels": f'{ACTIVE}{{team="ml-platform"}}', "value": 1}] if on else []}


def test_business_hours_in_berlin_winter_by_the_minute(out_dir: Path, tmp_path: Path) -> None:
    """Thursday 1 January: 07:59 UTC is 08:59 in Berlin (closed), 08:00 opens, 16:59 is the last open minute, 17:00
    closed."""
    checks = [_active("7h59m", False), _active("8h", True), _active("16h59m", True), _active("17h", False)]
    run = _run(out_dir, tmp_path, "1m", {"interval": "1m", "input_series": [], "promql_expr_test": checks})
    assert run.ok, run.output


def test_business_hours_in_berlin_week_and_summer(out_dir: Path, tmp_path: Path) -> None:
    """Saturday 3 January at noon closed, Monday 5 January 08:00 open; Wednesday 1 April: 06:00 UTC closed (08:00 in
    Berlin), 07:00 open (closed in winter), 15:00 open, 16:00 closed (open in winter)."""
    checks = [_active("2d12h", False), _active("4d8h", True),
              _active("90d6h", False), _active("90d7h", True), _active("90d15h", True), _active("90d16h", False)]
    run = _run(out_dir, tmp_path, "1h", {"interval": "1h", "input_series": [], "promql_expr_test": checks})
    assert run.ok, run.output


def test_pages_off_hours_are_counted_per_team_for_a_week(out_dir: Path, tmp_path: Path) -> None:
    """ml-platform pages at 10:00 UTC (open) and at 20:00 UTC (closed) on Thursday 1 January, and at 12:00 on Saturday
    3 January (closed): two off hours. search has no business hours: its page at 20:00 is not off hours."""
    def page(team: str, service: str, alert: str) -> str:
        return (f'ALERTS{{alertname="{alert}", alertstate="firing", escalation="primary", service="{service}", '
                f'severity="critical", team="{team}"}}')

    # One series per page, firing 10 minutes from its start (minutes since midnight, Thursday); the rules run every
    # 5 minutes here (the starts are on that grid), the input has a sample a minute.
    def firing(start: int) -> str:
        return f"_x{start} 1x10"
    series = [{"series": page("ml-platform", "support-assistant", "AIProviderDown"), "values": firing(600)},
              {"series": page("ml-platform", "support-assistant", "AIErrorRateSpike"), "values": firing(1200)},
              {"series": page("ml-platform", "internal-chat", "AIProviderDown"), "values": firing(2 * 1440 + 720)},
              {"series": page("search", "search-answers", "AIProviderDown"), "values": firing(1200)}]
    checks = [
        {"expr": OFF_HOURS, "eval_time": "19h", "exp_samples": []},
        {"expr": OFF_HOURS, "eval_time": "21h",
         "exp_samples": [{"labels": f'{OFF_HOURS}{{team="ml-platform"}}', "value": 1}]},
        {"expr": OFF_HOURS, "eval_time": "2d13h",
         "exp_samples": [{"labels": f'{OFF_HOURS}{{team="ml-platform"}}', "value": 2}]},
        {"expr": "team:ai_pages:count1w", "eval_time": "2d13h",
         "exp_samples": [{"labels": 'team:ai_pages:count1w{team="ml-platform"}', "value": 3},
                         {"labels": 'team:ai_pages:count1w{team="search"}', "value": 1}]},
    ]
    run = _run(out_dir, tmp_path, "5m", {"interval": "1m", "input_series": series, "promql_expr_test": checks})
    assert run.ok, run.output


def test_business_hours_hold_exactly_when_berlin_is_open_all_year(out_dir: Path, tmp_path: Path) -> None:
    """The compiled expression, evaluated by a real Prometheus every hour through 2026 (range queries: the clock
    functions read each step's time; Berlin opens and closes on the hour, so every opening and closing is probed on
    both sides), is 1 exactly when Python's zoneinfo says Berlin is within Monday-Friday 09:00-18:00: every weekday,
    month and daylight-saving section of its 30 branches, not only the days probed above."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from generator.prometheus_api import http_range_query
    from tests.history import prometheus_on

    rules = yaml.safe_load((out_dir / "rules" / "oncallgen.oncall_health.rules.yml").read_text(encoding="utf-8"))
    [expr] = [r["expr"] for g in rules["groups"] for r in g["rules"]
              if r.get("record") == ACTIVE and r["labels"]["team"] == "ml-platform"]
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    end = datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp()
    step = 3600
    with prometheus_on(tmp_path, f"up 1 {int(start)}\n# EOF\n") as server:
        query = http_range_query(server.url(""), deadline=300)
        got: set[int] = set()
        t = start
        while t < end:
            stop = min(end - step, t + step * 999)
            for series in query(expr, t, stop, step):
                got |= {int(float(ts)) for ts, _ in series["values"]}
            t = stop + step
    berlin = ZoneInfo("Europe/Berlin")
    want = set()
    for t in range(int(start), int(end), step):
        local = datetime.fromtimestamp(t, berlin)
        if local.weekday() < 5 and 9 <= local.hour < 18:
            want.add(t)
    assert len(want) == 261 * 9   # 261 weekdays in 2026, 9 opening hours each
    assert got == want, (sorted(got - want)[:5], sorted(want - got)[:5])
