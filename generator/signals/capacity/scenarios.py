"""The promtool scenarios of capacity: its alerts' cases."""
from __future__ import annotations

from ... import boundaries
from ...boundaries import Clause, Probe, Traffic
from ...content.links import percent
from ...promql import example_labels, series_text
from ...rules import Check, Phase, Scenario, Series, Stream
from ...spec.units import format_duration, format_number
from ...synth import counter_values, gauge_series
from ..base import alerts_in, expect, first_model
from .rules import Capacity, PAGE, SCALE_OUT, TICKET


def page_probes(self: Capacity, service, cfg, page) -> list[Probe]:
    """The page's KV-cache and preemption clauses, each alone (no queue) with p95 far above its SLO throughout,
    so the condition starts with the saturation, at the minute the gauge or counter moves: the page is pinned to
    its due minute (and so is its secondary tier), and is silent at the KV bound and within the preemption one."""
    p, model = first_model(service)
    sat = service.source.saturation
    start, minutes = 30, 120  # saturated for 2h: long past the secondary tier of any team's escalation delay
    at = start + 1  # a gauge's new value (and a counter's first increment) is read at the minute after its phase
    slow = (Stream(p.name, model, (Phase(start + minutes, ok=600.0, latency=max(service.slo.latency_p95 * 10, self.slow_boundary(service) * 2)),)),)

    def saturated(kv: float = 0.5, preempted: float = 0.0) -> tuple[Series, ...]:
        return (gauge_series(sat.waiting, [(start + minutes, 0)]),
                gauge_series(sat.kv_cache_usage, [(start, 0.3), (minutes, kv)]),
                _counter(sat.preemptions, [(start, 0.0), (minutes, preempted * 60)]))

    def kv_full(kv: float, _guard) -> Traffic:
        return Traffic(at, streams=slow, series=saturated(kv=kv), latency=True, value=kv)

    def preempting(per_second: float, _guard) -> Traffic:
        return Traffic(at, streams=slow, series=saturated(preempted=per_second), latency=True, value=per_second)

    def expected(t: Traffic) -> tuple:
        return (expect(page, t.value),)

    out = []
    kv = cfg["kv_cache_above"]
    if kv < 1:
        # Beyond: halfway to a full cache (a ratio cannot pass 1); inside: exactly at the bound, which must not page.
        out.append(Probe(page, Clause("KV-cache usage", ">", kv), cfg["page_after"], kv_full, expected,
                         beyond=(1 + kv) / 2, inside=kv))
    # Beyond: six times the bound (or 6 a minute when it is 0), so the first minute's preemptions alone (a fifth of
    # the steady rate over 5m) already cross it and the condition starts at that minute.
    bound = cfg["preemptions_above"]
    out.append(Probe(page, Clause("preemptions/s over 5m", ">", bound), cfg["page_after"], preempting, expected,
                     beyond=max(0.1, bound * 6)))
    return out

