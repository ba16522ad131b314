"""slo: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Recording, Rules
from ...sli import own
from ...spec.units import format_number
from ..base import Config, Signal

NAME = "slo"


class SLOAccounting(Signal):
    name = NAME
    description = "Record availability, error budget and the provider's share of it over the SLO window."
    auto_when = "on"
    schema = {}

    def rules(self, service, cfg: Config) -> Rules:
        seconds = service.slo.window
        w = c.window(seconds)
        objective = format_number(service.slo.availability)

        def total(metric: str) -> str:
            return f"sum_over_time({own(c.SLO_HOURLY[metric], service)}[{w}])"

        labels = ((c.SERVICE, service.name), (c.TEAM, service.team))
        # Once an hour, the calls of the hour just past: consecutive samples tile the window without overlap.
        hourly = (
            Recording(c.SLO_HOURLY["ai_requests"], f"3600 * {own(c.REQUESTS_RATE1H, service)}"),
            Recording(c.SLO_HOURLY["ai_errors"], f"3600 * {own(c.ERRORS_RATE1H, service)}"),
            Recording(c.SLO_HOURLY["ai_provider_errors"],
                      f"3600 * sum without (provider, model) ({own(c.PROVIDER_ERRORS_RATE1H_BY_PROVIDER_MODEL, service)})"),
        )
        rules = (
            Recording(c.SLO_OBJECTIVE, f"vector({objective})", labels),
            Recording(c.availability(seconds), f"1 - {total('ai_errors')} / {total('ai_requests')}"),
            Recording(c.provider_errors_ratio(seconds), f"{total('ai_provider_errors')} / {total('ai_requests')}"),
            Recording(c.error_budget_remaining(seconds),
                      f"1 - (1 - {own(c.availability(seconds), service)}) / (1 - {objective})"),
            Recording(c.error_budget_burned_by_provider(seconds),
                      f"{own(c.provider_errors_ratio(seconds), service)} / (1 - {objective})"),
        )
        groups = (Group(c.group_name(service.name, NAME, "hourly"), NAME, hourly, interval=3600),
                  Group(c.group_name(service.name, NAME), NAME, rules, interval=300))
        return Rules(groups)
