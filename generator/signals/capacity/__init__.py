"""Capacity of a self-hosted engine (vLLM): automation scales out first, a ticket when saturation lasts, a page only
when it lasts and users feel it (p95 latency above its SLO: more than 5% of calls slower than the bucket boundary
at or above the SLO, counted as the latency signal counts it, never interpolated).

A saturated engine does not fail calls, it queues them: requests wait, the KV cache fills up and running requests
are preempted (evicted and recomputed). None of that shows in an error ratio or a provider's success ratio.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import Capacity


class CapacitySignal(Capacity):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = CapacitySignal()
