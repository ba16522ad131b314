"""The promtool scenarios of error_spike: its alerts' cases."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from ... import boundaries, outage
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_duration, format_number
from ...synth import Seen, window_sum
from ..base import alerts_in, error_ceiling, expect, first_model
from .rules import ALERT, ErrorSpike, GROWING, GROWTH, RAMP_TOP


def probes(self: ErrorSpike, service, cfg, steady) -> list[Probe]:
    """The steady page's thresholds, after a day of history at a steady error ratio (5m evaluations): the ratio
    against `factor` times that baseline, against the floor `min_error_ratio`, and calls/s against the guard."""
    p, model = first_model(service)
    start = int(max(self.history(service, cfg), 86400) // 60) + 120   # the same hour a day ago, and the baseline's history
    minutes = start + int(cfg["for"] // 60) + 30

    def traffic(baseline: float) -> Callable[[float, float | None], Traffic]:
        def make(ratio: float, guard: float | None) -> Traffic:
            per_min = guard * 60 if guard is not None else max(1000.0, cfg["min_request_rate"] * 1200)
            # With the same-hour baseline, yesterday's hour runs at `baseline` and the rest of the day at twice it.
            shape = (((start, 1.0),) if cfg["baseline_mode"] == "last_week" else
                     boundaries.same_hour_history(start, cfg["factor"]))
            before = tuple(Phase(m, ok=per_min * (1 - baseline * k), errors=per_min * baseline * k) for m, k in shape)
            now = ratio * baseline if baseline else ratio
            # The 5m ratio moves from the last hour's level to the new one as the window slides over `start`.
            threshold = max(cfg["factor"] * baseline, cfg["min_error_ratio"])
            try:
                onset, now = boundaries.crossing(start, baseline * shape[-1][1], now, threshold)
            except ValueError:
                onset = start + 5  # it never holds: a silent case
            after = Phase(minutes - start, ok=per_min * (1 - now), errors=per_min * now)
            return Traffic(onset, streams=(Stream(p.name, model, (*before, after)),), value=now)
        return make

    expected = lambda t: (expect(steady, t.value),)  # noqa: E731
    guard = Clause("calls/s", ">", cfg["min_request_rate"])
    # A baseline whose multiple clears the floor with room to spare, so only the factor decides...
    usual = cfg["min_error_ratio"] * 1.5 / cfg["factor"]
    by_factor = Probe(steady, Clause("error ratio / its usual ratio", ">", cfg["factor"]), cfg["for"],
                      traffic(usual), expected, guard=guard, step=5)
    # ...and a clean history (no errors: any ratio is far above it), so only the floor decides.
    by_floor = Probe(steady, Clause("error ratio", ">", cfg["min_error_ratio"]), cfg["for"], traffic(0.0),
                     expected, step=5)
    return [by_factor, by_floor]

def growing_probes(self: ErrorSpike, service, cfg, growing) -> list[Scenario]:
    """The growing page's thresholds on ramps. After a day of history at a steady ratio, the share of failed calls
    grows by a steady factor every 5 minutes, so the ratio crosses a threshold at a minute computed here from the
    spec's numbers; the page is due `growing_for` later and silent one evaluation before. One ramp's onset is
    decided by `factor` (traffic just above the guard, growing just faster than GROWTH), one by the floor; a ramp
    growing just slower than GROWTH, and the first ramp just below the guard, stay silent."""
    p, model = first_model(service)
    week = cfg["baseline_mode"] == "last_week"
    start = int(max(self.history(service, cfg), 86400) // 60) + 120
    # The same-hour baseline holds `usual` until 2 hours after `start` (boundaries.same_hour_history).
    horizon = start + 120
    factor, floor, guard = cfg["factor"], cfg["min_error_ratio"], cfg["min_request_rate"]
    # Ramps stop short of a provider outage, whose page would mute this one.
    top = min(RAMP_TOP, error_ceiling(service) * 0.9)
    faster, slower = GROWTH * (1 + boundaries.MARGIN), GROWTH * (1 - boundaries.MARGIN)
    gf = cfg["growing_for"] / 60
    comfortable = max(1000.0, guard * 1200) / 60

    def ramp(usual: float, crossing: float, growth: float, rate: float, step: float):
        """The stream, and the alert's condition and error ratio at an evaluation time (minutes), as the spec
        defines them: ratio > factor x baseline, > floor, calls/s > guard, ratio > GROWTH x ratio 5m earlier."""
        per_min = rate * 60
        shape = ((start, 1.0),) if week else boundaries.same_hour_history(start, cfg["factor"])
        phases = [Phase(m, ok=per_min * (1 - usual * k), errors=per_min * usual * k) for m, k in shape]
        share = crossing / growth ** 2  # ten minutes of growth before the ratio crosses
        while share < top and len(phases) - len(shape) < horizon - start:
            phases.append(Phase(1, ok=per_min * (1 - share), errors=per_min * share))
            share *= growth ** (1 / 5)
        phases.append(Phase(horizon - start + 60, ok=phases[-1].ok, errors=phases[-1].errors))
        stream = Stream(p.name, model, tuple(phases))
        seen = Seen(stream)

        def ratio(t: float, minutes: int = 5) -> float:
            errors = seen("errors", t, minutes)
            return errors / (errors + seen("ok", t, minutes))

        # No week of history in `last_week` mode: the baseline is the day's average of the recorded 1h ratio, one
        # sample per evaluation. The history's hours all ran at `usual`; the ramp's add up from `start` on.
        hourly = [0.0]
        for k in range(1, int((horizon - start) / step) + 1 if week else 0):
            hourly.append(hourly[-1] + ratio(start + k * step, 60))
        count = int(1440 / step) + 1

        def baseline(t: float) -> float:
            if not week:
                return usual  # the same hour a day earlier ran at `usual`
            k = round((t - start) / step)
            return (usual * (count - k) + hourly[k]) / count

        def holds(t: float, but: str = "") -> bool:
            """The condition at `t`; `but`: except this clause ("guard" or "growth")."""
            now = ratio(t)
            return (now > factor * baseline(t) and now > floor and (but == "guard" or rate > guard)
                    and (but == "growth" or now > GROWTH * ratio(t - 5)))

        return stream, ratio, holds

    def grid(step: float) -> list[float]:
        return [start + k * step for k in range(int((horizon - start) / step) + 1)]

    def fires(name: str, usual: float, crossing: float, rate: float, step_seconds: float) -> Scenario:
        step = step_seconds / 60
        stream, ratio, holds = ramp(usual, crossing, faster, rate, step)
        times = grid(step)
        onset = next(t for t in times if holds(t))
        due = boundaries.on_grid(onset + gf, step_seconds)
        assert all(holds(t) for t in times if onset <= t <= due), (service.name, name)
        last = next((t for t in times if t > due and not holds(t)), horizon + step) - step
        return Scenario(
            f"{GROWING} fires {name}: due {format_duration(cfg['growing_for'])} after it crosses, not one "
            f"evaluation ({format_duration(step_seconds)}) earlier",
            streams=(stream,),
            checks=(Check(due - step, GROWING),
                    Check(due, GROWING, (expect(growing, ratio(due)),), due=True, lasts_for=last - due,
                          later=lambda n: (expect(growing, ratio(due + n)),))),
            evaluation_interval=step_seconds)

    def silent(name: str, usual: float, crossing: float, growth: float, rate: float, but: str) -> Scenario:
        step = 5
        stream, _, holds = ramp(usual, crossing, growth, rate, step)
        times = grid(step)
        assert not any(holds(t) for t in times), (service.name, name)
        # Checked when it would be due but for the clause under test, and once settled.
        onset = next(t for t in times if holds(t, but))
        due = boundaries.on_grid(onset + gf, step * 60)
        return Scenario(f"{GROWING} stays silent {name}", streams=(stream,),
                        checks=(Check(due, GROWING), Check(due + 10, GROWING, settled=True)),
                        evaluation_interval=step * 60)

    by_factor = max(floor * 1.5, 0.01)  # the factor's threshold, clear of the floor: the factor decides
    usual = by_factor / factor
    fine = boundaries.for_step(60, cfg["growing_for"])
    out = []
    # A ramp needs room to grow past the threshold it probes (a floor of 60% leaves none).
    by_factor_fits = by_factor * faster ** 2 < top
    if by_factor_fits:
        calls = f"{format_number(round(guard * 1.1, 6))} calls/s" if guard else f"{comfortable:g} calls/s"
        out.append(fires(f"when the error ratio passes {format_number(factor)}x its usual {usual:.2%} (growing "
                         f"{faster:g}x every 5 minutes, {calls})", usual, by_factor,
                         guard * (1 + boundaries.MARGIN) if guard else comfortable, fine))
    if 0 < floor and floor * faster ** 2 < top:
        out.append(fires(f"when the error ratio passes the floor {floor:.2%} (from no errors, growing {faster:g}x "
                         "every 5 minutes)", 0.0, floor, comfortable, 60))
    if by_factor_fits:
        out.append(silent(f"while the error ratio grows only {slower:g}x every 5 minutes past "
                          f"{format_number(factor)}x its usual ratio", usual, by_factor, slower, comfortable,
                          "growth"))
        if guard:
            out.append(silent(f"at {format_number(round(guard * 0.9, 6))} calls/s, below the traffic guard, while "
                              f"the error ratio grows {faster:g}x every 5 minutes past {format_number(factor)}x its "
                              "usual ratio", usual, by_factor, faster, guard * (1 - boundaries.MARGIN), "guard"))
    return out

def _scenarios(self: ErrorSpike, service, cfg, steady, growing):
    yield from growing_probes(self, service, cfg, growing)
    for probe in probes(self, service, cfg, steady):
        for s in boundaries.scenarios(probe):
            # The steady ratio does not grow: the growing page stays silent while the steady one fires, and
            # (settled) its secondary tier too once that would be due.
            yield replace(s, checks=s.checks + tuple(Check(ch.minute, GROWING, settled=True)
                                                     for ch in s.checks if ch.due))
    p, model = first_model(service)
    # The baseline needs its history (a day, or a week for "same hour last week"): evaluating every 5 minutes
    # keeps these tests quick.
    week = cfg["baseline_mode"] == "last_week"
    step = 5
    history = int(self.history(service, cfg) // 60)

    def at(minute: int) -> int:
        return -(-minute // step) * step

    t0 = 7 * 24 * 60 + 120 if week else at(history + 120)

    per_min = max(1000.0, cfg["min_request_rate"] * 60 * 20)
    base_err = per_min * cfg["min_error_ratio"] / 4
    # Far past the factor and the floor, short of a provider outage (whose page would mute this one).
    top = min(0.5, error_ceiling(service) * 0.9)
    spike_err = min(per_min * top, max(per_min * cfg["min_error_ratio"] * 5, base_err * cfg["factor"] * 4))
    normal = Phase(t0, ok=per_min - base_err, errors=base_err)
    # The 5m ratio holds the whole jump at the first evaluation after it: pending then, firing `for` later.
    fires_at = t0 + step + at(math.ceil(cfg["for"] / 60))
    spike = Phase(fires_at - t0 + 5, ok=per_min - spike_err, errors=spike_err, provider_errors=spike_err)
    interval = step * 60
    yield Scenario(
        f"{ALERT} fires when errors jump from {base_err / per_min:.1%} to {spike_err / per_min:.1%} of calls",
        streams=(Stream(p.name, model, (normal, spike)),),
        checks=(Check(at(t0 - 10), ALERT), Check(fires_at - step, ALERT),
                Check(fires_at, ALERT, (expect(steady, spike_err / per_min),), due=True), Check(fires_at, GROWING)),
        evaluation_interval=interval,
    )
    if week:
        start = history + 120
        short = at(start + 5 + int(cfg["for"] // 60) + 2)
        yield Scenario(
            f"{ALERT} still fires without last week's data: the baseline falls back to the day's average",
            streams=(Stream(p.name, model, (Phase(start, ok=per_min - base_err, errors=base_err),
                                            Phase(short - start + 5, ok=per_min - spike_err, errors=spike_err))),),
            checks=(Check(short, ALERT, (expect(steady, spike_err / per_min),)),),
            evaluation_interval=interval,
        )
        # Last week's hour, not the day's average: the hours around t0 a week earlier ran at `usual`, every other
        # hour at twice it. A spike to 1.5x `factor` x usual pages against last week's hour; against the day's
        # average (2x usual) it would not. With `factor` x usual at the floor, the other hours stay below it.
        usual = cfg["min_error_ratio"] / cfg["factor"]
        if cfg["factor"] > 2 and 1.5 * cfg["min_error_ratio"] < 0.5:
            week_ago = t0 - 7 * 24 * 60
            before = (Phase(week_ago - 60, ok=per_min * (1 - 2 * usual), errors=per_min * 2 * usual),
                      Phase(120, ok=per_min * (1 - usual), errors=per_min * usual),
                      Phase(t0 - week_ago - 60, ok=per_min * (1 - 2 * usual), errors=per_min * 2 * usual))
            jump = 1.5 * cfg["min_error_ratio"]
            due = at(t0 + 5 + int(cfg["for"] // 60))
            yield Scenario(
                f"{ALERT} compares with the same hour last week, not the day's average: errors jump to "
                f"{jump:.1%} of calls, 1.5x {format_number(cfg['factor'])} x last week's {usual:.2%} and under "
                f"{format_number(cfg['factor'])} x the day's {2 * usual:.2%}",
                streams=(Stream(p.name, model, (*before, Phase(due - t0 + 5, ok=per_min * (1 - jump),
                                                               errors=per_min * jump))),),
                checks=(Check(due, ALERT, (expect(steady, jump),)),),
                evaluation_interval=interval,
            )
    # The earliest it can page: a spike that starts before the baseline has its history stays silent until the
    # history is there, then pages after `for`.
    h = int(self.history(service, cfg) // 60)
    yield Scenario(
        f"{ALERT} can page at the earliest once {format_duration(self.history(service, cfg))} of history exist: a "
        "spike that starts 30 minutes earlier stays silent until then",
        streams=(Stream(p.name, model, (Phase(h - 30, ok=per_min - base_err, errors=base_err),
                                        Phase(90, ok=per_min - spike_err, errors=spike_err))),),
        checks=(Check(at(h - 5), ALERT), Check(at(h + 5 + int(cfg["for"] // 60)), ALERT,
                                                (expect(steady, spike_err / per_min),), lasts=False)),
        evaluation_interval=interval,
    )
    # A ramp: errors grow 5% a minute (28% every 5 minutes) for an hour, so the growing alert pages before the
    # steady one and is still growing when its secondary tier comes due.
    start = per_min * max(cfg["min_error_ratio"], cfg["factor"] * base_err / per_min) / 2
    ramp = [Phase(1, ok=per_min - e, errors=e) for e in (min(start * 1.05 ** k, per_min / 2) for k in range(60))]
    stream = Stream(p.name, model, (normal, *ramp))
    early = 120
    yield Scenario(
        f"{ALERT} and {GROWING} stay silent from an empty history: healthy traffic, then the growing ramp before "
        f"the baseline holds {format_duration(self.history(service, cfg))}",
        streams=(Stream(p.name, model, (Phase(early, ok=per_min - base_err, errors=base_err), *ramp)),),
        checks=tuple(Check(at(m), a) for m in (5, 30, 60, early + 20, early + 30, early + 50) for a in (ALERT, GROWING)),
        evaluation_interval=interval,
    )

    def ratio_at(minute: int) -> float:
        errors = window_sum(stream, "errors", minute, 5)
        return errors / (window_sum(stream, "ok", minute, 5) + errors)

    def grows(minute: int) -> bool:
        now = ratio_at(minute)
        return (now > max(cfg["min_error_ratio"], cfg["factor"] * base_err / per_min)
                and now > GROWTH * ratio_at(minute - 5))

    onset = next((m for m in range(t0, t0 + 60, step) if grows(m)), None)
    if onset is not None:
        when = at(onset + int(cfg["growing_for"] // 60) + 1)
        last = next((m for m in range(when, t0 + 60, step) if not grows(m)), t0 + 60) - step  # the ramp's hour
        # The steady page waits its longer `for` (unless `growing_for` is as long).
        steady_silent = (Check(when, ALERT),) if when < onset + cfg["for"] / 60 else ()
        yield Scenario(
            f"{GROWING} pages sooner while the error ratio keeps growing",
            streams=(stream,),
            checks=(Check(when, GROWING, (expect(growing, ratio_at(when)),), lasts_for=last - when,
                          later=lambda n: (expect(growing, ratio_at(when + n)),)),) + steady_silent,
            evaluation_interval=interval,
        )
    yield Scenario(
        f"{ALERT} stays silent on one failed request among {per_min:g} a minute, and when a new model appears",
        streams=(Stream(p.name, model, (Phase(t0, ok=per_min), Phase(1, ok=per_min - 1, errors=1),
                                        Phase(30, ok=per_min))),
                 Stream(p.name, "new-model", (Phase(t0), Phase(31, ok=per_min / 10)))),
        checks=(Check(at(t0 + 2), ALERT), Check(at(t0 + 2), GROWING), Check(at(t0 + 20), ALERT),
                Check(at(t0 + 20), GROWING)),
        evaluation_interval=interval,
    )
    yield Scenario(
        f"{ALERT} stays silent when a low-traffic service fails a few calls",
        streams=(Stream(p.name, model, (Phase(t0, ok=2), Phase(15, ok=1, errors=1))),),
        checks=(Check(at(t0 + 10), ALERT), Check(at(t0 + 10), GROWING)),
        evaluation_interval=interval,
    )


def scenarios(self: ErrorSpike, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[ALERT], alerts[GROWING]))
