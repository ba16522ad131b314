"""The promtool scenarios of the histogram-p95 signals: calls beyond and within each alert's boundary, fed to the
histogram each measure reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from ... import boundaries
from ...boundaries import Traffic
from ...promql import example_labels, series_text
from ...rules import Check, Group, Phase, Scenario, Series, Stream
from ...spec.model import Service
from ...spec.units import format_number
from ...synth import counter_values
from .. import p95
from ..base import alerts_in, first_model
from .rules import HistogramP95


@dataclass(frozen=True)
class Synthesis:
    """How one measure's scenarios make their calls, and what they call them."""

    feed: Callable[[Service], p95.Feed]   # calls of the first model whose histogram records the phases' seconds
    probed: str                           # the probes' clause: share of calls with <probed> above the boundary
    what: str                             # the scenarios' names: every call has <what> so many seconds
    more: Callable[[HistogramP95, Service], Iterator[Scenario]] = lambda self, service: iter(())


def scenarios(self: HistogramP95, service, cfg, groups: tuple[Group, ...]) -> tuple[Scenario, ...]:
    """Each alert probed from both sides of its boundary, true latencies against each, and the measure's own cases."""
    alerts = alerts_in(groups)
    bounds = p95.bounds(self.histogram(service).boundaries, self.slo(service), cfg)
    page, ticket = (p95.Watched(alerts[name], b, cfg[for_key]) for name, b, for_key in (
        (self.measure.page_alert, bounds[0], "page_for"), (self.measure.ticket_alert, bounds[1], "ticket_for")))
    s = self.synthesis
    out = []
    for probe in p95.probes((page, ticket), cfg["min_request_rate"], s.feed(service), s.probed):
        out += boundaries.scenarios(probe)
    out += p95.scenarios(page, ticket, self.slo(service), s.feed(service), s.what)
    out += s.more(self, service)
    return tuple(out)


# ---- p95 latency of one model call: the streams' own latency histogram ----

def latency_feed(service) -> p95.Feed:
    """Calls of the first model whose latencies the stream's histogram records."""
    p, model = first_model(service)

    def make(per_min, phases):
        return Traffic(0, latency=True, streams=(Stream(p.name, model, tuple(
            Phase(minutes, ok=per_min, latency=fast, slow_share=share, slow_latency=slow)
            for minutes, fast, share, slow in phases)),))
    return make


def new_model_stays_silent(self: HistogramP95, service) -> Iterator[Scenario]:
    """A model whose first calls arrive mid-run, all within the SLO: its young histogram pages nothing."""
    page, ticket = self.measure.page_alert, self.measure.ticket_alert
    slo = self.slo(service)
    p, model = first_model(service)
    yield Scenario(
        f"{page} and {ticket} stay silent within the SLO, even when a new model appears",
        streams=(Stream(p.name, model, (Phase(60, ok=600, latency=slo / 2),)),
                 Stream(p.name, "new-model", (Phase(30), Phase(30, ok=60, latency=slo / 2)))),
        checks=(Check(59, page), Check(59, ticket)), latency=True,
    )


LATENCY = Synthesis(latency_feed, "latency", "latency", new_model_stays_silent)


# ---- p95 time to the first streamed chunk or token: its own histogram, written as series ----

def _first_token_histogram(service, per_min: float, phases: list[tuple[int, float, float, float]]
                           ) -> tuple[Series, ...]:
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


def first_token_feed(service) -> p95.Feed:
    """A steady stream of calls of the first model, and its first-token histogram over the phases."""
    p, model = first_model(service)

    def make(per_min, phases):
        return Traffic(0, streams=(Stream(p.name, model, (Phase(sum(m for m, *_ in phases), ok=per_min),)),),
                       series=_first_token_histogram(service, per_min, phases))
    return make


FIRST_TOKEN = Synthesis(first_token_feed, "time to first token", "a first token after")
