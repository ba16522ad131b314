"""The promtool scenarios of traffic_stopped: its alerts' cases."""
from __future__ import annotations

from ... import boundaries
from ...content.links import percent
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_duration, format_number
from ..base import alerts_in, expect, first_model
from .rules import ALERT, TrafficStopped


def _scenarios(self: TrafficStopped, service, cfg, alert):
    p, model = first_model(service)
    per_min = max(60.0, cfg["min_request_rate"] * 60 * 10)
    history = int(cfg["baseline"] // 60)
    busy = history + 90   # the baseline hour a `baseline` ago is full of traffic
    fires = busy + 5 + _steps(cfg["for"], 5) + 5
    stopped = Phase(120, ok=0)
    # The first evaluation after the calls stop sees a 5m window without calls: `for` runs from there.
    due = busy + 5 + _steps(cfg["for"], 5)
    yield Scenario(
        f"{ALERT} fires when calls stop at an hour that had {per_min:g} a minute {format_duration(cfg['baseline'])} ago",
        streams=(Stream(p.name, model, (Phase(busy, ok=per_min), stopped)),),
        checks=(Check(busy - 5, ALERT), Check(due - 5, ALERT), Check(due, ALERT, (expect(alert, 0),), lasts=False),
                Check(fires, ALERT, (expect(alert, 0),))),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{ALERT} fires when the series vanish (the exporter or the scrape stopped)",
        streams=(Stream(p.name, model, (Phase(busy, ok=per_min),)),),
        checks=(Check(busy - 5, ALERT), Check(fires + 5, ALERT, (expect(alert, 0),), lasts=False)),
        evaluation_interval=300,
    )
    # Just either side of `below` (10% off), so a threshold half as large again, or two thirds of it, shows.
    # `for` at a step fine enough to see it end: the last calls arrive at the sample of minute `busy`, so from
    # busy + 4 a 5m window holds no increment (at busy + 3 it still holds one of four, far above `below`).
    fine = boundaries.for_step(300, cfg["for"])
    if fine < 300 and cfg["below"] < 0.25:
        soon = boundaries.on_grid(busy + 4, fine) + boundaries.on_grid(cfg["for"] / 60, fine)
        yield Scenario(
            f"{ALERT} is due {format_duration(cfg['for'])} after the calls stop, not one evaluation "
            f"({format_duration(fine)}) earlier",
            streams=(Stream(p.name, model, (Phase(busy, ok=per_min), Phase(int(soon) - busy + 5, ok=0))),),
            # Pinned to its due minute, so the secondary tier is checked at this step too: silent one step
            # before `delay` later, firing at it (the calls stay stopped).
            checks=(Check(soon - fine / 60, ALERT), Check(soon, ALERT, (expect(alert, 0),), due=True)),
            evaluation_interval=fine,
        )
    low, high = cfg["below"] * 0.9, min(0.99, cfg["below"] * 1.1)
    # The description prints calls/s with two decimals: traffic whose rate is not a rounding tie (0.045 prints as
    # 0.04 or 0.05 depending on the last bit of the float), so the expected text is certain.
    calls = per_min
    while "%.2f" % (calls * low / 60 * (1 + 1e-9)) != "%.2f" % (calls * low / 60 * (1 - 1e-9)):
        calls *= 1.01
    yield Scenario(
        f"{ALERT} fires at {percent(low)} of the usual calls",
        streams=(Stream(p.name, model, (Phase(busy, ok=calls), Phase(120, ok=calls * low))),),
        checks=(Check(fires + 5, ALERT, (expect(alert, calls * low / 60),)),),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{ALERT} stays silent at {percent(high)} of the usual calls",
        streams=(Stream(p.name, model, (Phase(busy, ok=per_min), Phase(120, ok=per_min * high))),),
        checks=(Check(fires + 5, ALERT, settled=True), Check(fires + 60, ALERT)),
        evaluation_interval=300,
    )
    # The guard on the hour a baseline ago, `min_request_rate`, from both sides (10% off).
    enough = cfg["min_request_rate"] * 60 * 1.1
    yield Scenario(
        f"{ALERT} fires when calls stop at an hour that had {enough:g} a minute, just above the "
        f"{format_number(cfg['min_request_rate'])} calls/s it needs",
        streams=(Stream(p.name, model, (Phase(busy, ok=enough), stopped)),),
        checks=(Check(fires, ALERT, (expect(alert, 0),)),),
        evaluation_interval=300,
    )
    quiet = cfg["min_request_rate"] * 60 * 0.9
    yield Scenario(
        f"{ALERT} stays silent when calls stop at an hour that had only {quiet:g} a minute (night)",
        streams=(Stream(p.name, model, (Phase(busy, ok=quiet), stopped)),),
        checks=(Check(fires, ALERT), Check(fires + 30, ALERT)),
        evaluation_interval=300,
    )
    yield Scenario(
        f"{ALERT} stays silent from an empty history: calls stop before the service has "
        f"{format_duration(cfg['baseline'])} of history (young data)",
        streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(60, ok=0))),),
        checks=tuple(Check(m, ALERT) for m in (130, 150, 175)),
    )
    # Calls that stop 30 minutes before the history is there: silent until then; a few minutes later the hour a
    # baseline ago holds enough traffic to count, and it pages after `for` (before any secondary tier).
    due = history + 10 + _steps(cfg["for"], 5) + 5
    yield Scenario(
        f"{ALERT} can page at the earliest once the service has {format_duration(cfg['baseline'])} of history: "
        "calls that stop 30 minutes earlier stay silent until then",
        streams=(Stream(p.name, model, (Phase(history - 30, ok=per_min), Phase(due - history + 40, ok=0))),),
        checks=(Check(history - 5, ALERT), Check(history, ALERT),
                Check(due, ALERT, (expect(alert, 0),), lasts=False)),
        evaluation_interval=300,
    )


def _steps(seconds: float, step: int) -> int:
    """Minutes until a `for` of `seconds` has passed, on evaluations every `step` minutes."""
    return -(-int(seconds // 60) // step) * step


def scenarios(self: TrafficStopped, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[ALERT]))
