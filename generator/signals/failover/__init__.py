"""Provider failover, automated first: the primary provider's error ratio crosses a threshold, a
remediation alert tells the failover automation to route to the secondary, and a human is paged only
when the service still fails after the remediation window.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import Failover


class FailoverSignal(Failover):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = FailoverSignal()
