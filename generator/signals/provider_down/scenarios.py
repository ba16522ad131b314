"""The promtool scenarios of provider_down: its alerts' cases."""
from __future__ import annotations

import math
from dataclasses import replace

from ... import boundaries, conventions as c
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, ExprCheck, Phase, SAMPLE_SECONDS, Scenario, Stream
from ...sli import own
from ...synth import cooldown_series, probe_series
from ..base import alerts_in, expect, first_model
from .rules import ALERT, OUTAGE, ProviderDown


def probe(self: ProviderDown, service, cfg, alert) -> Probe:
    """The alert's thresholds: success ratio below the spec's, calls/s above its guard, for `for`."""
    p, model = first_model(service)

    def traffic(success: float, guard: float | None) -> Traffic:
        per_min = guard * 60 if guard is not None else max(100.0, cfg["min_request_rate"] * 600)
        ok = per_min * success
        # Traffic from minute 0: the rate window fills at `window` minutes, when a guard just passed starts to hold.
        return Traffic(boundaries.filling_onset(cfg["window"], guard, cfg["min_request_rate"]),
                       streams=(Stream(p.name, model, (Phase(60, ok=ok, errors=per_min - ok,
                                                             provider_errors=per_min - ok),)),),
                       value=success)

    def record(minute: int, holds: bool) -> tuple[ExprCheck, ...]:
        labels = tuple(sorted({"__name__": OUTAGE, c.PROVIDER: p.name, c.SERVICE: service.name,
                               c.TEAM: service.team}.items()))
        return (ExprCheck(minute, own(OUTAGE, service), ((labels, 1.0),) if holds else ()),)

    return Probe(alert, Clause(f"success ratio over {c.window(cfg['window'])}", "<", cfg["success_ratio_below"]),
                 cfg["for"], traffic, lambda t: (expect(alert, t.value, provider=p.name),),
                 guard=Clause("calls/s", ">", cfg["min_request_rate"]), record=record,
                 fine=cfg["window"] >= 2 * SAMPLE_SECONDS)

def _scenarios(self: ProviderDown, service, cfg, alert):
    yield from boundaries.scenarios(probe(self, service, cfg, alert))
    p, model = first_model(service)
    per_min = max(100.0, cfg["min_request_rate"] * 60 * 10)
    ok = round(per_min * cfg["success_ratio_below"] / 5)
    window = cfg["window"] / 60
    if window == int(window):
        # The failures start at minute 30; the ratio crosses while its window slides over them: the page is due
        # `for` after the first evaluation that sees it.
        onset, failing = boundaries.crossing(30, 0.0, 1 - ok / per_min, 1 - cfg["success_ratio_below"],
                                             int(window))
        ok = per_min * (1 - failing)
        at = math.ceil(onset) + math.ceil(cfg["for"] / 60)

        def success(n: float, at=at, failing=failing, window=int(window)) -> tuple:
            # the ratio `n` minutes after `at`, while its window may still fill (values bound now: the names
            # are reused below)
            ratio = 1 - boundaries.window_average(30, 0.0, failing, at + n, window)
            return (expect(alert, ratio, provider=p.name),)

        fires = (Check(at - 1, ALERT), Check(at, ALERT, success(0), due=True, later=success))
    else:
        at = 30 + math.ceil(window) + math.ceil(cfg["for"] / 60) + 1
        fires = (Check(at, ALERT, (expect(alert, ok / per_min, provider=p.name),), lasts=False,
                       onset=(30, 30 + math.ceil(window) + 1)),)
    down = Phase(at - 30 + 10, ok=ok, errors=per_min - ok, provider_errors=per_min - ok, latency=1)
    healthy = Phase(30, ok=per_min, latency=1)
    yield Scenario(
        f"{ALERT} fires when {p.name} answers {ok:g} of {per_min:g} calls a minute",
        streams=(Stream(p.name, model, (healthy, down)),),
        checks=(Check(25, ALERT),) + fires,
    )
    yield Scenario(
        f"{ALERT} stays silent on one failed request among {per_min * 10:g} a minute",
        streams=(Stream(p.name, model, (Phase(30, ok=per_min * 10), Phase(1, ok=per_min * 10 - 1, errors=1),
                                        Phase(20, ok=per_min * 10))),),
        checks=(Check(31, ALERT), Check(33, ALERT), Check(40, ALERT)),
    )
    yield Scenario(
        f"{ALERT} stays silent when a low-traffic service fails its only call",
        streams=(Stream(p.name, model, (Phase(30, ok=1), Phase(2, errors=1, provider_errors=1), Phase(20, ok=1))),),
        checks=(Check(31, ALERT), Check(32, ALERT), Check(35, ALERT)),
    )
    if service.source.cooldowns is not None:
        # The provider fails until the page has surely fired, then gets no calls (routed elsewhere) while its
        # deployments stay cooled down: the page holds on the cooldowns (value 0: no ratio to show), and lets go
        # once the last cooldown leaves the window. Every minute follows from the window and the `for`.
        window = -(-int(cfg["window"]) // 60)
        wait = -(-int(cfg["for"]) // 60)
        failing = window + wait + 5
        stopped = 30 + failing                   # calls stop; cooldowns go on
        gone = stopped + window + 10             # the last cooldown
        onset = (30, 30 + window + 1)            # the ratio crosses within the first window of failures
        # Another provider, if any, answers all along: where the calls go once they are routed away.
        q = next((x for x in service.providers if x.name != p.name), None)
        yield Scenario(
            f"{ALERT} keeps firing while {p.name}'s deployments stay cooled down after its calls stop, until the "
            "cooldowns end",
            streams=(Stream(p.name, model, (healthy, replace(down, minutes=failing), Phase(gone - stopped + 20))),
                     *((Stream(q.name, q.models[0] if q.models else "default",
                               (Phase(gone + 20, ok=per_min, latency=1),)),) if q else ())),
            series=(cooldown_series(service, p.name, [(35, 0), (gone - 35, 1), (20, 0)]),),
            checks=(Check(stopped - 1, ALERT, (expect(alert, ok / per_min, provider=p.name),), lasts=False,
                          onset=onset),
                    Check(stopped + window + 3, ALERT, (expect(alert, 0, provider=p.name),), lasts=False,
                          onset=onset),
                    Check(gone + window - 1, ALERT, (expect(alert, 0, provider=p.name),), lasts=False,
                          onset=onset),
                    Check(gone + window + 1, ALERT)),
        )
        yield Scenario(
            f"{ALERT} stays silent when {p.name}'s deployments are cooled down (rate limits) but its calls succeed",
            streams=(Stream(p.name, model, (Phase(40, ok=per_min),)),),
            series=(cooldown_series(service, p.name, [(10, 0), (20, 1), (10, 0)]),),
            checks=(Check(15, ALERT), Check(25, ALERT)),
        )
    probed = next((q for q in service.providers if q.probe_target), None)
    if probed:
        m = probed.models[0] if probed.models else "default"
        yield Scenario(
            f"{ALERT} fires when the synthetic probe of {probed.name} fails, even without traffic",
            streams=(Stream(probed.name, m, (Phase(60),)),),
            series=(probe_series(service, probed.name, [(30, 1), (30, 0)]),),
            checks=(Check(29, ALERT), Check(30 + int(cfg["for"] // 60) + 2, ALERT,
                                             (expect(alert, 0, provider=probed.name),))),
        )


def scenarios(self: ProviderDown, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[ALERT]))
