"""The promtool scenarios of rate_limit: its alerts' cases."""
from __future__ import annotations

import math

from ... import boundaries
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_duration
from ..base import alerts_in, expect, first_model
from .rules import BASELINE, PAGE_ALERT, RateLimit, SIGNAL_ALERT


def probes(self: RateLimit, service, cfg, signal, page) -> list[Probe]:
    """The 429 clause of both alerts: the rate-limited share above the spec's, calls/s above the guard."""
    p, model = first_model(service)
    minutes = int(cfg["page_after"] // 60) + 30

    def limited(ratio: float, guard: float | None) -> Traffic:
        per_min = guard * 60 if guard is not None else max(600.0, cfg["min_request_rate"] * 600)
        bad = per_min * ratio
        phase = Phase(minutes, ok=per_min - bad, errors=bad, rate_limited=bad)
        return Traffic(boundaries.filling_onset(300, guard, cfg["min_request_rate"]),
                       streams=(Stream(p.name, model, (phase,)),), value=ratio)

    clause = Clause("share of calls rate limited", ">", cfg["rate_limited_ratio_above"])
    guard = Clause("calls/s", ">", cfg["min_request_rate"])
    start = int(BASELINE // 60) + 120

    def busy(scale: float, guard_value: float | None) -> Traffic:
        # A day of steady traffic, then `scale` times as much: the 5m rate climbs as its window slides over the step.
        usual = max(600.0, cfg["min_request_rate"] * 600)
        try:
            onset, now = boundaries.crossing(start, usual, usual * scale, cfg["traffic_factor"] * usual)
        except ValueError:
            onset, now = start + 5, usual * scale  # it never holds: a silent case
        phases = (Phase(start, ok=usual), Phase(int(cfg["page_after"] // 60) + 30, ok=now))
        return Traffic(onset, streams=(Stream(p.name, model, phases),), value=now / 60)

    spike = Clause("calls/s / the same hour the day before", ">", cfg["traffic_factor"])
    return [Probe(a, clause, f, limited, lambda t, a=a: (expect(a, t.value),), guard=guard)
            for a, f in ((signal, cfg["for"]), (page, cfg["page_after"]))] + [
            Probe(a, spike, f, busy, lambda t, a=a: (expect(a, t.value),), step=5)
            for a, f in ((signal, cfg["for"]), (page, cfg["page_after"]))]

def _scenarios(self: RateLimit, service, cfg, signal, page):
    for probe in probes(self, service, cfg, signal, page):
        yield from boundaries.scenarios(probe)
    p, model = first_model(service)
    per_min = max(600.0, cfg["min_request_rate"] * 60 * 10)
    # The 429s start at minute 120; the 5m ratio crosses the threshold while its window fills.
    onset, share = boundaries.crossing(120, 0.0, min(0.5, cfg["rate_limited_ratio_above"] * 3),
                                       cfg["rate_limited_ratio_above"])
    limited = per_min * share
    fast = 120 + 5 + int(cfg["for"] // 60) + 1
    late = math.ceil(onset) + math.ceil(cfg["page_after"] / 60)  # its first evaluation past `page_after`
    stream = Stream(p.name, model, (Phase(120, ok=per_min),
                                    Phase(late - 120 + 5, ok=per_min - limited, errors=limited, rate_limited=limited)))
    yield Scenario(
        f"{SIGNAL_ALERT} fires on sustained 429s and {PAGE_ALERT} pages only after {format_duration(cfg['page_after'])}",
        streams=(stream,),
        checks=(Check(110, SIGNAL_ALERT), Check(fast, SIGNAL_ALERT, (expect(signal),)), Check(fast, PAGE_ALERT),
                Check(late - 1, PAGE_ALERT), Check(late, PAGE_ALERT, (expect(page),), due=True)),
    )
    busy = per_min * cfg["traffic_factor"] * 2
    yield Scenario(
        f"{SIGNAL_ALERT} stays silent on healthy traffic from an empty history (a cold start)",
        streams=(Stream(p.name, model, (Phase(180, ok=per_min),)),),
        checks=tuple(Check(m, SIGNAL_ALERT) for m in (2, 5, 10, 30, 60, 120, 175)),
    )
    yield Scenario(
        f"{SIGNAL_ALERT} does not engage on a {cfg['traffic_factor'] * 2:g}x traffic spike before the service has "
        f"a day of history",
        streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(30, ok=busy))),),
        checks=(Check(130, SIGNAL_ALERT), Check(145, SIGNAL_ALERT)),
    )
    day = BASELINE // 60
    # Every five minutes: a day of history at one-minute steps would make the test slow for nothing.
    yield Scenario(
        f"{SIGNAL_ALERT} engages on a {cfg['traffic_factor'] * 2:g}x traffic spike at the earliest once a day of history "
        "exists, and not before",
        streams=(Stream(p.name, model, (Phase(day - 30, ok=per_min), Phase(60, ok=busy))),),
        checks=(Check(day - 5, SIGNAL_ALERT), Check(day + 5 + _steps(cfg["for"], 5), SIGNAL_ALERT, (expect(signal),))),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{SIGNAL_ALERT} stays silent on a single 429 among {per_min:g} calls a minute",
        streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(1, ok=per_min - 1, errors=1, rate_limited=1),
                                        Phase(10, ok=per_min))),),
        checks=(Check(121, SIGNAL_ALERT), Check(125, SIGNAL_ALERT)),
    )


def _steps(seconds: float, step: int) -> int:
    """Minutes until a `for` of `seconds` has passed, on evaluations every `step` minutes."""
    return -(-int(seconds // 60) // step) * step


def scenarios(self: RateLimit, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[SIGNAL_ALERT], alerts[PAGE_ALERT]))
