"""A histogram's p95 against its SLO: what each such signal measures, its settings, checks and rules."""
from __future__ import annotations

from dataclasses import dataclass

from ... import conventions as c
from ...presets.source import Histogram
from ...rules import Group, Recording, Rules
from ...sli import own, rate_by, static_labels
from ...spec.errors import FieldError
from ...spec.model import Service
from ...spec.schema import number, unit
from ...spec.units import format_number
from .. import p95
from ..base import Config, Signal


@dataclass(frozen=True)
class Measure:
    """What one histogram-p95 signal measures: its names, the SLO it is held to, the histogram and its words."""

    name: str
    page_alert: str
    ticket_alert: str
    slo_field: str                  # the spec.slo field of its objective
    histogram: str                  # the MetricSource field of its histogram
    buckets: str                    # the recorded bucket rates over 5m, by `le`, its alerts count from
    p95: str                        # the recorded p95 (interpolated inside a bucket)
    records: bool                   # its own group records `buckets` and `p95` (else the SLI group does)
    measured: str                   # what its thresholds compare, in the schema: "p95", "p95 time to first token"
    what: str                       # what a call took, in its alerts' descriptions
    summaries: tuple[str, str]      # of the page and the ticket
    description: str
    auto_when: str
    no_histogram: str               # why it cannot be on without its histogram ({preset}: the spec's preset)


LATENCY = Measure(
    name="latency", page_alert=c.alert_name("LatencyP95High"), ticket_alert=c.alert_name("LatencyP95AboveSLO"),
    slo_field="latency_p95", histogram="latency", buckets=c.LATENCY_BUCKETS, p95=c.LATENCY_P95, records=False,
    measured="p95", what="latency",
    summaries=("p95 latency is far above its SLO.", "p95 latency is above its SLO."),
    description="Page when p95 latency is far above its SLO; open a ticket when it is above it for long.",
    auto_when="on when spec.slo.latency_p95 is set and the metrics have a latency histogram",
    no_histogram="the latency signal needs a latency histogram in spec.metrics",
)

# Streaming latency. For a streaming product the wait users notice is the time before text starts to appear; the
# whole call's duration mostly measures how long the answer is. Sources that measure it: otel-genai
# (`gen_ai.client.inference.time_to_first_chunk`, formerly `gen_ai.client.operation.time_to_first_chunk`, streaming
# calls only) and vllm (`vllm:time_to_first_token_seconds`).
FIRST_TOKEN = Measure(
    name="first_token_latency", page_alert=c.alert_name("FirstTokenP95High"),
    ticket_alert=c.alert_name("FirstTokenP95AboveSLO"), slo_field="first_token_p95", histogram="first_token",
    buckets=c.FIRST_TOKEN_BUCKETS, p95=c.FIRST_TOKEN_P95, records=True,
    measured="p95 time to first token", what="time to first token",
    summaries=("Time to first token is far above its SLO.", "Time to first token is above its SLO."),
    description=("Page when the p95 time to the first streamed chunk or token is far above its SLO; a ticket when "
                 "it is above it for long."),
    auto_when="on when spec.slo.first_token_p95 is set and the metric preset measures it",
    no_histogram="preset {preset} has no time-to-first-token histogram",
)


class HistogramP95(Signal):
    """p95 of a histogram against its SLO: a page far above the objective, a ticket above it, nothing within it."""

    explained_by_outage = True

    def __init__(self, measure: Measure) -> None:
        self.measure = measure
        self.name = measure.name
        self.alerts = {"page": measure.page_alert, "ticket": measure.ticket_alert}
        self.slo_fields = (measure.slo_field,)
        self.description = measure.description
        self.auto_when = measure.auto_when
        self.schema = {
            "page_at": unit("factor", f"Page when {measure.measured} exceeds this multiple of the SLO.", "3x"),
            "ticket_at": unit("factor", f"Open a ticket when {measure.measured} exceeds this multiple of the SLO.",
                              "1x"),
            "page_for": unit("duration", "How long p95 must stay above the page threshold.", "10m"),
            "ticket_for": unit("duration", "How long p95 must stay above the ticket threshold.", "30m"),
            "min_request_rate": number("Calls per second needed before p95 counts.", 0.05),
        }
        super().__init__()

    def histogram(self, service: Service) -> Histogram | None:
        return getattr(service.source, self.measure.histogram)

    def slo(self, service: Service) -> float | None:
        return getattr(service.slo, self.measure.slo_field)

    def auto(self, service):
        return self.slo(service) is not None and self.histogram(service) is not None

    def check(self, service, cfg):
        if self.slo(service) is None:
            raise FieldError(("enabled",), f"the {self.name} signal needs spec.slo.{self.measure.slo_field}")
        if self.histogram(service) is None:
            raise FieldError(("enabled",), self.measure.no_histogram.format(preset=service.source.preset))
        if cfg["ticket_at"] >= cfg["page_at"]:
            raise FieldError(("ticket_at",), f"expected a factor below page_at ({format_number(cfg['page_at'])}x)")
        p95.bounds(self.histogram(service).boundaries, self.slo(service), cfg)

    def warnings(self, service, cfg):
        return p95.warnings(self.histogram(service).boundaries, self.slo(service), cfg)

    def watched(self, service, cfg: Config) -> tuple[p95.Watched, p95.Watched]:
        """The page and the ticket, each with the bucket boundary it measures."""
        m = self.measure
        return p95.watch(service, self.name, cfg, self.histogram(service).boundaries, self.slo(service), m.buckets,
                         (m.page_alert, m.ticket_alert), m.summaries, m.what)

    def rules(self, service, cfg: Config) -> Rules:
        page, ticket = self.watched(service, cfg)
        records: list = []
        if self.measure.records:
            hist = self.histogram(service)
            records = [
                Recording(self.measure.buckets, rate_by(hist.buckets, 300, ("le",), service), static_labels(service)),
                Recording(self.measure.p95, f"histogram_quantile(0.95, {own(self.measure.buckets, service)})"),
            ]
        return Rules((Group(c.group_name(service.name, self.name), self.name, (*records, page.alert, ticket.alert)),))
