"""error_spike: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import percent
from ...rules import Group, Recording, Rules
from ...sli import days_ago_average, own, with_history
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_number
from ..base import Config, Signal, make_alert

NAME = "error_spike"
ALERT = c.alert_name("ErrorRateSpike")
GROWING = c.alert_name("ErrorRateSpikeGrowing")
GROWTH = 1.2  # the growing page: the error ratio above this multiple of itself 5 minutes earlier
RAMP_TOP = 0.9  # probe ramps stop growing at this share of failed calls
# The baseline of `baseline_mode: last_week`: the error ratio of this hour a week ago.
LAST_WEEK = c.record("service", "ai_errors", "ratio_rate1h_offset1w")


class ErrorSpike(Signal):
    name = NAME
    alerts = {"page": ALERT, "growing": GROWING}
    explained_by_outage = True
    description = "Page when the error ratio is several times its baseline and above a floor; sooner while it grows."
    auto_when = "on"
    schema = {
        "factor": unit("factor", "Page when the error ratio exceeds this multiple of its baseline.", "3x"),
        "baseline": unit("duration", "Average the recorded 1h error ratio over this window.", "1d"),
        "baseline_mode": {"enum": ["average", "last_week"], "default": "average",
                          "description": "average: the same hour on the previous days (up to a week), or the average over `baseline` while no previous day has it; last_week: the same hour one week earlier."},
        "min_error_ratio": unit("ratio", "Never page below this error ratio.", "2%", crossed="above"),
        "min_request_rate": number("Calls per second needed before the ratio counts.", 0.2),
        "for": unit("duration", "How long a steady spike must last before paging.", "10m"),
        "growing_for": unit("duration", "How long a growing spike must last before paging.", "3m"),
    }

    def shared_inhibitions(self) -> tuple[dict, ...]:
        """A growing spike is already paging sooner; the steady-spike page of the same tier adds nothing."""
        return ({"source_matchers": [c.am_matcher("alertname", GROWING)],
                 "target_matchers": [c.am_matcher("alertname", ALERT)],
                 "equal": [c.TEAM, c.SERVICE, c.ESCALATION]},)

    def check(self, service, cfg):
        if cfg["factor"] <= 1:
            raise FieldError(("factor",), f"expected a factor above 1x, got {format_number(cfg['factor'])}x")
        if cfg["growing_for"] > cfg["for"]:
            raise FieldError(("growing_for",), "expected at most `for`: a growing spike should page sooner")

    def baseline(self, service, cfg) -> tuple[str, str]:
        if cfg["baseline_mode"] == "last_week":
            # Without last week's data (a new service, a retention gap, an hour with no traffic: NaN) fall back to
            # the day's average, so the spike still pages.
            hourly = own(c.ERRORS_RATIO_RATE1H, service)
            return (LAST_WEEK,
                    f"({hourly} offset 1w >= 0) or avg_over_time({hourly}[1d])")
        w = c.window(cfg["baseline"])
        # Failures over calls of the same hours (weighted by calls); NaN, when those hours had no calls, is dropped.
        ratio = (f"{days_ago_average(c.ERRORS_RATE1H, service)} / "
                 f"{days_ago_average(c.REQUESTS_RATE1H, service)}")
        return (c.ERRORS_SAME_HOUR,
                f"({ratio} >= 0) or avg_over_time({own(c.ERRORS_RATIO_RATE1H, service)}[{w}])")

    def history(self, service, cfg) -> float:
        """Seconds of history the baseline needs: its window, or for last week's hour the day it falls back to."""
        return 86400 if cfg["baseline_mode"] == "last_week" else cfg["baseline"]

    def rules(self, service, cfg: Config) -> Rules:
        name, expr = self.baseline(service, cfg)
        ratio = own(c.ERRORS_RATIO_RATE5M, service)
        spike = with_history(
            f"{ratio} > {format_number(cfg['factor'])} * {own(name, service)}"
            f" and {ratio} > {format_number(cfg['min_error_ratio'])}"
            f" and {own(c.REQUESTS_RATE5M, service)} > {format_number(cfg['min_request_rate'])}",
            service, self.history(service, cfg))
        description = ("{{ $labels.service }} fails {{ $value | humanizePercentage }} of calls, more than "
                       f"{format_number(cfg['factor'])}x its baseline.")
        steady = make_alert(service, NAME, ALERT, spike, cfg["for"], c.PAGE,
                            summary="The error ratio is far above its baseline.", description=description)
        growing = make_alert(service, NAME, GROWING, f"{spike} and {ratio} > {format_number(GROWTH)} * ({ratio} offset 5m)",
                             cfg["growing_for"], c.PAGE,
                             summary="The error ratio is far above its baseline and still growing.",
                             description=description + f" It grew by more than {percent(GROWTH - 1)} in the last 5 minutes.")
        group = Group(c.group_name(service.name, NAME), NAME, (Recording(name, expr), steady, growing))
        return Rules((group,))
