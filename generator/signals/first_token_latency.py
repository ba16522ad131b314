"""Streaming latency: p95 time to the first chunk or token against its SLO. A page far above it, a ticket above it.

For a streaming product the wait users notice is the time before text starts to appear; the whole call's duration
mostly measures how long the answer is. Sources that measure it: otel-genai
(`gen_ai.client.inference.time_to_first_chunk`, formerly `gen_ai.client.operation.time_to_first_chunk`, streaming
calls only) and vllm (`vllm:time_to_first_token_seconds`).
"""
from __future__ import annotations

from .. import boundaries
from .. import conventions as c
from ..boundaries import Traffic
from ..promql import example_labels, series_text
from ..rules import Group, Output, Phase, Recording, Series, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import kubectl, status_pages, times
from ..sli import own, rate_by, static_labels
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import counter_values
from . import p95
from .base import Config, Signal, first_model

NAME = "first_token_latency"
PAGE_ALERT = c.alert_name("FirstTokenP95High")
TICKET_ALERT = c.alert_name("FirstTokenP95AboveSLO")


class FirstTokenLatency(Signal):
    name = NAME
    alerts = {"page": PAGE_ALERT, "ticket": TICKET_ALERT}
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
        p95.bounds(service.source.first_token.boundaries, service.slo.first_token_p95, cfg)

    def warnings(self, service, cfg):
        return p95.warnings(service.source.first_token.boundaries, service.slo.first_token_p95, cfg)

    def build(self, service, cfg: Config) -> Output:
        hist = service.source.first_token
        rules: list = [
            Recording(c.FIRST_TOKEN_BUCKETS, rate_by(hist.buckets, 300, ("le",), service), static_labels(service)),
            Recording(c.FIRST_TOKEN_P95, f"histogram_quantile(0.95, {own(c.FIRST_TOKEN_BUCKETS, service)})"),
        ]
        page, ticket = p95.watch(service, NAME, cfg, hist.boundaries, service.slo.first_token_p95,
                                 c.FIRST_TOKEN_BUCKETS, (PAGE_ALERT, TICKET_ALERT),
                                 ("Time to first token is far above its SLO.", "Time to first token is above its SLO."),
                                 "time to first token")
        group = Group(c.group_name(service.name, NAME), NAME, (*rules, page.alert, ticket.alert))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, page, ticket)))

    def runbook(self, service, cfg, alert):
        slo = service.slo.first_token_p95
        page = alert.alert == PAGE_ALERT
        lasting = cfg["page_for"] if page else cfg["ticket_for"]
        measured = p95.bound(service.source.first_token.boundaries, slo, cfg, "page_at" if page else "ticket_at")
        threshold = f"{format_number(measured.boundary)}s"
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
                                                     f"request, and `{k(f'exec {k.target} -- nvidia-smi')}`; did a "
                                                     "rollout grow them → step:rollout"))))
        else:
            steps.append(Step(f"Is the provider slow to start streaming? Its status page ({status_pages(service)}) "
                              "and our calls per second against the daily average.",
                              f"{own(c.REQUESTS_RATE5M, service)} / {own('service:ai_requests:rate1h_avg1d', service)}",
                              key="cause",
                              branches=(("the provider reports degraded performance", "route streaming traffic to "
                                         "another provider or model if one is configured"),
                                        ("traffic jumped", "calls queue behind quotas: check rate limits"),
                                        ("neither", "→ step:rollout"))))
        steps.append(Step("Did a rollout grow the prompts (context, retrieved documents) or turn off streaming?",
                          command=k.history(), key="rollout",
                          branches=(("a rollout lines up with the slowdown", f"roll back: `{k.undo()}`"),
                                    ("no rollout", f"keep watching until p95 is below {threshold}"))))
        return RunbookContent(
            meaning=(f"p95 time to the first streamed chunk or token of `{service.name}` has been above {threshold}: "
                     f"more than 5% of calls waited longer than {measured.text()} ({times(measured.times_slo)} the "
                     f"{format_number(slo)}s objective) for {format_duration(lasting)}, while "
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
        p, model = first_model(service)
        out = []
        for _, src in service.source.generations():  # the same calls in each generation of names it reads
            hist = src.first_token
            labels = example_labels(hist.buckets.selector.metric, {hist.buckets.model_label: model} if
                                    hist.buckets.model_label else {}, [hist.buckets.selector], [])
            for bound in list(hist.boundaries) + [float("inf")]:
                le = "+Inf" if bound == float("inf") else format_number(bound)
                steps = [(m, per_min * ((1 - share) * (fast <= bound) + share * (slow <= bound)))
                         for m, fast, share, slow in phases]
                out.append(Series(series_text(hist.buckets.selector.metric, {**labels, "le": le}),
                                  counter_values(steps)))
        return tuple(out)

    def feed(self, service) -> p95.Feed:
        """A steady stream of calls of the first model, and its first-token histogram over the phases."""
        p, model = first_model(service)

        def make(per_min, phases):
            return Traffic(0, streams=(Stream(p.name, model, (Phase(sum(m for m, *_ in phases), ok=per_min),)),),
                           series=self._histogram(service, per_min, phases))
        return make

    def _scenarios(self, service, cfg, page, ticket):
        what = "a first token after"
        for probe in p95.probes((page, ticket), cfg["min_request_rate"], self.feed(service), "time to first token"):
            yield from boundaries.scenarios(probe)
        yield from p95.scenarios(page, ticket, service.slo.first_token_p95, self.feed(service), what)


SIGNAL = FirstTokenLatency()
