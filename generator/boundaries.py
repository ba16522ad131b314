"""Boundary scenarios: each threshold of an alert probed from both sides, and its `for` at the minute it is due.

A signal declares what an alert compares (`Clause`: the quantity, the comparison, the value from the spec), its
minimum-traffic guard and its `for`, and says how to produce traffic holding a given value (`Probe.traffic`). From
that alone come the scenarios: just beyond the threshold with traffic just above the guard (silent one evaluation
before `for` is over, firing when it is), just inside the threshold (silent), and just below the guard (silent).
Expected values come from the spec's numbers and the traffic, never from the rule's expression.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from .rules import Alert, Check, Expected, ExprCheck, Scenario
from .spec.units import format_duration, format_number

MARGIN = 0.1  # "just beyond" and "just inside": within 10% of the threshold


@dataclass(frozen=True)
class Clause:
    """`quantity op value`: one comparison of an alert, with the value taken from the spec."""

    quantity: str
    op: str  # ">" or "<"
    value: float

    def beyond(self, margin: float = MARGIN) -> float:
        """A value just past the threshold (the clause holds)."""
        return self.value * (1 + margin) if self.op == ">" else self.value * (1 - margin)

    def inside(self, margin: float = MARGIN) -> float:
        """A value just short of the threshold (the clause does not hold)."""
        return self.value * (1 - margin) if self.op == ">" else self.value * (1 + margin)

    def text(self, value: float) -> str:
        return f"{self.quantity} {format_number(round(value, 6))} (threshold: {self.op} " \
               f"{format_number(self.value)})"


@dataclass(frozen=True)
class Traffic:
    """Scenario inputs holding a quantity at a value, and the minute from which the alert's condition holds."""

    onset: int
    streams: tuple = ()
    series: tuple = ()
    eval_series: tuple = ()
    latency: bool = False
    value: float = 0.0  # the alert's value ($value) while the condition holds
    value_at: Callable[[int], float] | None = None  # ...or, when it moves, its value at a minute


@dataclass(frozen=True)
class Probe:
    """An alert's declared thresholds, and how its signal makes traffic for them.

    `traffic(quantity, guard)` returns inputs in which the compared quantity is `quantity` and the guarded traffic
    is `guard` (or None: the signal's comfortable default, well above any guard).
    """

    alert: Alert
    clause: Clause
    for_seconds: float
    traffic: Callable[[float, float | None], Traffic]
    expected: Callable[[Traffic], tuple[Expected, ...]]
    guard: Clause | None = None
    beyond: float | None = None   # overrides of clause.beyond()/inside(), e.g. a histogram bucket either side
    inside: float | None = None
    step: int = 1                 # minutes between evaluations
    settle: int = 10              # minutes after `for` at which the silent cases are checked
    extra_checks: tuple[Check, ...] = field(default=())
    # A recorded series that mirrors the condition (1 while it holds), checked along: minute, holds -> checks.
    record: Callable[[int, bool], tuple[ExprCheck, ...]] | None = None
    # Run the firing scenario at the step that sees the `for` end (`for_step`). Off where the traffic starts with
    # the scenario: the counters' first minutes move rates between whole minutes, so the onset is not a minute.
    fine: bool = True


def filling_onset(window_seconds: float, guard: float | None, threshold: float) -> float:
    """The minute from which calls at `guard` per second, counted from 0 at minute 0 (a sample a minute), read as a
    rate above `threshold` over `window_seconds`; None guard: a rate far above, from the second sample.

    While the window is not yet full, rate() extrapolates the counter to the window's end but not before its first
    (zero) sample, so it reads guard x t / window at minute t: just past the threshold it holds from
    window x threshold / guard minutes, before the window is full (4m45s of a 5m window at 10% beyond; at 1m steps
    only the full window shows it). Returned a second later: at equality `>` does not hold."""
    if guard is None:
        return 1.0
    return max(1.0, (math.floor(window_seconds * threshold / guard) + 1) / 60)


def window_average(start: int, before: float, after: float, t: float, window_minutes: int = 5) -> float:
    """The rate at time `t` (minutes) over `window_minutes` of a counter that grows by `before` a minute until minute
    `start` and by `after` from then on, per minute.

    rate() reads the samples inside its window, a minute apart: at a whole minute m the increments of minutes
    m - w + 1 .. m, between whole minutes one fewer, so the rate is their average (a ratio of two such counters with
    the same calls a minute: the average ratio)."""
    last = math.floor(t + 1e-9)
    whole = abs(t - round(t)) < 1e-9
    increments = [after if k > start else before
                  for k in range(last - window_minutes + (1 if whole else 2), last + 1)]
    return sum(increments) / len(increments)


def crossing(start: int, before: float, after: float, threshold: float, window_minutes: int = 5
             ) -> tuple[float, float]:
    """(the first time in minutes at which `window_average` is above `threshold`, the `after` it took).

    A step of the evaluation grid can see the crossing between whole minutes: the time returned is then one second
    after the minute, so the grid's next evaluation is the first. Where the average would land exactly on the
    threshold at some minute (k of 60 increments at round numbers), Prometheus' float arithmetic decides either way:
    `after` is raised by a hair until no minute does. ValueError: `after` never gets above it."""
    if before > threshold:
        raise ValueError(f"already above {threshold} before minute {start}")
    for _ in range(20):
        found = None
        tied = False
        for m in range(start, start + window_minutes + 1):
            for t in ((m + 1 / 60, m + 1.0) if window_minutes > 1 else (m + 1.0,)):
                x = window_average(start, before, after, t, window_minutes)
                tied = tied or abs(x - threshold) <= 1e-9 * abs(threshold)
                if found is None and x > threshold:
                    found = t
        if not tied:
            if found is None:
                raise ValueError(f"{after} a minute never gets above {threshold}")
            return found, after
        after *= 1 + 1e-4
    raise ValueError(f"{after} a minute ties with {threshold}")


