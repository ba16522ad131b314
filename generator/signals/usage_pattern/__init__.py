"""New usage patterns: information to track, never a page. A model never seen in the past day, or
traffic far outside its usual shape, is reported at severity info.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import UsagePattern


class UsagePatternSignal(UsagePattern):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = UsagePatternSignal()
