"""The screenshots of docs/rules.md: `oncallgen report --format html` and `oncallgen backtest --format html` on the
histories of tests/test_report.py and tests/test_backtest.py (each backfilled into a real Prometheus), drawn by
Debian's headless Chromium.

    .venv/bin/python -m tests.screenshots        # writes docs/report.png and docs/backtest.png

Needs promtool, prometheus and chromium (`make tools`). Not run by the tests: a picture is reviewed, not compared.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from tests import browser, test_backtest, test_report
from tests.history import prometheus_on

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _page(args: list[str], cwd: Path) -> str:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return result.stdout


def main_() -> None:
    if browser.chromium() is None:
        raise SystemExit(browser.WHY_MISSING)
    with tempfile.TemporaryDirectory(prefix="oncallgen-shots-") as tmp:
        work = Path(tmp)
        (work / "report").mkdir()
        with prometheus_on(work / "report", test_report.history()) as server:
            page = _page(["report", "specs", "--prometheus", server.url(""), "--at", "2026-12-03T12:00:00Z",
                          "--format", "html"], ROOT)
        (work / "report.html").write_text(page, encoding="utf-8")
        browser.screenshot(work / "report.html", DOCS / "report.png", (1000, 1300))
        (work / "backtest").mkdir()
        specs = test_backtest.specs_folder(work / "backtest-specs")
        with prometheus_on(work / "backtest", test_backtest.history()) as server:
            page = _page(["backtest", "specs", "--prometheus", server.url(""), "--from", "2026-11-30T00:00:00Z",
                          "--to", "2026-12-07T00:00:00Z", "--incidents", "incidents.yaml", "--format", "html"], specs)
        (work / "backtest.html").write_text(page, encoding="utf-8")
        browser.screenshot(work / "backtest.html", DOCS / "backtest.png", (1120, 1080))
    print(f"wrote {DOCS / 'report.png'} and {DOCS / 'backtest.png'}", file=sys.stderr)


if __name__ == "__main__":
    main_()