def _scenarios(self: Capacity, service, cfg, scale, ticket, page):
    p, model = first_model(service)
    sat = service.source.saturation
    bound = cfg["queue_above"]
    slo = service.slo.latency_p95 or 1.0
    calls = 600.0
    start, minutes = 30, 60
    over = int(cfg["scale_out_after"] // 60)

    def gauges(waiting: float, kv: float = 0.5) -> tuple[Series, ...]:
        return (gauge_series(sat.waiting, [(start, 0), (minutes, waiting)]),
                gauge_series(sat.kv_cache_usage, [(start, 0.3), (minutes, kv)]),
                _counter(sat.preemptions, [(start + minutes, 0.0)]))

    def traffic(latency: float) -> tuple[Stream, ...]:
        return (Stream(p.name, model, (Phase(start, ok=calls, latency=0.5),
                                       Phase(minutes, ok=calls, latency=latency))),)

    edge = self.slow_boundary(service) if page is not None else slo

    def slow_share(share: float) -> tuple[Stream, ...]:
        # Most calls well inside the boundary the page counts beyond, `share` of them 10% beyond it.
        return (Stream(p.name, model, (Phase(start, ok=calls, latency=0.5),
                                       Phase(minutes, ok=calls, latency=edge / 2, slow_share=share,
                                             slow_latency=edge * 1.1))),)

    busy = bound * 1.1  # just above the bound: a queue bound half as large again would stay silent
    slow = max(slo * 10, edge * 2)
    within = min(0.5, slo / 2)  # every call well inside the SLO
    at = start + 1  # a gauge's new value is read from the minute after its phase starts
    checks = [Check(start - 1, SCALE_OUT),
              # Due `scale_out_after` after the queue builds, not one evaluation earlier.
              Check(at + over - 1, SCALE_OUT),
              Check(at + over, SCALE_OUT, (expect(scale, busy),)),
              Check(at + over + 1, SCALE_OUT, (expect(scale, busy),)),
              Check(at + int(cfg["ticket_after"] // 60) - 2, TICKET),
              Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, busy),))]
    if page is not None:
        checks += [Check(at + int(cfg["page_after"] // 60) - 2, PAGE),
                   Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, busy),))]
    yield Scenario(
        f"{SCALE_OUT} asks automation first when {format_number(busy)} requests wait, {TICKET} follows after "
        f"{format_duration(cfg['ticket_after'])}" + (f" and {PAGE} pages while p95 is {format_number(slow)}s"
                                                      if page is not None else ""),
        streams=traffic(slow), series=gauges(busy), checks=tuple(checks), latency=True,
    )
    # `scale_out_after` at a step fine enough to see it end: a gauge holds its value until the next sample, so
    # the queue is there from minute `at` exactly.
    fine = boundaries.for_step(60, cfg["scale_out_after"])
    if fine < 60:
        due = boundaries.on_grid(at, fine) + boundaries.on_grid(cfg["scale_out_after"] / 60, fine)
        yield Scenario(
            f"{SCALE_OUT} is due {format_duration(cfg['scale_out_after'])} after {format_number(busy)} requests "
            f"start waiting, not one evaluation ({format_duration(fine)}) earlier",
            streams=traffic(0.5), series=gauges(busy),
            checks=(Check(due - fine / 60, SCALE_OUT), Check(due, SCALE_OUT, (expect(scale, busy),), lasts=False)),
            latency=True, evaluation_interval=fine,
        )
    quiet = [Check(at + over + 1, SCALE_OUT), Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET)]
    yield Scenario(
        f"{SCALE_OUT} and {TICKET} stay silent with exactly {format_number(bound)} requests waiting (the bound)",
        streams=traffic(0.5), series=gauges(bound), checks=tuple(quiet), latency=True,
    )
    if page is not None:
        yield Scenario(
            f"{PAGE} stays silent while saturated but p95 latency is within its {format_number(slo)}s SLO; "
            f"{TICKET} still opens",
            streams=traffic(within), series=gauges(busy),
            checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE),
                    Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, busy),))),
            latency=True,
        )
    full = min(1.0, (1 + cfg["kv_cache_above"]) / 2)
    yield Scenario(
        f"{SCALE_OUT} fires on a KV cache {percent(full)} full with no queue, and not at {percent(cfg['kv_cache_above'])}",
        streams=traffic(0.5), series=gauges(0, full),
        checks=(Check(at + over + 1, SCALE_OUT, (expect(scale, full),)),
                # the ticket reads the same clause
                Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, full),), lasts=False)),
        latency=True,
    )
    yield Scenario(
        f"{SCALE_OUT} stays silent with the KV cache exactly at {percent(cfg['kv_cache_above'])}",
        streams=traffic(0.5), series=gauges(0, cfg["kv_cache_above"]),
        checks=(Check(at + over + 1, SCALE_OUT), Check(at + 20, SCALE_OUT),
                Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET)), latency=True,
    )
    if page is not None:
        # The page's own saturation clauses, with p95 far above the SLO: silent at the queue bound (and a KV cache
        # and preemptions within theirs), firing on a KV cache past its bound.
        yield Scenario(
            f"{PAGE} stays silent with exactly {format_number(bound)} requests waiting while p95 is "
            f"{format_number(slow)}s",
            streams=traffic(slow), series=gauges(bound),
            checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, settled=True),), latency=True,
        )
        yield Scenario(
            f"{PAGE} pages on a KV cache {percent(full)} full with no queue while p95 is {format_number(slow)}s",
            streams=traffic(slow), series=gauges(0, full),
            checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, full),)),),
            latency=True,
        )
        # Its latency clause from both sides, with the queue past its bound: 10% of calls beyond the boundary it
        # counts pages, exactly 5% (p95 at the boundary, not above) does not.
        yield Scenario(
            f"{PAGE} pages while saturated and 10% of calls take longer than {format_number(edge)}s",
            streams=slow_share(0.1), series=gauges(busy),
            # lasts: the secondary tier reads the same latency clause, checked `delay` later
            checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, busy),)),),
            latency=True,
        )
        yield Scenario(
            f"{PAGE} stays silent while saturated and exactly 5% of calls take longer than "
            f"{format_number(edge)}s (p95 at it, not above)",
            streams=slow_share(0.05), series=gauges(busy),
            checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, settled=True),), latency=True,
        )
        for probe in page_probes(self, service, cfg, page):
            yield from boundaries.scenarios(probe)
    per_min = max(6.0, (cfg["preemptions_above"] * 60) * 2)
    yield Scenario(
        f"{SCALE_OUT} fires when requests are preempted ({format_number(per_min)} a minute)",
        streams=traffic(0.5),
        series=(gauge_series(sat.waiting, [(start + minutes, 0)]), gauge_series(sat.kv_cache_usage, [(start + minutes, 0.5)]),
                _counter(sat.preemptions, [(start, 0.0), (minutes, per_min)])),
        checks=(Check(start - 1, SCALE_OUT), Check(start + 5 + over + 1, SCALE_OUT, (expect(scale, per_min / 60),)),
                Check(start + 5 + int(cfg["ticket_after"] // 60) + 1, TICKET, (expect(ticket, per_min / 60),),
                      lasts=False)),
        latency=True,
    )


def _counter(selector, phases: list[tuple[int, float]]) -> Series:
    labels = example_labels(selector.metric, {}, [selector], [])
    return Series(series_text(selector.metric, labels), counter_values(phases))


def scenarios(self: Capacity, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[SCALE_OUT], alerts[TICKET], alerts.get(PAGE)))
