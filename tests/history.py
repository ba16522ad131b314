"""A real Prometheus 2.42 on a history written with `promtool tsdb create-blocks-from openmetrics`: for the tests of
what oncallgen reads from a server's past (report, timeline, backtest). Loopback, a free port, stopped by pid."""
from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.e2e.harness import Server, free_port


@contextmanager
def prometheus_on(work: Path, openmetrics: str) -> Iterator[Server]:
    """Prometheus serving `openmetrics` (ending with `# EOF`) as its history, kept however old it is."""
    (work / "history.om").write_text(openmetrics)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(work / "history.om"),
                    str(work / "data")], check=True, capture_output=True)
    (work / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    port = free_port()
    server = Server("prometheus", ["prometheus", f"--config.file={work / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                                   "--storage.tsdb.retention.time=100y"], port, work / "prometheus.log")
    server.start()
    try:
        server.wait_ready(120)
        yield server
    finally:
        server.stop()


def alerts_query(series: list[tuple[dict[str, str], list[float]]], lookback: float = 300):
    """A stand-in for Prometheus answering `timestamp(ALERTS{alertstate="firing"})` over `series` (labels, sample
    times): at each step, each series' latest sample within the lookback, as the engine answers. For tests of what a
    report renders, without a server; the counts themselves are proved on the real one (tests/test_report.py)."""
    def query(expr: str, start: float, end: float, step: float) -> list[dict]:
        assert expr == 'timestamp(ALERTS{alertstate="firing"})', expr
        out = []
        for labels, times in series:
            values = []
            t = start
            while t <= end:
                seen = [s for s in times if t - lookback < s <= t]
                if seen:
                    values.append([t, str(max(seen))])
                t += step
            if values:
                out.append({"metric": {"__name__": "ALERTS", **labels}, "values": values})
        return out
    return query
