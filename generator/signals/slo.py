"""SLO accounting (recorded, not alerted): availability and error budget over the SLO window, with the
part burned by provider failures kept apart so the team can claim credit against the provider's SLA.

The window is summed from coarse series: calls, failures and provider failures per hour, recorded once an hour by a
group of their own (`service:ai_*:increase1h`). A 30-day figure then reads 720 samples per series, where summing the
SLI's every-minute `rate1h` read 43,200; and a promtool test evaluating every hour covers 31 days in seconds.
"""
from __future__ import annotations

from .. import conventions as c
from ..rules import ExprCheck, Group, Output, Phase, Recording, Scenario, Stream
from ..sli import own
from ..spec.units import format_number
from .base import Config, Signal, first_model

NAME = "slo"


class SLOAccounting(Signal):
    name = NAME
    description = "Record availability, error budget and the provider's share of it over the SLO window."
    auto_when = "on"
    schema = {}

    def build(self, service, cfg: Config) -> Output:
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
        return Output(groups=groups, scenarios=(self._scenario(service, w),))

    def _scenario(self, service, w):
        p, model = first_model(service)
        # 2% of calls fail, half of them on the provider: availability 98%, provider share 1%.
        stream = Stream(p.name, model, (Phase(180, ok=980, errors=20, provider_errors=10),))
        objective = service.slo.availability
        # Where every failure counts against the provider, the provider's share is all of them.
        share = 0.02 if service.source.provider_errors.selector == service.source.errors.selector else 0.01
        lab = (("service", service.name), ("team", service.team))

        def sample(name, value):
            # Rounded on both sides: promtool 2.42 compares sample values exactly.
            return ExprCheck(175, f"round({own(name, service)} * 10000) / 10000",
                             ((tuple(sorted(lab)), round(value * 10000) / 10000),))

        return Scenario(
            "SLO accounting: 2% failed calls, half of them the provider's",
            streams=(stream,),
            exprs=(sample(f"service:ai_availability:ratio_{w}", 0.98),
                   sample(f"service:ai_provider_errors:ratio_{w}", share),
                   sample(f"service:ai_error_budget:remaining_{w}", 1 - 0.02 / (1 - objective)),
                   sample(f"service:ai_error_budget:burned_by_provider_{w}", share / (1 - objective))),
            evaluation_interval=300,
        )


SIGNAL = SLOAccounting()
