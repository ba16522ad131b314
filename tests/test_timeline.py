"""`oncallgen timeline` against a real Prometheus 2.42 on a history written with `promtool tsdb create-blocks-from
openmetrics`: every transition, in order, at its minute, with the service's values then; written by hand from the
history below (an outage of anthropic for support-assistant on 2026-12-01, times UTC)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.e2e.harness import Server
from tests.history import prometheus_on

pytestmark = pytest.mark.proof

BASE = {"service": "support-assistant", "team": "ml-platform"}
OTHER = {"service": "search-answers", "team": "search"}


def _t(hhmm: str) -> int:
    return int(datetime.fromisoformat(f"2026-12-01 {hhmm}").replace(tzinfo=timezone.utc).timestamp())


def _alert(name: str, state: str, first: str, last: str, **labels: str) -> list[str]:
    all_labels = {"alertname": name, "alertstate": state, **labels}
    text = "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(all_labels.items())) + "}"
    return [f"{text} 1 {t}" for t in range(_t(first), _t(last) + 1, 60)]


def _gauge(series: str, first: str, last: str, value: float) -> list[str]:
    return [f"{series} {value} {t}" for t in range(_t(first), _t(last) + 1, 60)]


PAGE = {**BASE, "severity": "critical", "signal": "provider_down", "provider": "anthropic"}
HISTORY = (
    _alert("AIProviderDown", "pending", "10:02", "10:02", **PAGE)
    + _alert("AIProviderDown", "firing", "10:03", "10:30", **PAGE)
    + _alert("AIProviderDown", "firing", "10:23", "10:30", **PAGE, escalation="secondary")
    + _alert("AIProviderFailover", "firing", "10:04", "10:20", **BASE, severity="info", signal="failover",
             provider="anthropic", remediation="failover")
    + _alert("AILatencyP95High", "firing", "10:05", "10:06", **OTHER, severity="critical", signal="latency")
    + _gauge('service:ai_errors:ratio_rate5m{service="support-assistant",team="ml-platform"}', "09:50", "10:40", 0.25)
    + _gauge('service:ai_request_duration_seconds:p95_rate5m{service="support-assistant",team="ml-platform"}',
             "09:50", "10:40", 1.5)
)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory):
    ordered = sorted(HISTORY, key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))
    with prometheus_on(tmp_path_factory.mktemp("timeline"), "\n".join(ordered) + "\n# EOF\n") as server:
        yield server


def _timeline(prometheus: Server, *args: str) -> list[str]:
    result = CliRunner().invoke(main, ["timeline", "--prometheus", prometheus.url(""), "--from", "2026-12-01T10:00:00Z",
                                       "--to", "2026-12-01T11:00:00Z", *args])
    assert result.exit_code == 0, result.output
    table = result.output.split("## Impact")[0]
    return [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_every_transition_in_order_with_the_values_then(prometheus: Server) -> None:
    values = "error ratio 25%; p95 latency 1.5s"
    assert _timeline(prometheus, "--service", "support-assistant") == [
        f"| 2026-12-01 10:02 | `support-assistant` | `AIProviderDown` (provider=anthropic) pending: its condition "
        f"holds, its `for` runs | {values} |",
        f"| 10:03 | `support-assistant` | page: `AIProviderDown` (provider=anthropic) fires | {values} |",
        f"| 10:04 | `support-assistant` | automation asked to `failover` by `AIProviderFailover` (provider=anthropic) "
        f"| {values} |",
        f"| 10:21 | `support-assistant` | `AIProviderFailover` (provider=anthropic) resolved | {values} |",
        f"| 10:23 | `support-assistant` | the secondary on-call paged by `AIProviderDown` (provider=anthropic) "
        f"| {values} |",
        f"| 10:31 | `support-assistant` | `AIProviderDown` (provider=anthropic) (secondary tier) resolved | {values} |",
        f"| 10:31 | `support-assistant` | `AIProviderDown` (provider=anthropic) resolved | {values} |",
    ]


def test_without_a_service_every_service_is_in(prometheus: Server) -> None:
    rows = _timeline(prometheus)
    other = [r for r in rows if "`search-answers`" in r]
    assert other == ["| 10:05 | `search-answers` | page: `AILatencyP95High` fires |  |",
                     "| 10:07 | `search-answers` | `AILatencyP95High` resolved |  |"]
    assert len(rows) == 9


def test_the_draft_carries_the_postmortem_sections(prometheus: Server) -> None:
    result = CliRunner().invoke(main, ["timeline", "--prometheus", prometheus.url(""), "--from",
                                       "2026-12-01T10:00:00Z", "--to", "2026-12-01T11:00:00Z"])
    for heading in ("## Impact", "## Root cause", "## What went well", "## What did not", "## Action items"):
        assert heading in result.output
    assert "| action | owner | due | tracking |" in result.output


def test_an_empty_window_says_so(prometheus: Server) -> None:
    result = CliRunner().invoke(main, ["timeline", "--prometheus", prometheus.url(""), "--from",
                                       "2026-12-02T10:00:00Z", "--to", "2026-12-02T11:00:00Z"])
    assert "no alert of this scope was pending or firing in the window" in result.output
