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
        w = c.window(service.slo.window)
        objective = format_number(service.slo.availability)

        def total(metric: str) -> str:
            return f"sum_over_time({own(c.SLO_HOURLY[metric], service)}[{w}])"

        labels = ((c.SERVICE, service.name), (c.TEAM, service.team))
        # Once an hour, the calls of the hour just past: consecutive samples tile the window without overlap.
        hourly = (
            Recording(c.SLO_HOURLY["ai_requests"], f"3600 * {own('service:ai_requests:rate1h', service)}"),
            Recording(c.SLO_HOURLY["ai_errors"], f"3600 * {own('service:ai_errors:rate1h', service)}"),
            Recording(c.SLO_HOURLY["ai_provider_errors"],
                      f"3600 * sum by (service, team) ({own('service_provider_model:ai_provider_errors:rate1h', service)})"),
        )
        rules = (
            Recording("service:ai_slo_objective:ratio", f"vector({objective})", labels),
            Recording(f"service:ai_availability:ratio_{w}", f"1 - {total('ai_errors')} / {total('ai_requests')}"),
            Recording(f"service:ai_provider_errors:ratio_{w}", f"{total('ai_provider_errors')} / {total('ai_requests')}"),
            Recording(f"service:ai_error_budget:remaining_{w}",
                      f"1 - (1 - {own(f'service:ai_availability:ratio_{w}', service)}) / (1 - {objective})"),
            Recording(f"service:ai_error_budget:burned_by_provider_{w}",
                      f"{own(f'service:ai_provider_errors:ratio_{w}', service)} / (1 - {objective})"),
        )
        groups = (Group(c.group_name(service.name, NAME, "hourly"), NAME, hourly, interval=3600),
                  Group(c.group_name(service.name, NAME), NAME, rules, interval=300))
        return Rules(groups)
