"""p95 latency against its SLO: a page at 3x the objective, a ticket above it, nothing within it."""
from __future__ import annotations

from .. import conventions as c
from .. import boundaries
from ..boundaries import Traffic
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import alert_ref, is_on, kubectl, status_pages, times
from ..sli import own
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from . import p95
from .base import Config, Signal, alert_link, first_model

NAME = "latency"
PAGE_ALERT = c.alert_name("LatencyP95High")
TICKET_ALERT = c.alert_name("LatencyP95AboveSLO")
P95 = "service:ai_request_duration_seconds:p95_rate5m"


class Latency(Signal):
    name = NAME
    alerts = {"page": PAGE_ALERT, "ticket": TICKET_ALERT}
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
        p95.bounds(service.source.latency.boundaries, service.slo.latency_p95, cfg)

    def warnings(self, service, cfg):
        return p95.warnings(service.source.latency.boundaries, service.slo.latency_p95, cfg)

    def watched(self, service, cfg: Config) -> tuple[p95.Watched, p95.Watched]:
        """The page and the ticket, each with the bucket boundary it measures."""
        return p95.watch(service, NAME, cfg, service.source.latency.boundaries, service.slo.latency_p95,
                         c.LATENCY_BUCKETS, (PAGE_ALERT, TICKET_ALERT),
                         ("p95 latency is far above its SLO.", "p95 latency is above its SLO."), "latency")

    def build(self, service, cfg: Config) -> Output:
        page, ticket = self.watched(service, cfg)
        group = Group(c.group_name(service.name, NAME), NAME, (page.alert, ticket.alert))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, page, ticket)))

    def runbook(self, service, cfg, alert):
        slo = service.slo.latency_p95
        page = alert.alert == PAGE_ALERT
        lasting = cfg["page_for"] if page else cfg["ticket_for"]
        measured = p95.bound(service.source.latency.boundaries, slo, cfg, "page_at" if page else "ticket_at")
        threshold = f"{format_number(measured.boundary)}s"
        k = kubectl(service)
        if is_on(service, "model_routing"):
            routing = service.signals["model_routing"]
            slow_model = (f"model routing moves a model whose p95 exceeds "
                          f"{format_number(routing['latency_factor'] * slo)}s to its fallback (see "
                          + alert_link(service, "model_routing", "signal") + "); if it has not, move it by hand")
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
                                       + alert_link(service, "rate_limit", "signal")),
                           ("around 1", "→ step:rollout"))),
            Step("Did a rollout change prompts, context size, streaming or retries?", command=k.history(), key="rollout",
                 branches=(("a rollout lines up with the slowdown", f"roll back: `{k.undo()}`, then watch step:which"),
                           ("no rollout", f"send the provider the p95 graph per model; keep watching until p95 is "
                                          f"below {threshold}"))),
        )
        what = "far above" if page else "above"
        return RunbookContent(
            meaning=(f"p95 latency of one model call of `{service.name}` has been {what} its SLO for "
                     f"{format_duration(lasting)}: more than 5% of calls took longer than {measured.text()}, "
                     f"{times(measured.times_slo)} the {format_number(slo)}s objective (while the service gets more "
                     f"than {format_number(cfg['min_request_rate'])} calls/s). Counted from the histogram's buckets, "
                     "not interpolated inside one."),
            impact=(f"One call in twenty takes longer than {threshold}. Users wait, and clients or proxies with "
                    "shorter timeouts turn the wait into errors." if page else
                    f"The latency objective ({format_number(slo)}s p95) is being missed. Not urgent: a ticket, "
                    "handled in working hours; it pages as " + alert_ref(service, NAME, PAGE_ALERT)
                    + f" when more than 5% of calls take longer than "
                    f"{format_number(p95.bound(service.source.latency.boundaries, slo, cfg, 'page_at').boundary)}s."),
            steps=steps,
            mitigation=("A slow model with a fast fallback: route to the fallback first, investigate after.",
                        "Lowering the maximum output tokens shortens the slowest calls, at the cost of shorter answers."),
            queries=(Query(f"Share of calls slower than {threshold}",
                           p95.slower_share(c.LATENCY_BUCKETS, service.name, measured.boundary)),
                     Query("p95 latency of the service (interpolated inside a bucket)", own(P95, service)),
                     Query("Calls per second per model", own("service_model:ai_requests:rate5m", service))),
        )

    @staticmethod
    def feed(service) -> p95.Feed:
        """Calls of the first model whose latencies the stream's histogram records."""
        p, model = first_model(service)

        def make(per_min, phases):
            return Traffic(0, latency=True, streams=(Stream(p.name, model, tuple(
                Phase(minutes, ok=per_min, latency=fast, slow_share=share, slow_latency=slow)
                for minutes, fast, share, slow in phases)),))
        return make

    def _scenarios(self, service, cfg, page, ticket):
        for probe in p95.probes((page, ticket), cfg["min_request_rate"], self.feed(service), "latency"):
            yield from boundaries.scenarios(probe)
        yield from p95.scenarios(page, ticket, service.slo.latency_p95, self.feed(service), "latency")
        slo = service.slo.latency_p95
        p, model = first_model(service)
        yield Scenario(
            f"{PAGE_ALERT} and {TICKET_ALERT} stay silent within the SLO, even when a new model appears",
            streams=(Stream(p.name, model, (Phase(60, ok=600, latency=slo / 2),)),
                     Stream(p.name, "new-model", (Phase(30), Phase(30, ok=60, latency=slo / 2)))),
            checks=(Check(59, PAGE_ALERT), Check(59, TICKET_ALERT)), latency=True,
        )


SIGNAL = Latency()
