"""Error-rate spike: the error ratio several times its own baseline and above a floor; sooner if growing.

Baselines come from the recorded 1h ratio (an average over days, or the same hour last week), so no rule
reads more than an hour of raw series. A single failed request never pages: the floor and the minimum
traffic guard see to it.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import ErrorSpike


class ErrorSpikeSignal(ErrorSpike):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = ErrorSpikeSignal()
