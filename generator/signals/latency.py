"""p95 latency against its SLO: a page at 3x the objective, a ticket above it, nothing within it."""
from __future__ import annotations

from .. import conventions as c
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..runbooks.content import Query, RunbookContent, Step
from ..runbooks.links import alert_ref, is_on, kubectl, status_pages, times
from ..sli import own
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import latency_mix, quantile_estimate
from .base import Config, Signal, expect, first_model, make_alert

NAME = "latency"
PAGE_ALERT = c.alert_name("LatencyP95High")
TICKET_ALERT = c.alert_name("LatencyP95AboveSLO")
P95 = "service:ai_request_duration_seconds:p95_rate5m"


class Latency(Signal):
    name = NAME
    slo_fields = ("latency_p95",)
    explained_by_outage = True
    description = "Page when p95 latency is far above its SLO; open a ticket when it is above it for long."
    auto_when = "on when spec.slo.latency_p95 is set and the metrics have a latency histogram"
    schema = {
        "page_at": unit("factor", "Page when p95 exceeds this multiple of the SLO.", "3x"),
        "ticket_at": unit("factor", "Open a ticket when p95 exceeds this multiple of the SLO.", "1x"),
        "page_for": unit("duration", "How long p95 must stay above the page threshold.", "10m"),
        "ticket_for": unit("duration", "How long p95 must stay above the ticket threshold.", "30m"),
        "min_request_rate": number("Calls per second needed before p95 counts.", 0.05),
    }

    def auto(self, service):
        return service.slo.latency_p95 is not None and service.source.latency is not None

    def check(self, service, cfg):
        if service.slo.latency_p95 is None:
            raise FieldError(("enabled",), "the latency signal needs spec.slo.latency_p95")
        if service.source.latency is None:
            raise FieldError(("enabled",), "the latency signal needs a latency histogram in spec.metrics")
        if cfg["ticket_at"] >= cfg["page_at"]:
            raise FieldError(("ticket_at",), f"expected a factor below page_at ({format_number(cfg['page_at'])}x)")

    def warnings(self, service, cfg):
        bounds = service.source.latency.boundaries if service.source.latency else ()
        out = []
        for key in ("page_at", "ticket_at"):
            threshold = cfg[key] * service.slo.latency_p95
            if bounds and not any(abs(threshold - b) < 1e-9 for b in bounds):
                below = max((b for b in bounds if b < threshold), default=0)
                above = min((b for b in bounds if b > threshold), default=float("inf"))
                out.append(((key,), f"{format_number(threshold)}s falls between histogram buckets "
                                    f"{format_number(below)}s and {format_number(above)}s: histogram_quantile "
                                    "interpolates, so the alert may fire early or late"))
        return out

    def build(self, service, cfg: Config) -> Output:
        slo = service.slo.latency_p95
        traffic = f"{own('service:ai_requests:rate5m', service)} > {format_number(cfg['min_request_rate'])}"
        alerts = {}
        for key, name, severity, for_key, summary in (
            ("page_at", PAGE_ALERT, c.PAGE, "page_for", "p95 latency is far above its SLO."),
            ("ticket_at", TICKET_ALERT, c.TICKET, "ticket_for", "p95 latency is above its SLO."),
        ):
            threshold = cfg[key] * slo
            alerts[name] = make_alert(
                service, NAME, name, f"{own(P95, service)} > {format_number(threshold)} and {traffic}",
                cfg[for_key], severity, summary=summary,
                description=(f"p95 latency of {{{{ $labels.service }}}} is {{{{ $value | humanizeDuration }}}}, "
                             f"above {format_number(threshold)}s ({format_number(cfg[key])}x the "
                             f"{format_number(slo)}s SLO)."),
            )
        group = Group(f"oncallgen-{service.name}-{NAME}", NAME, tuple(alerts.values()))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, alerts)))

    def runbook(self, service, cfg, alert):
        slo = service.slo.latency_p95
        page = alert.alert == PAGE_ALERT
        factor, lasting = (cfg["page_at"], cfg["page_for"]) if page else (cfg["ticket_at"], cfg["ticket_for"])
        threshold = f"{format_number(factor * slo)}s"
        k = kubectl(service)
        if is_on(service, "model_routing"):
            routing = service.signals["model_routing"]
            slow_model = (f"model routing moves a model whose p95 exceeds "
                          f"{format_number(routing['latency_factor'] * slo)}s to its fallback (see "
                          + alert_ref(service, "model_routing", "AIModelDegraded") + "); if it has not, move it by hand")
        else:
            slow_model = "switch that model to a faster fallback in the service's configuration"
        steps = (
            Step("Which model is slow? p95 of one call per model, over 5m.",
                 own("service_model:ai_request_duration_seconds:p95_rate5m", service), key="which",
                 branches=((f"one model is above {threshold}", "that model or its provider is slow → step:provider"),
                           ("every model is slow", "the cause is ours, or upstream of every provider → step:load"))),
            Step(f"Is its provider degraded? Its error ratio, and its status page ({status_pages(service)}).",
                 own("service_provider:ai_errors:ratio_rate5m", service), key="provider",
                 branches=(("the status page reports degraded performance, or errors rise with the latency",
                            f"the provider is slow: {slow_model}"),
                           ("the provider looks healthy", "→ step:load"))),
            Step("Did traffic jump? Calls per second against the daily average (1 = usual).",
                 f"{own('service:ai_requests:rate5m', service)} / {own('service:ai_requests:rate1h_avg1d', service)}",
                 key="load",
                 branches=(("above 2", "calls queue at our side or the provider's: check provider quotas and "
                                       + alert_ref(service, "rate_limit", "AIRateLimitEngaged")),
                           ("around 1", "→ step:rollout"))),
            Step("Did a rollout change prompts, context size, streaming or retries?", command=k.history(), key="rollout",
                 branches=(("a rollout lines up with the slowdown", f"roll back: `{k.undo()}`, then watch step:which"),
                           ("no rollout", f"send the provider the p95 graph per model; keep watching until p95 is "
                                          f"below {threshold}"))),
        )
        what = "far above" if page else "above"
        return RunbookContent(
            meaning=(f"p95 latency of one model call of `{service.name}` has been {what} its SLO for "
                     f"{format_duration(lasting)}: above {threshold}, {times(factor)} the {format_number(slo)}s "
                     f"objective (while the service gets more than {format_number(cfg['min_request_rate'])} calls/s)."),
            impact=(f"One call in twenty takes longer than {threshold}. Users wait, and clients or proxies with "
                    "shorter timeouts turn the wait into errors." if page else
                    f"The latency objective ({format_number(slo)}s p95) is being missed. Not urgent: a ticket, "
                    "handled in working hours; it pages as " + alert_ref(service, NAME, PAGE_ALERT)
                    + f" at {times(cfg['page_at'])} the objective."),
            steps=steps,
            mitigation=("A slow model with a fast fallback: route to the fallback first, investigate after.",
                        "Lowering the maximum output tokens shortens the slowest calls, at the cost of shorter answers."),
            queries=(Query("p95 latency of the service", own(P95, service)),
                     Query("Calls per second per model", own("service_model:ai_requests:rate5m", service))),
        )

    def probes(self, service, cfg, alerts) -> list[Probe]:
        """Each alert's thresholds: p95 above its multiple of the SLO, calls/s above the guard, for its `for`."""
        slo = service.slo.latency_p95
        bounds = service.source.latency.boundaries
        p, model = first_model(service)
        out = []
        for key, name, for_key in (("page_at", PAGE_ALERT, "page_for"), ("ticket_at", TICKET_ALERT, "ticket_for")):
            clause = Clause("p95 (s)", ">", cfg[key] * slo)
            if clause.beyond() >= bounds[-1]:
                continue  # histogram_quantile cannot report beyond the highest bucket

            def traffic(p95: float, guard: float | None) -> Traffic:
                fast, share, slow = latency_mix(bounds, p95)
                per_min = guard * 60 if guard is not None else 600.0
                return Traffic(5 if guard is not None else 1, latency=True, value=p95,
                               streams=(Stream(p.name, model, (Phase(int(cfg[for_key] // 60) + 30, ok=per_min, latency=fast,
                                                                     slow_share=share, slow_latency=slow),)),))

            out.append(Probe(alerts[name], clause, cfg[for_key], traffic,
                             lambda t, a=alerts[name]: (expect(a, t.value),),
                             guard=Clause("calls/s", ">", cfg["min_request_rate"])))
        return out

    def _scenarios(self, service, cfg, alerts):
        for probe in self.probes(service, cfg, alerts):
            yield from boundaries.scenarios(probe)
        slo = service.slo.latency_p95
        bounds = service.source.latency.boundaries
        p, model = first_model(service)
        page, ticket = alerts[PAGE_ALERT], alerts[TICKET_ALERT]

        def estimate(latency):
            return quantile_estimate(bounds, latency)

        # The slowest call latency whose estimated p95 clears the page threshold: a bucket's upper bound.
        slow = next((b for b in bounds if estimate(b) > cfg["page_at"] * slo * 1.01), None)
        mild = 1.5 * slo
        warm = Phase(30, ok=600, latency=slo / 2)
        page_at = 30 + 5 + int(cfg["page_for"] // 60) + 2
        if slow is not None:
            yield Scenario(
                f"{PAGE_ALERT} fires when p95 reaches {format_number(estimate(slow))}s",
                streams=(Stream(p.name, model, (warm, Phase(page_at - 30 + 5, ok=600, latency=slow))),),
                checks=(Check(25, PAGE_ALERT), Check(page_at, PAGE_ALERT, (expect(page, estimate(slow)),))), latency=True,
            )
        mild_est = estimate(mild)
        ticket_at = 30 + 5 + int(cfg["ticket_for"] // 60) + 2
        yield Scenario(
            f"{PAGE_ALERT} stays silent at p95 of 1.5x the SLO ({format_number(mild_est)}s)",
            streams=(Stream(p.name, model, (warm, Phase(page_at - 30 + 5, ok=600, latency=mild))),),
            checks=(Check(page_at, PAGE_ALERT),), latency=True,
        )
        # A latency whose estimated p95 lies between the ticket and page thresholds.
        between = next((b for b in bounds
                        if cfg["ticket_at"] * slo * 1.01 < estimate(b) < cfg["page_at"] * slo * 0.99), None)
        if between is not None:
            yield Scenario(
                f"{TICKET_ALERT} opens a ticket at p95 {format_number(estimate(between))}s; {PAGE_ALERT} stays silent",
                streams=(Stream(p.name, model, (warm, Phase(ticket_at - 30 + 5, ok=600, latency=between))),),
                checks=(Check(ticket_at, PAGE_ALERT), Check(ticket_at, TICKET_ALERT, (expect(ticket, estimate(between)),))),
                latency=True,
            )
        yield Scenario(
            f"{PAGE_ALERT} and {TICKET_ALERT} stay silent within the SLO, even when a new model appears",
            streams=(Stream(p.name, model, (Phase(60, ok=600, latency=slo / 2),)),
                     Stream(p.name, "new-model", (Phase(30), Phase(30, ok=60, latency=slo / 2)))),
            checks=(Check(59, PAGE_ALERT), Check(59, TICKET_ALERT)), latency=True,
        )


SIGNAL = Latency()
