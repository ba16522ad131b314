"""Cache warming, automated: after a rollout, or after a provider outage ends, caches are cold.

The alert tells the cache-warming automation to run; it never pages.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import CacheWarming


class CacheWarmingSignal(CacheWarming):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = CacheWarmingSignal()
