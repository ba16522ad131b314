"""rate_limit: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Recording, Rules
from ...sli import days_ago_peak, own, with_history
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_duration, format_number
from ..base import Config, Signal, make_alert

NAME = "rate_limit"
SIGNAL_ALERT = c.alert_name("RateLimitEngaged")
PAGE_ALERT = c.alert_name("RateLimitSustained")
ACTION = "rate_limit"
BASELINE = 86400  # the daily average the traffic clause compares against, and the history it needs first


class RateLimit(Signal):
    name = NAME
    alerts = {"signal": SIGNAL_ALERT, "page": PAGE_ALERT}
    remediation = ACTION
    description = "Tell automation to rate limit on traffic spikes or 429s; page if it stays engaged."
    auto_when = "on"
    schema = {
        "rate_limited_ratio_above": unit("ratio", "Engage when this share of calls is rate limited (429).", "5%", crossed="above"),
        "traffic_factor": unit("factor", "Engage when traffic exceeds this multiple of its usual rate at this time of day (the busiest hour-long window starting within the hour from this time on the previous days, up to a week; the daily average while no previous day has the hour).", "3x"),
        "min_request_rate": number("Calls per second needed before either condition counts.", 0.2),
        "for": unit("duration", "How long before the rate-limit signal fires.", "2m"),
        "page_after": unit("duration", "Page when rate limiting stays engaged this long.", "30m"),
    }

    def check(self, service, cfg):
        if cfg["page_after"] <= cfg["for"]:
            raise FieldError(("page_after",), "expected longer than `for`: automation acts first")
        if cfg["traffic_factor"] <= 1:
            raise FieldError(("traffic_factor",), "expected a factor above 1x")

    def history(self, service, cfg) -> float:
        return BASELINE

    def rules(self, service, cfg: Config) -> Rules:
        traffic = f"{own(c.REQUESTS_RATE5M, service)} > {format_number(cfg['min_request_rate'])}"
        spike = with_history(f"{own(c.REQUESTS_RATE5M, service)} > {format_number(cfg['traffic_factor'])}"
                             f" * {own(c.REQUESTS_SAME_HOUR_PEAK, service)}", service, BASELINE)
        cond = (f"({own(c.RATE_LIMITED_RATIO_RATE5M, service)} > {format_number(cfg['rate_limited_ratio_above'])}"
                f" or {spike}) and {traffic}")
        signal = make_alert(
            service, NAME, SIGNAL_ALERT, cond, cfg["for"], c.INFO, remediation=ACTION,
            summary="Rate limiting engaged.",
            description=("{{ $labels.service }} sees rate-limited calls above "
                         f"{format_number(cfg['rate_limited_ratio_above'] * 100)}% or traffic above "
                         f"{format_number(cfg['traffic_factor'])}x its usual rate at this time of day; automation throttles clients."),
        )
        page = make_alert(
            service, NAME, PAGE_ALERT, cond, cfg["page_after"], c.PAGE,
            summary="Rate limiting has stayed engaged.",
            description=(f"Rate limiting of {{{{ $labels.service }}}} has been engaged for "
                         f"{format_duration(cfg['page_after'])}: the spike is not passing."),
        )
        # The busiest hour from this time on the previous days, not the hour that ended now: a 5m rate against the
        # latter calls every morning ramp a spike for its first minutes.
        peak = Recording(c.REQUESTS_SAME_HOUR_PEAK, f"{days_ago_peak(c.REQUESTS_RATE1H, service)} or "
                                                    f"{own(c.REQUESTS_SAME_HOUR, service)}")
        group = Group(c.group_name(service.name, NAME), NAME, (peak, signal, page))
        return Rules((group,))


HISTORY = ("The traffic clause compares against the same hour on the previous days (up to a week), so it stays silent "
           "until the service has a day of history (a new service, a renamed job or a fresh Prometheus); the 429 clause works from the first minute.")
