"""Model routing, automated: one model degrades while the rest are healthy; automation routes its
traffic to a fallback and the team gets a ticket. No page: the quality SLO is kept by the fallback.
"""
from __future__ import annotations

from .. import conventions as c
from .. import boundaries, outage
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..content.runbook import Query, Remediation, RunbookContent, Step
from ..content.links import kubectl, percent, silence, status_pages
from ..sli import own
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from . import p95
from .base import Config, Signal, expect, first_model, make_alert

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
        "error_ratio_above": unit("ratio", "A model is degraded when its error ratio exceeds this.", "20%"),
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

    def build(self, service, cfg: Config) -> Output:
        expr = (f"{own('service_model:ai_errors:ratio_rate5m', service)} > {format_number(cfg['error_ratio_above'])}")
        slow = self.slow(service, cfg)
        if slow is not None:
            share = p95.slower_share(c.LATENCY_BUCKETS_BY_MODEL, service.name, slow.boundary, (c.MODEL,))
            expr = f"({expr} or {share} > {format_number(p95.SLOW_SHARE)})"
        expr += f" and {own('service_model:ai_requests:rate5m', service)} > {format_number(cfg['min_request_rate'])}"
        alert = make_alert(
            service, NAME, ALERT, expr, cfg["for"], c.TICKET, remediation=ACTION,
            summary="One model is degraded; its traffic goes to the fallback.",
            description=("{{ $labels.model }} is degraded for {{ $labels.service }} (error ratio above "
                         f"{format_number(cfg['error_ratio_above'] * 100)}% or p95 far above the SLO); "
                         "automation routes it to the fallback model."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (alert,))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, alert)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        thr = percent(cfg["error_ratio_above"])
        bound = self.slow(service, cfg)
        latency = bound is not None
        slow = bound.text() if latency else ""
        moved = Step("Has the degraded model's traffic moved to its fallback? Calls per second per model.",
                     own("service_model:ai_requests:rate5m", service), key="moved",
                     branches=(("the degraded model falls towards 0 and another rises", "routing worked"),
                               ("nothing moved", "the automation did not act: route by hand in the service's "
                                                 f"configuration, then `{k.restart()}`")))
        return RunbookContent(
            meaning=(f"A model of `{service.name}` fails more than {thr} of its calls"
                     + (f" or its p95 latency exceeds {slow}" if latency else "")
                     + f" (while it gets more than {format_number(cfg['min_request_rate'])} calls/s), for "
                     f"{format_duration(cfg['for'])}. Automation routes its traffic to a fallback model; a ticket, not "
                     "a page."),
            impact="Users get answers from the fallback model: the SLO holds, but style, quality and price may differ.",
            steps=(
                Step("Which model, and why? Error ratio per model.", own("service_model:ai_errors:ratio_rate5m", service),
                     branches=((f"one model is above {thr}", f"check its provider's status page ({status_pages(service)}) "
                                                            "and whether the provider changed the model → step:moved"),
                               ) + ((("its errors are normal", f"it is slow instead (p95 above {slow}: the query "
                                                               "below) → step:moved"),) if latency else ())),
                moved,
            ),
            remediation=Remediation(
                did=(f"Alertmanager sent this alert to the remediation receiver, which routes the degraded model's "
                     f"traffic of `{service.name}` to its fallback."),
                verify=moved,
                rollback=(f"Routing back happens when the alert resolves (the model's error ratio below {thr}"
                          + (f" and p95 below {slow}" if latency else "") + ").",
                          "To keep the fallback (say, the model is being replaced): "
                          f"`{silence(ALERT, service.name, '24h', 'keep fallback: <your name>')}`."),
                pages=None,
            ),
            queries=((Query("p95 latency per model", own("service_model:ai_request_duration_seconds:p95_rate5m", service)),)
                     if latency else ()),
        )

    def probes(self, service, cfg, alert) -> list[Probe]:
        """Its thresholds: a model's error ratio, or its p95, above the spec's; its calls/s above the guard."""
        p, model = first_model(service)
        guard = Clause("calls/s of the model", ">", cfg["min_request_rate"])

        minutes = int(cfg["for"] // 60) + 30

        def per_minute(guard_value: float | None) -> float:
            return guard_value * 60 if guard_value is not None else 600.0

        others = [m for m in service.models if m != model] or ["other-model"]
        ceiling = outage.error_ceiling(service) * 0.9

        def failing(ratio: float, guard_value: float | None) -> Traffic:
            per_min = per_minute(guard_value)
            # Fast calls (no latency clause), and a healthy model beside it on the provider where the model's errors
            # alone would be a provider outage (whose page mutes this ticket): the model is degraded, not its provider.
            phase = Phase(minutes, ok=per_min * (1 - ratio), errors=per_min * ratio, latency=0.0)
            streams = [Stream(p.name, model, (phase,))]
            if ratio >= ceiling:
                streams.append(Stream(p.name, others[0], (Phase(minutes, ok=per_min * (ratio / ceiling - 1) * 1.5,
                                                                latency=0.0),)))
            return Traffic(boundaries.filling_onset(300, guard_value, cfg["min_request_rate"]), streams=tuple(streams),
                           value=ratio)

        expected = lambda t: (expect(alert, t.value, model=model),)  # noqa: E731
        out = [Probe(alert, Clause("error ratio of the model", ">", cfg["error_ratio_above"]), cfg["for"], failing,
                     expected, guard=guard)]
        bound = self.slow(service, cfg)
        if bound is not None:
            b = bound.boundary
            clause = Clause(f"share of the model's calls slower than {format_number(b)}s", ">", p95.SLOW_SHARE)

            def slow(share: float, guard_value: float | None) -> Traffic:
                phase = Phase(minutes, ok=per_minute(guard_value), latency=b / 2, slow_share=share, slow_latency=b * 1.1)
                return Traffic(boundaries.filling_onset(300, guard_value, cfg["min_request_rate"]),
                               streams=(Stream(p.name, model, (phase,)),), latency=True, value=share)

            out.append(Probe(alert, clause, cfg["for"], slow, expected, guard=guard))
        return out

    def _scenarios(self, service, cfg, alert):
        for probe in self.probes(service, cfg, alert):
            yield from boundaries.scenarios(probe)
        p = service.providers[0]
        models = list(service.models) or ["default"]
        good = models[0]
        bad_model = models[1] if len(models) > 1 else "other-model"
        bad_provider = next((q.name for q in service.providers if bad_model in q.models), p.name)
        bad = 100 * min(0.6, cfg["error_ratio_above"] * 2.5)
        at = 30 + 5 + int(cfg["for"] // 60) + 2
        yield Scenario(
            f"{ALERT} fires for {bad_model} alone when it fails {bad:g}% of calls",
            streams=(Stream(p.name, good, (Phase(at + 5, ok=100),)),
                     Stream(bad_provider, bad_model, (Phase(30, ok=100), Phase(at - 30 + 5, ok=100 - bad, errors=bad)))),
            checks=(Check(25, ALERT), Check(at, ALERT, (expect(alert, bad / 100, model=bad_model),))),
        )
        yield Scenario(
            f"{ALERT} stays silent on one failed request among thousands",
            streams=(Stream(p.name, good, (Phase(30, ok=1000), Phase(1, ok=999, errors=1), Phase(20, ok=1000))),),
            checks=(Check(31, ALERT), Check(40, ALERT)),
        )


SIGNAL = ModelRouting()
