"""Model routing, automated: one model degrades while the rest are healthy; automation routes its
traffic to a fallback and the team gets a ticket. No page: the quality SLO is kept by the fallback.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import ModelRouting


class ModelRoutingSignal(ModelRouting):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = ModelRoutingSignal()
