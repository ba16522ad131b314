"""provider_down: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ... import outage
from ...promql import Matcher
from ...rules import Group, Recording, Rules
from ...sli import own, provider_rates, rate_by, static_labels
from ...spec.model import Service
from ...spec.schema import number, unit
from ...spec.units import format_number
from ..base import Config, Signal, make_alert

NAME = "provider_down"
ALERT = c.alert_name("ProviderDown")
OUTAGE = c.PROVIDER_OUTAGE_ACTIVE


class ProviderDown(Signal):
    name = NAME
    records_outages = True
    alerts = {"page": ALERT}
    description = "Page when a provider stops answering: its success ratio collapses or its probe fails."
    auto_when = "on"
    schema = {
        "success_ratio_below": unit("ratio", "Page when the provider's success ratio falls below this.", "50%",
                                    crossed="below"),
        "min_request_rate": number("Calls per second the provider must get before its ratio counts.", 0.05),
        "window": {**unit("duration", "Rate window of the success ratio.", "2m"), "x-rate-window": True, "x-raw-window": True},
        "for": unit("duration", "How long the outage must last before paging.", "1m"),
    }

    def outage_threshold(self, service, cfg):
        return cfg["success_ratio_below"], cfg["min_request_rate"]

    def inhibitions(self, service: Service, explained: tuple[str, ...]) -> tuple[dict, ...]:
        """An outage of a provider the service depends on explains its latency, error and failover pages. Those
        pages are service-level (no provider label), so the dependency is in the matchers; a standby secondary going
        down explains nothing and mutes nothing."""
        m = c.am_matcher
        return ({"source_matchers": [m("alertname", ALERT), m(c.SERVICE, service.name),
                                     m(c.PROVIDER, "|".join(service.traffic_providers), "=~")],
                 "target_matchers": [m(c.SERVICE, service.name), m(c.SEVERITY, c.PAGE),
                                     m(c.SIGNAL, "|".join(explained), "=~"), m(c.REMEDIATION, "")],
                 "equal": [c.TEAM, c.SERVICE]},)

    def rate_windows(self, service, cfg):
        return (cfg["window"],)

    def condition(self, service, cfg) -> str:
        w = c.window(cfg["window"])
        traffic = own(c.requests_rate_by_provider(cfg["window"]), service)
        cond = (f"{own(success_ratio(cfg), service)} < {format_number(cfg['success_ratio_below'])}"
                f" and {traffic} > {format_number(cfg['min_request_rate'])}")
        if any(p.probe_target for p in service.providers):
            cond = f"({cond}) or ({own(c.PROBE_SUCCESS, service)} == 0)"
        if service.source.cooldowns is not None:
            # Cooldowns never start an outage (a 429 cools a deployment too) but keep one going: the provider's
            # failures stop counting as its own once its deployments are cooled down.
            cond = (f"({cond}) or ({own(cooldowns_name(cfg), service)} > 0 and on (service, team, provider) "
                    f"max_over_time({own(OUTAGE, service)}[{w}]) == 1) * 0")
        return cond

    def rules(self, service, cfg: Config) -> Rules:
        src = service.source
        labels = static_labels(service)
        requests, errors = provider_rates(cfg["window"])
        rules: list = [
            Recording(success_ratio(cfg),
                      f"1 - {own(errors, service)} / {own(requests, service)}"),
        ]
        for p in service.providers:
            if p.probe_target:
                sel = src.probe.with_matchers(Matcher("instance", "=", p.probe_target))
                rules.append(Recording(c.PROBE_SUCCESS, f"min({sel})",
                                       labels + ((c.PROVIDER, p.name),)))
        if src.cooldowns is not None:
            rules.append(Recording(cooldowns_name(cfg), rate_by(src.cooldowns, cfg["window"], (c.PROVIDER,), service),
                                   labels))
        cond = self.condition(service, cfg)
        rules.append(Recording(OUTAGE, f"({cond}) * 0 + 1"))
        rules.append(outage.recent_rule(service))
        alert = make_alert(
            service, NAME, ALERT, cond, cfg["for"], c.PAGE,
            summary="A model provider is down for this service.",
            description=("{{ $labels.provider }} answers only {{ $value | humanizePercentage }} of calls from "
                         "{{ $labels.service }}"
                         + (" (0% also when its synthetic probe fails)" if any(p.probe_target for p in service.providers)
                            else "") + ". Failover should already be routing around it."),
        )
        rules.append(alert)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Rules((group,))


def success_ratio(cfg: Config) -> str:
    """The share of calls each provider answers, over the signal's window."""
    return c.record("service_provider", "ai_requests", f"success_ratio_rate{c.window(cfg['window'])}")


def cooldowns_name(cfg: Config) -> str:
    """Deployments cooled down per second, per provider, over the signal's window."""
    return c.record("service_provider", "ai_deployment_cooldowns", f"rate{c.window(cfg['window'])}")
