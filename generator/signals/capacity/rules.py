"""capacity: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Recording, Rules
from ...sli import own, static_labels
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_duration, format_number
from .. import p95
from ..base import Config, Signal, make_alert

NAME = "capacity"
ACTION = "scale_out"
SCALE_OUT = c.alert_name("CapacityScaleOut")
TICKET = c.alert_name("CapacitySaturated")
PAGE = c.alert_name("CapacityExhausted")


class Capacity(Signal):
    name = NAME
    alerts = {"scale_out": SCALE_OUT, "ticket": TICKET, "page": PAGE}
    remediation = ACTION
    slo_fields = ("latency_p95",)
    description = ("Ask automation to scale out a saturated self-hosted engine (queue, KV cache, preemptions); a "
                   "ticket when it stays saturated; a page when it stays saturated with p95 latency above its SLO.")
    auto_when = "on when the metric preset reports engine saturation (vllm)"
    schema = {
        "queue_above": number("Saturated when an engine has more requests waiting than this.", 10),
        "kv_cache_above": unit("ratio", "Saturated when an engine's KV cache is fuller than this.", "95%", crossed="above"),
        "preemptions_above": number("Saturated when requests are preempted faster than this, per second over 5m.", 0),
        "scale_out_after": unit("duration", "How long saturation lasts before automation is asked to scale out.", "2m"),
        "ticket_after": unit("duration", "How long saturation lasts before a ticket.", "15m"),
        "page_after": unit("duration", "How long saturation with p95 latency above spec.slo.latency_p95 lasts "
                                       "before a page.", "10m"),
    }

    def auto(self, service):
        return service.source.saturation is not None

    def check(self, service, cfg):
        if service.source.saturation is None:
            raise FieldError(("enabled",), "the capacity signal needs engine saturation metrics (spec.metrics.preset: vllm)")
        for key in ("ticket_after", "page_after"):
            if cfg[key] <= cfg["scale_out_after"]:
                raise FieldError((key,), "expected longer than scale_out_after: automation acts first")
        if self.pages(service) and self.slow_boundary(service) is None:
            raise FieldError(("page_after",), f"the page compares latency with spec.slo.latency_p95 "
                                              f"({format_number(service.slo.latency_p95)}s), above the histogram's "
                                              f"highest bucket boundary "
                                              f"({format_number(service.source.latency.boundaries[-1])}s): no series "
                                              "can tell how many calls are slower; declare the buckets the source "
                                              "exports in spec.metrics.buckets")

    def pages(self, service) -> bool:
        """Whether the page exists: it needs a latency objective and a latency histogram to compare."""
        return service.slo.latency_p95 is not None and service.source.latency is not None

    def slow_boundary(self, service) -> float | None:
        """The bucket boundary the page's latency clause counts calls beyond: at or above the p95 SLO."""
        return p95.boundary_at_or_above(service.source.latency.boundaries, service.slo.latency_p95)

    def slow_text(self, service) -> str:
        """`its 2s SLO`, or `2.5s (the bucket boundary at or above its 2s SLO)`."""
        slo, b = service.slo.latency_p95, self.slow_boundary(service)
        if abs(b - slo) <= 1e-9 * max(1.0, slo):
            return f"its {format_number(slo)}s SLO"
        return f"{format_number(b)}s (the bucket boundary at or above its {format_number(slo)}s SLO)"

    def saturated(self, service, cfg) -> str:
        return (f"{own(c.REQUESTS_WAITING_MAX, service)} > {format_number(cfg['queue_above'])}"
                f" or {own(c.KV_CACHE_USAGE_MAX, service)} > {format_number(cfg['kv_cache_above'])}"
                f" or {own(c.PREEMPTIONS_RATE5M, service)} > {format_number(cfg['preemptions_above'])}")

    def rules(self, service, cfg: Config) -> Rules:
        sat = service.source.saturation
        labels = static_labels(service)
        rules: list = [
            Recording(c.REQUESTS_WAITING_MAX, f"max({sat.waiting})", labels),
            Recording(c.REQUESTS_RUNNING_SUM, f"sum({sat.running})", labels),
            Recording(c.KV_CACHE_USAGE_MAX, f"max({sat.kv_cache_usage})", labels),
            Recording(c.PREEMPTIONS_RATE5M, f"sum(rate({sat.preemptions}[5m]))", labels),
        ]
        cond = self.saturated(service, cfg)
        what = (f"more than {format_number(cfg['queue_above'])} requests wait in an engine, its KV cache is above "
                f"{format_number(cfg['kv_cache_above'] * 100)}%, or requests are preempted; the first limit crossed "
                "reads {{ printf \"%.2f\" $value }}")
        scale = make_alert(service, NAME, SCALE_OUT, cond, cfg["scale_out_after"], c.INFO, remediation=ACTION,
                           summary="The model server is saturated: scale out.",
                           description=f"{{{{ $labels.service }}}} is saturated ({what}); automation adds replicas.")
        ticket = make_alert(service, NAME, TICKET, cond, cfg["ticket_after"], c.TICKET,
                            summary="The model server has stayed saturated.",
                            description=(f"{{{{ $labels.service }}}} has been saturated for "
                                         f"{format_duration(cfg['ticket_after'])} ({what}): scaling out is not keeping up."))
        rules += [scale, ticket]
        page = None
        if self.pages(service):
            share = p95.slower_share(c.LATENCY_BUCKETS, service.name, self.slow_boundary(service))
            page = make_alert(service, NAME, PAGE,
                              f"({cond}) and on (service, team) ({share} > {format_number(p95.SLOW_SHARE)})",
                              cfg["page_after"], c.PAGE,
                              summary="The model server is saturated and users wait.",
                              description=(f"{{{{ $labels.service }}}} has been saturated for "
                                           f"{format_duration(cfg['page_after'])} with p95 latency above "
                                           f"{self.slow_text(service)} "
                                           "(the first saturation limit crossed reads {{ printf \"%.2f\" $value }})."))
            rules.append(page)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Rules((group,))
