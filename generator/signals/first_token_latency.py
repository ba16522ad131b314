"""Streaming latency: p95 time to the first chunk or token against its SLO. A page far above it, a ticket above it.

For a streaming product the wait users notice is the time before text starts to appear; the whole call's duration
mostly measures how long the answer is. Sources that measure it: otel-genai
(`gen_ai.client.operation.time_to_first_chunk`, streaming calls only) and vllm (`vllm:time_to_first_token_seconds`).
"""
from __future__ import annotations

from .. import boundaries
from .. import conventions as c
from ..boundaries import Clause, Probe, Traffic
from ..promql import example_labels, series_text
from ..rules import Check, Group, Output, Phase, Recording, Scenario, Series, Stream
from ..runbooks.content import Query, RunbookContent, Step
from ..runbooks.links import kubectl, status_pages, times
from ..sli import own, rate_by, static_labels
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import counter_values, latency_mix, quantile_estimate
from .base import Config, Signal, expect, first_model, make_alert

NAME = "first_token_latency"
PAGE_ALERT = c.alert_name("FirstTokenP95High")
TICKET_ALERT = c.alert_name("FirstTokenP95AboveSLO")


class FirstTokenLatency(Signal):
    name = NAME
    slo_fields = ("first_token_p95",)
    explained_by_outage = True
    description = ("Page when the p95 time to the first streamed chunk or token is far above its SLO; a ticket when "
                   "it is above it for long.")
    auto_when = "on when spec.slo.first_token_p95 is set and the metric preset measures it"
    schema = {
        "page_at": unit("factor", "Page when p95 time to first token exceeds this multiple of the SLO.", "3x"),
        "ticket_at": unit("factor", "Open a ticket when p95 time to first token exceeds this multiple of the SLO.", "1x"),
        "page_for": unit("duration", "How long p95 must stay above the page threshold.", "10m"),
        "ticket_for": unit("duration", "How long p95 must stay above the ticket threshold.", "30m"),
        "min_request_rate": number("Calls per second needed before p95 counts.", 0.05),
    }

    def auto(self, service):
        return service.slo.first_token_p95 is not None and service.source.first_token is not None

    def check(self, service, cfg):
        if service.slo.first_token_p95 is None:
            raise FieldError(("enabled",), "the first_token_latency signal needs spec.slo.first_token_p95")
        if service.source.first_token is None:
            raise FieldError(("enabled",), f"preset {service.source.preset} has no time-to-first-token histogram")
        if cfg["ticket_at"] >= cfg["page_at"]:
            raise FieldError(("ticket_at",), f"expected a factor below page_at ({format_number(cfg['page_at'])}x)")

    def build(self, service, cfg: Config) -> Output:
        slo = service.slo.first_token_p95
        hist = service.source.first_token
        rules: list = [
            Recording(c.FIRST_TOKEN_BUCKETS, rate_by(hist.buckets, 300, ("le",), service), static_labels(service)),
            Recording(c.FIRST_TOKEN_P95, f"histogram_quantile(0.95, {own(c.FIRST_TOKEN_BUCKETS, service)})"),
        ]
        traffic = f"{own(c.REQUESTS_RATE5M, service)} > {format_number(cfg['min_request_rate'])}"
        alerts = {}
        for key, name, severity, for_key, summary in (
            ("page_at", PAGE_ALERT, c.PAGE, "page_for", "Time to first token is far above its SLO."),
            ("ticket_at", TICKET_ALERT, c.TICKET, "ticket_for", "Time to first token is above its SLO."),
        ):
            threshold = cfg[key] * slo
            alerts[name] = make_alert(
                service, NAME, name, f"{own(c.FIRST_TOKEN_P95, service)} > {format_number(threshold)} and {traffic}",
                cfg[for_key], severity, summary=summary,
                description=(f"p95 time to first token of {{{{ $labels.service }}}} is {{{{ $value | humanizeDuration }}}}, "
                             f"above {format_number(threshold)}s ({format_number(cfg[key])}x the {format_number(slo)}s SLO)."),
            )
        rules += alerts.values()
        group = Group(f"oncallgen-{service.name}-{NAME}", NAME, tuple(rules))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, alerts)))

    def runbook(self, service, cfg, alert):
        slo = service.slo.first_token_p95
        page = alert.alert == PAGE_ALERT
        factor, lasting = (cfg["page_at"], cfg["page_for"]) if page else (cfg["ticket_at"], cfg["ticket_for"])
        threshold = f"{format_number(factor * slo)}s"
        k = kubectl(service)
        self_hosted = service.source.saturation is not None
        steps = [
            Step("Is the whole call slow too, or only its start? p95 of the whole call.",
                 own(c.LATENCY_P95, service), key="whole",
                 branches=(("both rose", "the model or its server is slow → step:cause"),
                           ("only the time to first token rose", "calls wait before they start: a queue (ours, a gateway's or the "
                                                    "provider's), or longer prompts to read → step:cause"))),
        ]
        if self_hosted:
            steps.append(Step("Do requests queue in the engines? Requests waiting in the fullest engine.",
                              own(c.REQUESTS_WAITING_MAX, service), key="cause",
                              branches=(("requests wait", "the engines are saturated: see the capacity runbooks and add "
                                                          "replicas"),
                                        ("no queue", "long prompts (prefill) or a slow GPU: compare prompt tokens per "
                                                     f"request, and `{k(f'exec {k.target} -- nvidia-smi')}`"))))
        else:
            steps.append(Step(f"Is the provider slow to start streaming? Its status page ({status_pages(service)}) "
                              "and our calls per second against the daily average.",
                              f"{own(c.REQUESTS_RATE5M, service)} / {own('service:ai_requests:rate1h_avg1d', service)}",
                              key="cause",
                              branches=(("the provider reports degraded performance", "route streaming traffic to "
                                         "another provider or model if one is configured"),
                                        ("traffic jumped", "calls queue behind quotas: check rate limits"))))
        steps.append(Step("Did a rollout grow the prompts (context, retrieved documents) or turn off streaming?",
                          command=k.history(), key="rollout",
                          branches=(("a rollout lines up with the slowdown", f"roll back: `{k.undo()}`"),
                                    ("no rollout", f"keep watching until p95 is below {threshold}"))))
        return RunbookContent(
            meaning=(f"p95 time to the first streamed chunk or token of `{service.name}` has been above {threshold} "
                     f"({times(factor)} the {format_number(slo)}s objective) for {format_duration(lasting)}, while "
                     f"the service gets more than {format_number(cfg['min_request_rate'])} calls/s."),
            impact=("Users stare at an empty answer for longer than the objective; many give up and retry, which "
                    "adds load." if page else "The streaming objective is missed. Not urgent: a ticket, handled in "
                    "working hours."),
            steps=tuple(steps),
            queries=(Query("p95 time to first token", own(c.FIRST_TOKEN_P95, service)),),
        )

    def _histogram(self, service, per_min: float, phases: list[tuple[int, float, float, float]]) -> tuple[Series, ...]:
        """First-token histogram series of the first model: (minutes, fast seconds, slow share, slow seconds) phases
        of `per_min` calls a minute."""
        hist = service.source.first_token
        p, model = first_model(service)
        labels = example_labels(hist.buckets.selector.metric, {hist.buckets.model_label: model} if
                                hist.buckets.model_label else {}, [hist.buckets.selector], [])
        out = []
        for bound in list(hist.boundaries) + [float("inf")]:
            le = "+Inf" if bound == float("inf") else format_number(bound)
            steps = [(m, per_min * ((1 - share) * (fast <= bound) + share * (slow <= bound)))
                     for m, fast, share, slow in phases]
            out.append(Series(series_text(hist.buckets.selector.metric, {**labels, "le": le}), counter_values(steps)))
        return tuple(out)

    def probes(self, service, cfg, alerts) -> list[Probe]:
        """Each alert's thresholds: p95 time to first token above its multiple of the SLO, calls/s above the guard."""
        slo = service.slo.first_token_p95
        bounds = service.source.first_token.boundaries
        p, model = first_model(service)
        out = []
        for key, name, for_key in (("page_at", PAGE_ALERT, "page_for"), ("ticket_at", TICKET_ALERT, "ticket_for")):
            clause = Clause("p95 time to first token (s)", ">", cfg[key] * slo)
            if clause.beyond() >= bounds[-1]:
                continue  # histogram_quantile cannot report beyond the highest bucket

            def traffic(p95: float, guard: float | None, for_key=for_key) -> Traffic:
                fast, share, slow = latency_mix(bounds, p95)
                per_min = guard * 60 if guard is not None else 600.0
                # Long enough for the silent cases to be checked again once a secondary tier would be due (the
                # histogram is not a call stream, which the tiers extend).
                minutes = int(cfg[for_key] // 60) + 90
                return Traffic(5 if guard is not None else 1, value=p95,
                               streams=(Stream(p.name, model, (Phase(minutes, ok=per_min),)),),
                               series=self._histogram(service, per_min, [(minutes, fast, share, slow)]))

            out.append(Probe(alerts[name], clause, cfg[for_key], traffic,
                             lambda t, a=alerts[name]: (expect(a, t.value),),
                             guard=Clause("calls/s", ">", cfg["min_request_rate"])))
        return out

    def _scenarios(self, service, cfg, alerts):
        for probe in self.probes(service, cfg, alerts):
            yield from boundaries.scenarios(probe)
        slo = service.slo.first_token_p95
        hist = service.source.first_token
        bounds = hist.boundaries
        p, model = first_model(service)
        page, ticket = alerts[PAGE_ALERT], alerts[TICKET_ALERT]
        calls = max(600.0, cfg["min_request_rate"] * 60 * 10)

        def first_token(phases: list[tuple[int, float]]) -> tuple[Series, ...]:
            labels = example_labels(hist.buckets.selector.metric, {hist.buckets.model_label: model} if
                                    hist.buckets.model_label else {}, [hist.buckets.selector], [])
            out = []
            for bound in list(bounds) + [float("inf")]:
                le = "+Inf" if bound == float("inf") else format_number(bound)
                steps = [(minutes, calls if seconds <= bound else 0.0) for minutes, seconds in phases]
                out.append(Series(series_text(hist.buckets.selector.metric, {**labels, "le": le}), counter_values(steps)))
            return tuple(out)

        def estimate(seconds: float) -> float:
            return quantile_estimate(bounds, seconds)

        # A first-token time whose estimated p95 clears each threshold: a bucket's upper bound.
        slow = next((b for b in bounds if estimate(b) > cfg["page_at"] * slo * 1.01), None)
        mild = next((b for b in bounds if cfg["ticket_at"] * slo * 1.01 < estimate(b) < cfg["page_at"] * slo), None)
        fast = next((b for b in reversed(bounds) if estimate(b) < cfg["ticket_at"] * slo), None)
        traffic = (Stream(p.name, model, (Phase(90, ok=calls),)),)
        if slow is not None:
            at = 30 + int(cfg["page_for"] // 60) + 3
            yield Scenario(
                f"{PAGE_ALERT} fires when every call waits {format_number(slow)}s for its first token",
                streams=traffic, series=first_token([(30, fast or bounds[0]), (60, slow)]),
                checks=(Check(29, PAGE_ALERT), Check(at, PAGE_ALERT, (expect(page, estimate(slow)),))),
            )
        if mild is not None:
            yield Scenario(
                f"{TICKET_ALERT} opens and {PAGE_ALERT} stays silent at {format_number(mild)}s to first token",
                streams=traffic, series=first_token([(30, fast or bounds[0]), (60, mild)]),
                checks=(Check(30 + int(cfg["page_for"] // 60) + 3, PAGE_ALERT),
                        Check(30 + int(cfg["ticket_for"] // 60) + 3, TICKET_ALERT, (expect(ticket, estimate(mild)),))),
            )
        if fast is not None:
            yield Scenario(
                f"{PAGE_ALERT} and {TICKET_ALERT} stay silent at {format_number(fast)}s to first token, within the SLO",
                streams=traffic, series=first_token([(90, fast)]),
                checks=(Check(60, PAGE_ALERT), Check(85, TICKET_ALERT)),
            )


SIGNAL = FirstTokenLatency()
