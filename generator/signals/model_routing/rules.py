"""model_routing: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Rules
from ...sli import own
from ...spec.schema import number, unit
from ...spec.units import format_number
from .. import p95
from ..base import Config, Signal, make_alert

NAME = "model_routing"
ALERT = c.alert_name("ModelDegraded")
ACTION = "model_routing"


class ModelRouting(Signal):
    name = NAME
    alerts = {"signal": ALERT}
    slo_fields = ("latency_p95",)
    explained_by_outage = True
    remediation = ACTION
    description = "Route a degraded model's traffic to its fallback and open a ticket for the team."
    auto_when = "on"
    schema = {
        "error_ratio_above": unit("ratio", "A model is degraded when its error ratio exceeds this.", "20%", crossed="above"),
        "latency_factor": unit("factor", "...or when its p95 exceeds this multiple of the latency SLO.", "3x"),
        "min_request_rate": number("Calls per second a model needs before it counts.", 0.05),
        "for": unit("duration", "How long before the model counts as degraded.", "5m"),
    }

    def check(self, service, cfg):
        self.slow(service, cfg)

    @staticmethod
    def slow(service, cfg) -> p95.Bound | None:
        """What "p95 above latency_factor x the SLO" measures: a bucket boundary (None: no latency SLO)."""
        if service.slo.latency_p95 is None or service.source.latency is None:
            return None
        return p95.bound(service.source.latency.boundaries, service.slo.latency_p95, cfg, "latency_factor")

    def rules(self, service, cfg: Config) -> Rules:
        expr = (f"{own(c.ERRORS_RATIO_RATE5M_BY_MODEL, service)} > {format_number(cfg['error_ratio_above'])}")
        slow = self.slow(service, cfg)
        if slow is not None:
            share = p95.slower_share(c.LATENCY_BUCKETS_BY_MODEL, service.name, slow.boundary)
            expr = f"({expr} or {share} > {format_number(p95.SLOW_SHARE)})"
        expr += f" and {own(c.REQUESTS_RATE5M_BY_MODEL, service)} > {format_number(cfg['min_request_rate'])}"
        alert = make_alert(
            service, NAME, ALERT, expr, cfg["for"], c.TICKET, remediation=ACTION,
            summary="One model is degraded; its traffic goes to the fallback.",
            description=("{{ $labels.model }} is degraded for {{ $labels.service }} (error ratio above "
                         f"{format_number(cfg['error_ratio_above'] * 100)}% or p95 far above the SLO); "
                         "automation routes it to the fallback model."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (alert,))
        return Rules((group,))
