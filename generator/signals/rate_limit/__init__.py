"""Rate limiting, automated first: a traffic spike or sustained 429s engage the rate limiter (which keeps
spend and provider throttling in check); a human is paged only if it stays engaged.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import RateLimit


class RateLimitSignal(RateLimit):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = RateLimitSignal()