def same_hour_history(start: int, factor: float) -> tuple[tuple[int, float], ...]:
    """(minutes, level) phases of a `start`-minute history whose hours around `start` on every previous day run at 1x
    and every other hour higher: a baseline that forgets the time of day (a daily average) sees nearly that much more
    than the same hour on the previous days, so probes built on it tell the two apart (and the same-hour baseline,
    an average over the previous days that have the hour, is 1x however many days the history holds). The other
    hours run at 2x, or halfway to the alert's `factor` when it is below 2, so the history itself never crosses it."""
    assert start - 1440 - 60 > 0, start
    other = min(2.0, (1 + factor) / 2)
    out: list[tuple[int, float]] = []
    at = 0
    for days in range(start // 1440, 0, -1):
        quiet = start - days * 1440 - 60   # from an hour before this time of day to two hours after
        if quiet <= 0:
            continue
        out += [(quiet - at, other), (180, 1.0)]
        at = quiet + 180
    return tuple(out) + ((start - at, other),)


FOR_SHORTER = 0.67  # a `for` this much shorter must be seen firing early


def for_step(step_seconds: float, for_seconds: float) -> float:
    """The evaluation step (seconds) at which the firing scenario sees its `for`: `step_seconds` divided by the
    smallest whole number that leaves an evaluation after FOR_SHORTER x `for` and before `for` is over, so an alert
    that waits only that long is caught firing one step early. (At 5-minute steps a 10m `for` and a 6m42s one both
    fire at the second evaluation; at 2m30s steps the shorter one fires at 7m30s.) The step stays a divisor of
    `step_seconds`, so the scenario's minutes stay on its grid."""
    if for_seconds <= 0:
        return step_seconds
    for k in range(1, 13):
        s = step_seconds / k
        if s != int(s):
            continue
        wait = -(-for_seconds // s) * s
        if wait - s > round(for_seconds * FOR_SHORTER):
            return s
    return step_seconds


def on_grid(minute: float, step_seconds: float) -> float:
    """The first evaluation at or after `minute` of a grid `step_seconds` apart (from 0), in minutes."""
    return -(-round(minute * 60) // step_seconds) * step_seconds / 60


def scenarios(probe: Probe) -> Iterator[Scenario]:
    """The boundary scenarios of one alert: fires just beyond (at `for`, not before), silent just inside."""
    a, cl = probe.alert.alert, probe.clause
    g = probe.guard if probe.guard and probe.guard.value > 0 else None  # a guard of 0 calls/s guards nothing
    beyond = probe.beyond if probe.beyond is not None else cl.beyond()
    inside = probe.inside if probe.inside is not None else cl.inside()
    wait = -(-int(probe.for_seconds // 60) // probe.step) * probe.step
    fine = for_step(probe.step * 60, probe.for_seconds) if probe.fine else probe.step * 60
    fires = probe.traffic(beyond, g.beyond() if g else None)
    # `onset` is the first whole minute at which the condition holds (rates over whole-minute windows of per-minute
    # samples keep their value until the next minute): the first evaluation of the fine grid from then on starts
    # the `for`, which ends a whole number of fine steps later.
    start = on_grid(fires.onset, fine)
    due = start + on_grid(probe.for_seconds / 60, fine)
    at_due = replace(fires, value=fires.value_at(due)) if fires.value_at else fires
    later = (lambda n: probe.expected(replace(fires, value=fires.value_at(due + n)))) \
        if fires.value_at else None
    checks = [Check(due, a, probe.expected(at_due), due=True, later=later)]
    if wait:
        checks.insert(0, Check(due - fine / 60, a))
    guard_text = f", {g.text(g.beyond())}" if g else ""
    yield Scenario(
        f"{a} fires at {cl.text(beyond)}{guard_text}: due {format_duration(probe.for_seconds)} after it starts, "
        f"not one evaluation ({format_duration(fine)}) earlier",
        checks=tuple(checks) + probe.extra_checks, streams=fires.streams, series=fires.series,
        exprs=probe.record(due, True) if probe.record else (),
        eval_series=fires.eval_series, latency=fires.latency, evaluation_interval=fine,
    )
    yield _silent(probe, f"{a} stays silent at {cl.text(inside)}, just inside the threshold",
                  probe.traffic(inside, g.beyond() if g else None), wait)
    if g:
        yield _silent(probe, f"{a} stays silent below its traffic guard: {g.text(g.inside())}",
                      probe.traffic(beyond, g.inside()), wait)


def _silent(probe: Probe, name: str, traffic: Traffic, wait: int) -> Scenario:
    """A scenario in which the alert stays silent: when it would be due, and once the traffic has settled."""
    coarse = on_grid(traffic.onset, probe.step * 60) + wait
    at = coarse + probe.settle
    return Scenario(
        name, checks=(Check(coarse, probe.alert.alert), Check(at, probe.alert.alert, settled=True)),
        streams=traffic.streams, series=traffic.series, exprs=probe.record(at, False) if probe.record else (),
        eval_series=traffic.eval_series, latency=traffic.latency, evaluation_interval=probe.step * 60,
    )
