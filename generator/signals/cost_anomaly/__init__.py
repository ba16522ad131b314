"""Cost anomaly: spending at several times the normal rate and beyond the forecast pages; above the
forecast alone opens a ticket; within the forecast nothing happens, whatever the baseline says.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import CostAnomaly


class CostAnomalySignal(CostAnomaly):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = CostAnomalySignal()
