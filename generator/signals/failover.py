"""Provider failover, automated first: the primary provider's error ratio crosses a threshold, a
remediation alert tells the failover automation to route to the secondary, and a human is paged only
when the service still fails after the remediation window.
"""
from __future__ import annotations

from .. import conventions as c
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..sli import own
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, expect, make_alert

NAME = "failover"
SIGNAL_ALERT = c.alert_name("ProviderFailover")
PAGE_ALERT = c.alert_name("ProviderFailoverIneffective")
ACTION = "failover"


class Failover(Signal):
    name = NAME
    remediation = ACTION
    description = "Tell automation to fail over from the primary provider; page if errors persist anyway."
    auto_when = "on when the spec has a primary and a secondary provider"
    schema = {
        "error_ratio_above": unit("ratio", "Fail over when the primary's error ratio exceeds this.", "10%"),
        "min_request_rate": number("Calls per second the primary needs before its ratio counts.", 0.05),
        "for": unit("duration", "How long before the failover signal fires.", "1m"),
        "remediation_window": unit("duration", "How long automation gets before a human is paged.", "10m"),
    }

    def auto(self, service):
        return service.provider("primary") is not None and service.provider("secondary") is not None

    def check(self, service, cfg):
        if not self.auto(service):
            raise FieldError(("enabled",), "failover needs a provider with role primary and one with role secondary")

    def build(self, service, cfg: Config) -> Output:
        primary, secondary = service.provider("primary"), service.provider("secondary")
        thr = format_number(cfg["error_ratio_above"])
        cond = (f"{own('service_provider:ai_errors:ratio_rate5m', service, provider=primary.name)} > {thr}"
                f" and {own('service_provider:ai_requests:rate5m', service, provider=primary.name)}"
                f" > {format_number(cfg['min_request_rate'])}")
        signal = make_alert(
            service, NAME, SIGNAL_ALERT, cond, cfg["for"], c.INFO, remediation=ACTION,
            summary="Failing over from the primary provider.",
            description=(f"{{{{ $labels.provider }}}} fails {{{{ $value | humanizePercentage }}}} of calls from "
                         f"{{{{ $labels.service }}}}; automation routes traffic to {secondary.name}."),
        )
        page = make_alert(
            service, NAME, PAGE_ALERT,
            f"{own('service:ai_errors:ratio_rate5m', service)} > {thr} and on (service, team) ({cond})",
            cfg["for"] + cfg["remediation_window"], c.PAGE,
            summary="Failover did not stop the errors.",
            description=(f"{{{{ $labels.service }}}} still fails {{{{ $value | humanizePercentage }}}} of calls "
                         f"{format_duration(cfg['remediation_window'])} after failover from {primary.name} to "
                         f"{secondary.name} began."),
        )
        group = Group(f"oncallgen-{service.name}-{NAME}", NAME, (signal, page))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, signal, page)))

    def _scenarios(self, service, cfg, signal, page):
        primary, secondary = service.provider("primary"), service.provider("secondary")
        pm = primary.models[0] if primary.models else "default"
        sm = secondary.models[0] if secondary.models else "default"
        per_min = 100.0
        bad = per_min * min(0.5, cfg["error_ratio_above"] * 4)
        fast = 30 + 5 + int(cfg["for"] // 60) + 1
        persist = 30 + 5 + int((cfg["for"] + cfg["remediation_window"]) // 60) + 2
        failing = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(persist - 30 + 5, ok=per_min - bad, errors=bad,
                                                                          provider_errors=bad)))
        steady_secondary = Stream(secondary.name, sm, (Phase(persist + 5, ok=per_min),))
        yield Scenario(
            f"{SIGNAL_ALERT} fires fast and {PAGE_ALERT} pages only when errors persist past the remediation window",
            streams=(failing, steady_secondary),
            checks=(Check(25, SIGNAL_ALERT),
                    Check(fast, SIGNAL_ALERT, (expect(signal, bad / per_min, provider=primary.name),)),
                    Check(fast, PAGE_ALERT),
                    Check(persist, PAGE_ALERT, (expect(page, bad / (2 * per_min)),))),
        )
        moved = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(3, ok=per_min - bad, errors=bad),
                                          Phase(persist - 33 + 5)))
        takes_over = Stream(secondary.name, sm, (Phase(33, ok=per_min), Phase(persist - 33 + 5, ok=2 * per_min)))
        yield Scenario(
            f"{PAGE_ALERT} stays silent when failover moves the traffic to {secondary.name}",
            streams=(moved, takes_over),
            checks=(Check(persist, PAGE_ALERT),),
        )
        yield Scenario(
            f"{SIGNAL_ALERT} stays silent on one failed request among thousands",
            streams=(Stream(primary.name, pm, (Phase(30, ok=1000), Phase(1, ok=999, errors=1), Phase(10, ok=1000))),),
            checks=(Check(31, SIGNAL_ALERT), Check(33, SIGNAL_ALERT)),
        )


SIGNAL = Failover()
