"""The promtool scenarios of cost_anomaly: its alerts' cases."""
from __future__ import annotations

import math
from typing import Callable

from ... import boundaries
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_duration
from ..base import alerts_in, expect, first_model
from .rules import ALERT, CostAnomaly, FORECAST, daily_forecast


def probes(self: CostAnomaly, service, cfg, anomaly, ticket) -> list[Probe]:
    """The page against `factor` times a day of steady spend, the floor and the forecast (5m evaluations); the
    ticket against the forecast (every minute, from an empty history)."""
    p, model = first_model(service)
    forecast = daily_forecast(cfg)
    start = int(max(cfg["baseline"], 86400) // 60) + 120  # the same hour a day ago, and the history the page needs
    minutes = start + int(cfg["for"] // 60) + 30

    def spend(usual: float, scale: float) -> Callable[[float, float | None], Traffic]:
        def make(value: float, guard: float | None) -> Traffic:
            per_hour = value * scale
            # Yesterday's hour runs at `usual` and the rest of the day at twice it: the time of day matters.
            shape = boundaries.same_hour_history(start, cfg["factor"])
            phases = (*(_phase(self, service, model, m, usual * k) for m, k in shape),
                      _phase(self, service, model, minutes - start, per_hour))
            return Traffic(start + 5, streams=(Stream(p.name, model, phases),), value=per_hour)
        return make

    expected = lambda t: (expect(anomaly, t.value),)  # noqa: E731
    others = max(cfg["min_usd_per_hour"] if self.floor_counts(cfg) else 0, (forecast or 0) / 24)
    usual = others * 1.5 / (0.9 * cfg["factor"]) if others else 10.0
    out = [Probe(anomaly, Clause("USD/h / its usual USD/h", ">", cfg["factor"]), cfg["for"], spend(usual, usual),
                 expected, step=5)]
    if self.floor_counts(cfg) and (forecast is None or forecast / 24 < cfg["min_usd_per_hour"] * 0.9):
        # No spend yesterday: any spend is far above it, and only the floor decides.
        out.append(Probe(anomaly, Clause("USD/h", ">", cfg["min_usd_per_hour"]), cfg["for"], spend(0.0, 1.0),
                         expected, step=5))
    if forecast is not None and not self.floor_counts(cfg):
        out.append(Probe(anomaly, Clause("projected USD/day", ">", forecast), cfg["for"],
                         spend(forecast / 24 / cfg["factor"] / 3, 1 / 24), expected, step=5))
    if ticket is not None:
        def hourly(per_day: float, minute: float) -> float:
            """The projection at `minute` from an empty history: the 1h average of the recorded 5m rates, which
            count the first minutes at 1/5 .. 4/5 of the truth (the counter starts at 0; `filling_onset`)."""
            minutes = range(max(1, math.ceil(minute - 60)), math.floor(minute) + 1)
            return per_day * sum(min(k, 5) / 5 for k in minutes) / len(minutes)

        def steady(per_day: float, guard: float | None) -> Traffic:
            # At minute k < 60 the projection is (k - 2) / k of the spend: past the threshold from this minute.
            onset = next(k for k in range(5, 60) if hourly(per_day, k) > forecast) if per_day > forecast else 60
            phase = _phase(self, service, model, onset + int(cfg["forecast_for"] // 60) + 20, per_day / 24)
            return Traffic(onset, streams=(Stream(p.name, model, (phase,)),), value=per_day,
                           value_at=lambda m: hourly(per_day, m))

        # 9% beyond rather than 10%: at 10% the ramp meets the threshold exactly at minute 22, a float coin toss.
        out.append(Probe(ticket, Clause("projected USD/day", ">", forecast), cfg["forecast_for"], steady,
                         lambda t: (expect(ticket, t.value),), beyond=forecast * 1.09))
    return out

def _phase(self: CostAnomaly, service, model, minutes, usd_per_hour):
    per_min = usd_per_hour / 60
    if service.source.spend is not None:
        return Phase(minutes, ok=100, spend_usd=per_min)
    price = next(p for p in service.prices if p.model == model)
    return Phase(minutes, ok=100, input_tokens=per_min / (price.input_per_million / 1e6))

def _scenarios(self: CostAnomaly, service, cfg, anomaly, ticket):
    for probe in probes(self, service, cfg, anomaly, ticket):
        yield from boundaries.scenarios(probe)
    p, model = first_model(service)
    forecast = daily_forecast(cfg)
    factor = cfg["factor"]
    normal = forecast / 24 / 8 if forecast else max(cfg["min_usd_per_hour"] * 4, 10.0)
    normal = max(normal, cfg["min_usd_per_hour"] * 4 / factor)
    # Twice the factor, and well beyond the forecast and the floor, whatever their ratio to each other.
    spike = max(normal * factor * 2, 1.5 * (forecast or 0) / 24, 1.5 * cfg["min_usd_per_hour"])
    fires_at = 120 + 5 + int(cfg["for"] // 60) + 3
    # The baseline's whole window of quiet history first (it pages only then), evaluated every five minutes; the
    # spike then lasts into the escalation while the average stays low.
    quiet = -(-(int(cfg["baseline"] // 60) + 60) // 5) * 5
    # rate5m sees the whole jump at the first evaluation after it: pending then, firing `for` later on the grid.
    pending = quiet + 5
    due = pending + -(-int(cfg["for"] // 60) // 5) * 5
    stream = Stream(p.name, model, (_phase(self, service, model, quiet, normal),
                                    _phase(self, service, model, due - quiet + 10, spike)))
    yield Scenario(
        f"{ALERT} fires when spend jumps from {normal:.4g} to {spike:.4g} USD per hour",
        streams=(stream,),
        checks=(Check(quiet - 10, ALERT), Check(due, ALERT, (expect(anomaly, spike),), due=True)),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{ALERT} can page at the earliest once {format_duration(cfg['baseline'])} of spend history exist: a "
        "jump 30 minutes earlier stays silent until then",
        streams=(Stream(p.name, model, (_phase(self, service, model, quiet - 90, normal),
                                        _phase(self, service, model, 90, spike))),),
        checks=(Check(quiet - 65, ALERT), Check(due - 60, ALERT, (expect(anomaly, spike),), lasts=False,
                                                            onset=(pending - 60, pending - 60))),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{ALERT} stays silent from an empty history: steady spend, then a {factor * 2:g}x jump before the "
        f"baseline holds {format_duration(cfg['baseline'])}",
        streams=(Stream(p.name, model, (_phase(self, service, model, 120, normal),
                                        _phase(self, service, model, 60, spike))),),
        checks=tuple(Check(m, ALERT) for m in (5, 30, 110, 140, 175)),
    )
    if forecast:
        # A third below the forecast, at more than the factor over a quiet hour.
        within = forecast / 24 / 1.5
        calm = within / (factor + 1)
        yield Scenario(
            f"{ALERT} stays silent at {factor + 1:g}x a quiet baseline while spend stays within the forecast",
            streams=(Stream(p.name, model, (_phase(self, service, model, 120, calm),
                                            _phase(self, service, model, fires_at - 120 + 5, within))),),
            checks=(Check(fires_at, ALERT), Check(fires_at, FORECAST)),
        )
        # Busy below the forecast, then over it, by less than the factor: the ticket opens, the page does not.
        ratio = min(2.5, factor ** 0.5)
        busy = forecast / 24 / ratio ** 0.5
        over = busy * ratio
        at = 120 + 60 + int(cfg["forecast_for"] // 60) + 3
        yield Scenario(
            f"{FORECAST} opens a ticket when spend runs at {over * 24 / forecast:.2g}x the forecast; "
            f"{ALERT} stays silent below {factor:g}x",
            streams=(Stream(p.name, model, (_phase(self, service, model, 120, busy),
                                            _phase(self, service, model, at - 120 + 5, over))),),
            checks=(Check(110, FORECAST), Check(at, ALERT), Check(at, FORECAST, (expect(ticket, over * 24),))),
        )
    else:
        yield Scenario(
            f"{ALERT} stays silent when spend doubles",
            streams=(Stream(p.name, model, (_phase(self, service, model, 120, normal),
                                            _phase(self, service, model, fires_at - 120 + 5, normal * 2))),),
            checks=(Check(fires_at, ALERT),),
        )


def scenarios(self: CostAnomaly, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[ALERT], alerts.get(FORECAST)))
