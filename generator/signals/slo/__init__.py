"""SLO accounting (recorded, not alerted): availability and error budget over the SLO window, with the
part burned by provider failures kept apart so the team can claim credit against the provider's SLA.

The window is summed from coarse series: calls, failures and provider failures per hour, recorded once an hour by a
group of their own (`service:ai_*:increase1h`). A 30-day figure then reads 720 samples per series, where summing the
SLI's every-minute `rate1h` read 43,200; and a promtool test evaluating every hour covers 31 days in seconds.
"""
from __future__ import annotations

from . import scenarios
from .rules import SLOAccounting


class SLOAccountingSignal(SLOAccounting):
    """Its rules and the promtool scenario they get (recording rules only: no runbook)."""

    scenarios = scenarios.scenarios


SIGNAL = SLOAccountingSignal()
