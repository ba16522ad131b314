"""The signals, in the order their rules are emitted. Adding a signal: one package, one line here."""
from __future__ import annotations

from . import (cache_warming, capacity, cost_anomaly, error_spike, eval_regression, failover, histogram_p95,
               model_routing, provider_down, rate_limit, slo, traffic_stopped, usage_pattern)
from .base import Signal

SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        provider_down.SIGNAL,
        traffic_stopped.SIGNAL,
        histogram_p95.LATENCY,
        histogram_p95.FIRST_TOKEN,
        error_spike.SIGNAL,
        eval_regression.SIGNAL,
        cost_anomaly.SIGNAL,
        failover.SIGNAL,
        rate_limit.SIGNAL,
        cache_warming.SIGNAL,
        model_routing.SIGNAL,
        capacity.SIGNAL,
        usage_pattern.SIGNAL,
        slo.SIGNAL,
    )
}

# Every remediation action some signal asks automation for: the team schema's keys and the routing order.
REMEDIATION_ACTIONS: tuple[str, ...] = tuple(s.remediation for s in SIGNALS.values() if s.remediation)

__all__ = ["SIGNALS", "REMEDIATION_ACTIONS", "Signal"]
