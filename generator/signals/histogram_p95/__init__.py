"""A histogram's p95 against its SLO, one signal measured twice: the latency of one model call (`latency`) and the
time to the first streamed chunk or token (`first_token_latency`). A page when p95 is far above the objective, a
ticket when it is above it for long, nothing within it.

Each is an instance of one class, given what it measures (rules.py: names, SLO field, histogram, recorded series),
its runbook wording (runbook.py) and how its scenarios feed the histogram (scenarios.py).
"""
from __future__ import annotations

from typing import Callable

from ...content.runbook import RunbookContent
from . import rules, runbook, scenarios
from .rules import HistogramP95, Measure


class HistogramP95Signal(HistogramP95):
    """Its rules, the runbook content and the promtool scenarios they get, in the words and feed of its measure."""

    def __init__(self, measure: Measure, wording: Callable[..., RunbookContent], synthesis: scenarios.Synthesis
                 ) -> None:
        self.wording = wording
        self.synthesis = synthesis
        super().__init__(measure)

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


LATENCY = HistogramP95Signal(rules.LATENCY, runbook.latency, scenarios.LATENCY)
FIRST_TOKEN = HistogramP95Signal(rules.FIRST_TOKEN, runbook.first_token, scenarios.FIRST_TOKEN)
