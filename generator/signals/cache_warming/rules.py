"""cache_warming: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Rules
from ...sli import own
from ...spec.errors import FieldError
from ...spec.schema import unit
from ...spec.units import format_number
from ..base import Config, Signal, make_alert
from ..provider_down import SIGNAL as PROVIDER_DOWN_SIGNAL
from ..provider_down.rules import NAME as PROVIDER_DOWN

NAME = "cache_warming"
ALERT = c.alert_name("CacheWarmingNeeded")
ACTION = "cache_warming"


class CacheWarming(Signal):
    name = NAME
    alerts = {"ticket": ALERT}
    remediation = ACTION
    description = "Tell automation to warm caches after a rollout or after a provider outage ends."
    auto_when = "on"
    schema = {
        "after_outage": unit("duration", "Warm caches when a provider outage ended within this window.", "15m"),
        "after_rollout": {**unit("duration", "Warm caches when the rollout gauge changed within this window.", "10m"),
                          "x-raw-window": True},
    }

    def check(self, service, cfg):
        if not _outages_watched(service) and service.source.deployment is None:
            raise FieldError(("enabled",), "cache warming needs the provider_down signal or spec.metrics.deployment")

    def rules(self, service, cfg: Config) -> Rules:
        alerts = []
        requires: tuple[str, ...] = ()
        if _outages_watched(service):
            requires = (PROVIDER_DOWN,)
            w = c.window(cfg["after_outage"])
            down = service.signals[PROVIDER_DOWN]
            # Recovered means serving again (or its probe passing), not merely drained by failover.
            rate = own(c.requests_rate_by_provider(down['window']), service)
            serving = f"{rate} > {format_number(down['min_request_rate'])}"
            outage = own(c.PROVIDER_OUTAGE_ACTIVE, service)
            if any(p.probe_target for p in service.providers):
                serving += f" or {own(c.PROBE_SUCCESS, service)} == 1"
            recovered = make_alert(
                service, NAME, ALERT,
                f"(max_over_time({outage}[{w}]) unless {outage})"
                f" and on (service, team, provider) ({serving})", 0,
                c.INFO, remediation=ACTION, extra={"reason": "provider_recovered"},
                summary="Caches need warming.",
                description=f"{{{{ $labels.provider }}}} recovered from an outage within the last {w}; warm the caches of "
                            "{{ $labels.service }}.",
            )
            alerts.append(recovered)
        if service.source.deployment is not None:
            w = c.window(cfg["after_rollout"])
            rolled = make_alert(
                service, NAME, ALERT, f"max(changes({service.source.deployment}[{w}])) > 0", 0,
                c.INFO, remediation=ACTION, extra={"reason": "rollout"},
                summary="Caches need warming.",
                description=f"{service.name} rolled out within the last {w}; warm its caches.",
            )
            alerts.append(rolled)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(alerts))
        return Rules((group,), requires)


def _outages_watched(service) -> bool:
    return PROVIDER_DOWN_SIGNAL.active(service, service.signals[PROVIDER_DOWN])
