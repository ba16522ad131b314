"""Traffic stopped: a service that normally has calls at this hour gets none, or nearly none.

No ratio sees it: with no calls there is nothing to fail. It catches what silences a service rather than breaking
it: a revoked API key whose failures the source does not count (LiteLLM drops 401s), a dead exporter or a scrape
that stopped (the series vanish, which counts as zero calls), a broken deployment, an upstream that stopped
sending. "Normally" is the same hour one `baseline` ago, so a service quiet at night is not paged at night, and
young data never pages: without a baseline there is no "normally".
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import TrafficStopped


class TrafficStoppedSignal(TrafficStopped):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = TrafficStoppedSignal()
