"""Cost anomaly: spending at several times the normal rate and beyond the forecast pages; above the
forecast alone opens a ticket; within the forecast nothing happens, whatever the baseline says.
"""
from __future__ import annotations

import math
from typing import Callable

from .. import conventions as c
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Recording, Scenario, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import alert_ref, kubectl, times
from ..sli import has_cost, own, same_hour, with_history
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, alert_link, expect, first_model, make_alert

NAME = "cost_anomaly"
ALERT = c.alert_name("CostAnomaly")
FORECAST = c.alert_name("CostAboveForecast")
RATE = "service:ai_spend_usd:rate5m"


class CostAnomaly(Signal):
    name = NAME
    alerts = {"page": ALERT, "forecast": FORECAST}
    description = "Page when spend runs at several times its normal rate (and beyond the forecast)."
    auto_when = "on when spend is measurable (a spend counter, or token counts and spec.pricing)"
    schema = {
        "factor": unit("factor", "Page when spend exceeds this multiple of its normal rate.", "5x"),
        "baseline": unit("duration", "Fallback normal rate, used while no previous day has the same hour: the recorded 1h spend rate averaged over this window. The normal rate is the same hour on the previous days (up to a week).", "1d"),
        "budget_monthly_usd": number("The monthly budget in USD, as finance states it: the forecast becomes 12/365 of "
                                     "it a day. Give this or forecast_daily_usd."),
        "forecast_daily_usd": number("Expected spend per day in USD. Spend projected above it opens a ticket; "
                                     "spend within it never pages. Default: no forecast."),
        "min_usd_per_hour": number("Never page below this spend per hour.", 1),
        "for": unit("duration", "How long the anomaly must last before paging.", "15m"),
        "forecast_for": unit("duration", "How long the projection must exceed the forecast before a ticket.", "1h"),
    }

    def auto(self, service):
        return has_cost(service)

    def check(self, service, cfg):
        src = service.source
        if src.spend is None and src.tokens is None:
            raise FieldError(("enabled",), "cost needs a spend counter (spec.metrics) or token counts and spec.pricing")
        if src.spend is None:
            priced = {p.model for p in service.prices}
            missing = [m for m in service.models if m not in priced]
            if missing or not service.prices:
                raise FieldError(("enabled",), "cost from token counts needs spec.pricing for every model; missing: "
                                               + (", ".join(missing) or "all"))
        if cfg.get("budget_monthly_usd") is not None and cfg.get("forecast_daily_usd") is not None:
            raise FieldError(("budget_monthly_usd",), "give the monthly budget or the daily forecast, not both")
        if cfg["factor"] <= 1:
            raise FieldError(("factor",), f"expected a factor above 1x, got {format_number(cfg['factor'])}x")

    def history(self, service, cfg) -> float:
        return cfg["baseline"]

    def build(self, service, cfg: Config) -> Output:
        w = c.window(cfg["baseline"])
        baseline = f"service:ai_spend_usd:rate1h_avg{w}"
        factor = cfg["factor"]
        forecast = daily_forecast(cfg)
        expr = f"3600 * {own(RATE, service)} > {format_number(3600 * factor)} * {own(c.SPEND_SAME_HOUR, service)}"
        if self.floor_counts(cfg):
            expr += f" and 3600 * {own(RATE, service)} > {format_number(cfg['min_usd_per_hour'])}"
        if forecast is not None:
            expr += f" and 86400 * {own(RATE, service)} > {format_number(forecast)}"
        expr = with_history(expr, service, cfg["baseline"])
        anomaly = make_alert(
            service, NAME, ALERT, expr, cfg["for"], c.PAGE,
            summary="Spend is far above its normal rate.",
            description=(f"{{{{ $labels.service }}}} spends {{{{ printf \"%.2f\" $value }}}} USD per hour, more than "
                         f"{format_number(factor)}x its usual rate at this time of day" + (" and beyond the forecast." if forecast else ".")
                         + " A bug, abuse or a misconfiguration?"),
        )
        rules: list = [Recording(baseline, f"avg_over_time({own('service:ai_spend_usd:rate1h', service)}[{w}])"),
                       Recording(c.SPEND_SAME_HOUR, same_hour("service:ai_spend_usd:rate1h", service, own(baseline, service))),
                       anomaly]
        ticket = None
        if forecast is not None:
            ticket = make_alert(
                service, NAME, FORECAST, f"86400 * {own('service:ai_spend_usd:rate1h', service)} > {format_number(forecast)}",
                cfg["forecast_for"], c.TICKET,
                summary="Spend is running above its forecast.",
                description=(f"{{{{ $labels.service }}}} is on course to spend {{{{ printf \"%.2f\" $value }}}} USD a day, "
                             f"above its forecast of {format_number(forecast)} USD."),
            )
            rules.append(ticket)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, anomaly, ticket)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        forecast = daily_forecast(cfg)
        source = ("a spend counter in the metrics" if service.source.spend is not None else
                  "token counts priced with spec.pricing (stale prices give wrong figures)")
        if alert.alert == FORECAST:
            meaning = (f"At the rate of the last hour, `{service.name}` would spend more than {format_number(forecast)} "
                       f"USD a day, its forecast, and has for {format_duration(cfg['forecast_for'])}.")
            impact = ("The budget overruns if this lasts. Not urgent: a ticket, handled in working hours; it pages as "
                      + alert_ref(service, NAME, ALERT) + f" at {times(cfg['factor'])} the usual rate.")
        else:
            meaning = (f"`{service.name}` spends more than {times(cfg['factor'])} its usual rate at this time of day (the "
                       f"same hour on the previous days, up to a week) and more than "
                       f"{format_number(cfg['min_usd_per_hour'])} USD an hour"
                       + (f", beyond its forecast of {format_number(forecast)} USD a day" if forecast else "")
                       + f", for {format_duration(cfg['for'])}.")
            impact = ("Money, fast. The usual causes: a retry loop or runaway agent, abuse of a public endpoint, or a "
                      "rollout that switched to a pricier model or longer prompts.")
        steps = (
            Step("Which model spends? USD per hour per model.", f"3600 * {own('service_model:ai_spend_usd:rate5m', service)}",
                 branches=(("one model spends far more than usual", "→ step:per_call"),
                           ("every model spends more", "more calls overall → step:traffic"))),
            Step("Did each call get dearer? USD per call per model.",
                 f"{own('service_model:ai_spend_usd:rate5m', service)} / {own('service_model:ai_requests:rate5m', service)}",
                 key="per_call",
                 branches=(("USD per call jumped", "longer prompts or outputs, retries, or a pricier model → step:rollout"),
                           ("USD per call is flat", "more calls → step:traffic"))),
            Step("Did traffic jump? Calls per second against the daily average (1 = usual).",
                 f"{own('service:ai_requests:rate5m', service)} / {own('service:ai_requests:rate1h_avg1d', service)}",
                 key="traffic",
                 branches=(("far above 1", "a client loops or abuses the service: find it in the logs (`"
                            + k.logs("client|user|tenant|api.key", since="30m") + "`) and block it; "
                            + alert_link(service, "rate_limit", "signal") + " caps the rest"),
                           ("around 1", "→ step:rollout"))),
            Step("Did a rollout change models, prompts or retries?", command=k.history(), key="rollout",
                 branches=(("a rollout lines up with the jump", f"roll back: `{k.undo()}`"),
                           ("no rollout", "check the provider's price list against "
                            + ("our spec.pricing" if service.source.spend is None else
                               "the prices the spend counter uses (LiteLLM: its model cost map, or `input_cost_per_token`"
                               " in the proxy's `model_info`)") + ": did a price change?"))),
        )
        history = "" if alert.alert == FORECAST else (
            f"Silent until the service has {format_duration(cfg['baseline'])} of spend history (a new service, a "
            "renamed job or a fresh Prometheus): the same hour the day before is its normal rate. The forecast ticket "
            "needs no history.")
        return RunbookContent(
            history=history,
            meaning=meaning + f" Spend comes from {source}.",
            impact=impact,
            steps=steps,
            mitigation=("Cap the damage before the root cause: lower the rate limit, or route the expensive model to a "
                        "cheaper one.",
                        "Provider billing dashboards lag by hours; the recorded spend here is the fast figure."),
            queries=(Query("USD per hour, whole service", f"3600 * {own(RATE, service)}"),
                     Query("Usual USD per hour at this time of day", f"3600 * {own(c.SPEND_SAME_HOUR, service)}"),
                     Query("Projected USD per day", f"86400 * {own('service:ai_spend_usd:rate1h', service)}")),
        )

    @staticmethod
    def floor_counts(cfg) -> bool:
        """Whether `min_usd_per_hour` says anything the forecast does not (spend within the forecast never pages)."""
        forecast = daily_forecast(cfg)
        return forecast is None or forecast / 24 < cfg["min_usd_per_hour"]

    def probes(self, service, cfg, anomaly, ticket) -> list[Probe]:
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
                phases = (*(self._phase(service, model, m, usual * k) for m, k in shape),
                          self._phase(service, model, minutes - start, per_hour))
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
                phase = self._phase(service, model, onset + int(cfg["forecast_for"] // 60) + 20, per_day / 24)
                return Traffic(onset, streams=(Stream(p.name, model, (phase,)),), value=per_day,
                               value_at=lambda m: hourly(per_day, m))

            # 9% beyond rather than 10%: at 10% the ramp meets the threshold exactly at minute 22, a float coin toss.
            out.append(Probe(ticket, Clause("projected USD/day", ">", forecast), cfg["forecast_for"], steady,
                             lambda t: (expect(ticket, t.value),), beyond=forecast * 1.09))
        return out

    def _phase(self, service, model, minutes, usd_per_hour):
        per_min = usd_per_hour / 60
        if service.source.spend is not None:
            return Phase(minutes, ok=100, spend_usd=per_min)
        price = next(p for p in service.prices if p.model == model)
        return Phase(minutes, ok=100, input_tokens=per_min / (price.input_per_million / 1e6))

    def _scenarios(self, service, cfg, anomaly, ticket):
        for probe in self.probes(service, cfg, anomaly, ticket):
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
        stream = Stream(p.name, model, (self._phase(service, model, quiet, normal),
                                        self._phase(service, model, due - quiet + 10, spike)))
        yield Scenario(
            f"{ALERT} fires when spend jumps from {normal:.4g} to {spike:.4g} USD per hour",
            streams=(stream,),
            checks=(Check(quiet - 10, ALERT), Check(due, ALERT, (expect(anomaly, spike),), due=True)),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{ALERT} can page at the earliest once {format_duration(cfg['baseline'])} of spend history exist: a "
            "jump 30 minutes earlier stays silent until then",
            streams=(Stream(p.name, model, (self._phase(service, model, quiet - 90, normal),
                                            self._phase(service, model, 90, spike))),),
            checks=(Check(quiet - 65, ALERT), Check(due - 60, ALERT, (expect(anomaly, spike),), lasts=False,
                                                                onset=(pending - 60, pending - 60))),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{ALERT} stays silent from an empty history: steady spend, then a {factor * 2:g}x jump before the "
            f"baseline holds {format_duration(cfg['baseline'])}",
            streams=(Stream(p.name, model, (self._phase(service, model, 120, normal),
                                            self._phase(service, model, 60, spike))),),
            checks=tuple(Check(m, ALERT) for m in (5, 30, 110, 140, 175)),
        )
        if forecast:
            # A third below the forecast, at more than the factor over a quiet hour.
            within = forecast / 24 / 1.5
            calm = within / (factor + 1)
            yield Scenario(
                f"{ALERT} stays silent at {factor + 1:g}x a quiet baseline while spend stays within the forecast",
                streams=(Stream(p.name, model, (self._phase(service, model, 120, calm),
                                                self._phase(service, model, fires_at - 120 + 5, within))),),
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
                streams=(Stream(p.name, model, (self._phase(service, model, 120, busy),
                                                self._phase(service, model, at - 120 + 5, over))),),
                checks=(Check(110, FORECAST), Check(at, ALERT), Check(at, FORECAST, (expect(ticket, over * 24),))),
            )
        else:
            yield Scenario(
                f"{ALERT} stays silent when spend doubles",
                streams=(Stream(p.name, model, (self._phase(service, model, 120, normal),
                                                self._phase(service, model, fires_at - 120 + 5, normal * 2))),),
                checks=(Check(fires_at, ALERT),),
            )


def daily_forecast(cfg: Config) -> float | None:
    """The forecast in USD a day: as given, or from the monthly budget (a month is 365/12 days)."""
    if cfg.get("budget_monthly_usd") is not None:
        return round(cfg["budget_monthly_usd"] * 12 / 365, 2)
    return cfg.get("forecast_daily_usd")


SIGNAL = CostAnomaly()
