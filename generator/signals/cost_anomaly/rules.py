"""cost_anomaly: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Recording, Rules
from ...sli import has_cost, own, same_hour, with_history
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_number
from ..base import Config, Signal, make_alert

NAME = "cost_anomaly"
ALERT = c.alert_name("CostAnomaly")
FORECAST = c.alert_name("CostAboveForecast")


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

    def rules(self, service, cfg: Config) -> Rules:
        w = c.window(cfg["baseline"])
        baseline = c.record("service", "ai_spend_usd", f"rate1h_avg{w}")  # hourly spend averaged over the baseline
        factor = cfg["factor"]
        forecast = daily_forecast(cfg)
        expr = f"3600 * {own(c.SPEND_RATE5M, service)} > {format_number(3600 * factor)} * {own(c.SPEND_SAME_HOUR, service)}"
        if self.floor_counts(cfg):
            expr += f" and 3600 * {own(c.SPEND_RATE5M, service)} > {format_number(cfg['min_usd_per_hour'])}"
        if forecast is not None:
            expr += f" and 86400 * {own(c.SPEND_RATE5M, service)} > {format_number(forecast)}"
        expr = with_history(expr, service, cfg["baseline"])
        anomaly = make_alert(
            service, NAME, ALERT, expr, cfg["for"], c.PAGE,
            summary="Spend is far above its normal rate.",
            description=(f"{{{{ $labels.service }}}} spends {{{{ printf \"%.2f\" $value }}}} USD per hour, more than "
                         f"{format_number(factor)}x its usual rate at this time of day" + (" and beyond the forecast." if forecast else ".")
                         + " A bug, abuse or a misconfiguration?"),
        )
        rules: list = [Recording(baseline, f"avg_over_time({own(c.SPEND_RATE1H, service)}[{w}])"),
                       Recording(c.SPEND_SAME_HOUR, same_hour(c.SPEND_RATE1H, service, own(baseline, service))),
                       anomaly]
        ticket = None
        if forecast is not None:
            ticket = make_alert(
                service, NAME, FORECAST, f"86400 * {own(c.SPEND_RATE1H, service)} > {format_number(forecast)}",
                cfg["forecast_for"], c.TICKET,
                summary="Spend is running above its forecast.",
                description=(f"{{{{ $labels.service }}}} is on course to spend {{{{ printf \"%.2f\" $value }}}} USD a day, "
                             f"above its forecast of {format_number(forecast)} USD."),
            )
            rules.append(ticket)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Rules((group,))

    @staticmethod
    def floor_counts(cfg) -> bool:
        """Whether `min_usd_per_hour` says anything the forecast does not (spend within the forecast never pages)."""
        forecast = daily_forecast(cfg)
        return forecast is None or forecast / 24 < cfg["min_usd_per_hour"]


def daily_forecast(cfg: Config) -> float | None:
    """The forecast in USD a day: as given, or from the monthly budget (a month is 365/12 days)."""
    if cfg.get("budget_monthly_usd") is not None:
        return round(cfg["budget_monthly_usd"] * 12 / 365, 2)
    return cfg.get("forecast_daily_usd")
