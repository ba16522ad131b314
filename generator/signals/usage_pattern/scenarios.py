"""The promtool scenarios of usage_pattern: its alerts' cases."""
from __future__ import annotations

from ... import boundaries
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_duration
from ..base import alerts_in, expect, first_model
from .rules import DAY, NEW_MODEL, TRAFFIC, UsagePattern


def probe(self: UsagePattern, service, cfg, traffic) -> Probe:
    """The unusual-traffic report: the last hour's calls/s against `traffic_factor` times the same hour the day
    before, after a day of steady traffic (5m evaluations)."""
    p, model = first_model(service)
    start = DAY // 60 + 120
    usual = 600.0

    def make(scale: float, guard: float | None) -> Traffic:
        # The 1h rate climbs as its window slides over the step: from when it holds enough of the new rate.
        try:
            onset, scale = boundaries.crossing(start, 1.0, scale, cfg["traffic_factor"], 60)
        except ValueError:
            onset = start + 60.0  # it never holds: a silent case
        phases = (Phase(start, ok=usual), Phase(int(onset) - start + int(cfg["for"] // 60) + 30, ok=usual * scale))
        return Traffic(onset, streams=(Stream(p.name, model, phases),),
                       value_at=lambda m: usual / 60 * boundaries.window_average(start, 1.0, scale, m, 60))

    return Probe(traffic, Clause("calls/s over 1h / the same hour the day before", ">", cfg["traffic_factor"]),
                 cfg["for"], make, lambda t: (expect(traffic, t.value),), step=5)

def _scenarios(self: UsagePattern, service, cfg, new_model, traffic):
    yield from boundaries.scenarios(probe(self, service, cfg, traffic))
    p, model = first_model(service)
    yield Scenario(
        f"{NEW_MODEL} and {TRAFFIC} stay silent from an empty history (a cold start: every model is new to a "
        "fresh Prometheus)",
        streams=(Stream(p.name, model, (Phase(180, ok=600),)), Stream(p.name, "second-model", (Phase(180, ok=60),))),
        checks=tuple(Check(m, a) for m in (15, 30, 60, 120, 175) for a in (NEW_MODEL, TRAFFIC)),
    )
    # Days of history, every five minutes.
    known = int((cfg["lookback"] + 3600) // 60)
    f = int(cfg["for"] // 60)
    at = known + 5 + -(-f // 5) * 5
    yield Scenario(
        f"{NEW_MODEL} reports a model that starts serving once {format_duration(cfg['lookback'] + 3600)} of "
        "history exist; known models and steady traffic stay silent",
        streams=(Stream(p.name, model, (Phase(at + 10, ok=600),)),
                 Stream(p.name, "brand-new-model", (Phase(known), Phase(at - known + 10, ok=60)))),
        checks=(Check(known - 5, NEW_MODEL), Check(at, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),)),
                Check(at, TRAFFIC)),
        evaluation_interval=300,
    )
    # Its `for`, at a step fine enough to see it end: the new model's first calls arrive at the sample of minute
    # known + 1, the first evaluation from then on starts the `for`.
    fine = boundaries.for_step(300, cfg["for"])
    due = boundaries.on_grid(known + 1, fine) + boundaries.on_grid(cfg["for"] / 60, fine)
    yield Scenario(
        f"{NEW_MODEL} reports a new model {format_duration(cfg['for'])} after its first calls, not one evaluation "
        f"({format_duration(fine)}) earlier",
        streams=(Stream(p.name, model, (Phase(int(due) + 10, ok=600),)),
                 Stream(p.name, "brand-new-model", (Phase(known), Phase(int(due) - known + 10, ok=60)))),
        checks=(Check(due - fine / 60, NEW_MODEL),
                Check(due, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),), lasts=False)),
        evaluation_interval=fine,
    )
    # A model that appears shortly before the history exists reports once it does, if its `for` ends before its
    # own first calls enter the lookback window (an hour after them): it then counts as known and stays silent.
    early = min(30, 60 - (at - known) - 5)
    if early >= 5:
        yield Scenario(
            f"{NEW_MODEL} can report at the earliest once {format_duration(cfg['lookback'] + 3600)} of history "
            f"exist: a model that appears {early} minutes earlier stays silent until then",
            streams=(Stream(p.name, model, (Phase(at + 10, ok=600),)),
                     Stream(p.name, "brand-new-model", (Phase(known - early), Phase(at - known + early + 10, ok=60)))),
            checks=(Check(known - 5, NEW_MODEL),
                    Check(at, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),), lasts=False)),
            evaluation_interval=300,
        )
    yield Scenario(
        f"{NEW_MODEL} stays silent when a model appears before {format_duration(cfg['lookback'] + 3600)} of "
        "history exist",
        streams=(Stream(p.name, model, (Phase(240, ok=600),)),
                 Stream(p.name, "brand-new-model", (Phase(120), Phase(120, ok=60)))),
        checks=(Check(120 + f + 10, NEW_MODEL), Check(235, NEW_MODEL)),
    )
    busy = 600 * cfg["traffic_factor"] * 4
    yield Scenario(
        f"{TRAFFIC} stays silent on traffic at {cfg['traffic_factor'] * 4:g}x its usual rate before the service "
        "has a day of history",
        streams=(Stream(p.name, model, (Phase(120, ok=600), Phase(120, ok=busy))),),
        checks=tuple(Check(m, TRAFFIC) for m in (150, 180, 200, 235)),
    )
    day = DAY // 60
    late = day + 60 + -(-f // 5) * 5 + 5
    yield Scenario(
        f"{TRAFFIC} reports traffic at {cfg['traffic_factor'] * 4:g}x its usual rate for an hour, once a day of "
        "history exists",
        streams=(Stream(p.name, model, (Phase(day, ok=600), Phase(late - day + 10, ok=busy))),),
        checks=(Check(day - 5, TRAFFIC), Check(late, TRAFFIC, (expect(traffic, busy / 60),))),
        evaluation_interval=300,
    )


def scenarios(self: UsagePattern, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[NEW_MODEL], alerts[TRAFFIC]))
