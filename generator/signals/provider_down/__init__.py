"""Provider API down: the provider answers almost nothing, or its synthetic probe fails. Pages fast.

Failover should already be under way (see `failover`); the page is for human awareness and customer
communication, which automation cannot do.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import ProviderDown


class ProviderDownSignal(ProviderDown):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = ProviderDownSignal()
