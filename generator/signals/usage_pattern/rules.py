"""usage_pattern: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Rules
from ...sli import own, with_history
from ...spec.schema import unit
from ...spec.units import format_number
from ..base import Config, Signal, make_alert

NAME = "usage_pattern"
NEW_MODEL = c.alert_name("UsageNewModel")
TRAFFIC = c.alert_name("UsageTrafficUnusual")
DAY = 86400  # the daily average unusual traffic is measured against, and the history it needs first


class UsagePattern(Signal):
    name = NAME
    alerts = {"new_model": NEW_MODEL, "traffic": TRAFFIC}
    description = "Report new models and unusual traffic at severity info, for tracking."
    auto_when = "on"
    schema = {
        "lookback": unit("duration", "A model is new when it had no traffic in this window (ending 1h ago).", "1d"),
        "traffic_factor": unit("factor", "Traffic is unusual when the 1h rate is this far above its usual rate at this time of day (the same hour on the previous days, up to a week).", "3x"),
        "for": unit("duration", "How long a pattern must hold before it is reported.", "10m"),
    }

    def history(self, service, cfg) -> float:
        return max(cfg["lookback"] + 3600, DAY)

    def rules(self, service, cfg: Config) -> Rules:
        w = c.window(cfg["lookback"])
        rate = own(c.REQUESTS_RATE5M_BY_MODEL, service)
        new_model = make_alert(
            service, NAME, NEW_MODEL,
            with_history(f"{rate} > 0 unless on (service, model) (max_over_time({rate}[{w}] offset 1h) > 0)", service,
                         cfg["lookback"] + 3600), cfg["for"], c.INFO,
            summary="A new model is serving traffic.",
            description=("{{ $labels.service }} started calling {{ $labels.model }} ({{ printf \"%.2f\" $value }} calls/s), "
                         f"unseen in the {w} before."),
        )
        hourly, daily = own(c.REQUESTS_RATE1H, service), own(c.REQUESTS_SAME_HOUR, service)
        f = format_number(cfg["traffic_factor"])
        traffic = make_alert(
            service, NAME, TRAFFIC, with_history(f"{hourly} > {f} * {daily}", service, DAY), cfg["for"], c.INFO,
            summary="Traffic is far outside its usual shape.",
            description=("{{ $labels.service }} gets {{ printf \"%.2f\" $value }} calls/s over the last hour, "
                         f"more than {f}x its usual rate at this time of day."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (new_model, traffic))
        return Rules((group,))
