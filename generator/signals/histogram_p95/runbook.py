"""What the runbooks of the histogram-p95 signals say: each measure has its own wording (what to look at first
differs: which model, for the whole call; queues and prompt reading, for the first token)."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import alert_ref, is_on, kubectl, status_pages, times
from ...content.runbook import Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from .. import p95
from ..base import alert_link
from .rules import HistogramP95


def runbook(self: HistogramP95, service, cfg, alert) -> RunbookContent:
    """The runbook of one of its alerts, in the wording of what it measures."""
    return self.wording(self, service, cfg, alert)


# p95 latency of one model call
def latency(self: HistogramP95, service, cfg, alert):
    slo = self.slo(service)
    page = alert.alert == self.measure.page_alert
    lasting = cfg["page_for"] if page else cfg["ticket_for"]
    measured = p95.bound(self.histogram(service).boundaries, slo, cfg, "page_at" if page else "ticket_at")
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
             own(c.LATENCY_P95_BY_MODEL, service), key="which",
             branches=((f"one model is above {threshold}", "that model or its provider is slow → step:provider"),
                       ("every model is slow", "the cause is ours, or upstream of every provider → step:load"))),
        Step(f"Is its provider degraded? Its error ratio, and its status page ({status_pages(service)}).",
             own(c.ERRORS_RATIO_RATE5M_BY_PROVIDER, service), key="provider",
             branches=(("the status page reports degraded performance, or errors rise with the latency",
                        f"the provider is slow: {slow_model}"),
                       ("the provider looks healthy", "→ step:load"))),
        Step("Did traffic jump? Calls per second against the daily average (1 = usual).",
             f"{own(c.REQUESTS_RATE5M, service)} / {own(c.REQUESTS_RATE1H_AVG1D, service)}",
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
                "handled in working hours; it pages as " + alert_ref(service, self.name, self.measure.page_alert)
                + f" when more than 5% of calls take longer than "
                f"{format_number(p95.bound(self.histogram(service).boundaries, slo, cfg, 'page_at').boundary)}s."),
        steps=steps,
        mitigation=("A slow model with a fast fallback: route to the fallback first, investigate after.",
                    "Lowering the maximum output tokens shortens the slowest calls, at the cost of shorter answers."),
        queries=(Query(f"Share of calls slower than {threshold}",
                       p95.slower_share(c.LATENCY_BUCKETS, service.name, measured.boundary)),
                 Query("p95 latency of the service (interpolated inside a bucket)", own(self.measure.p95, service)),
                 Query("Calls per second per model", own(c.REQUESTS_RATE5M_BY_MODEL, service))),
    )


# p95 time to the first streamed chunk or token
def first_token(self: HistogramP95, service, cfg, alert):
    slo = self.slo(service)
    page = alert.alert == self.measure.page_alert
    lasting = cfg["page_for"] if page else cfg["ticket_for"]
    measured = p95.bound(self.histogram(service).boundaries, slo, cfg, "page_at" if page else "ticket_at")
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
                          f"{own(c.REQUESTS_RATE5M, service)} / {own(c.REQUESTS_RATE1H_AVG1D, service)}",
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
