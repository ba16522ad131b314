"""failover: its names, settings, checks and rules."""
from __future__ import annotations

from ... import boundaries, conventions as c, outage
from ...content.links import percent
from ...rules import Group, Recording, Rules
from ...sli import own, provider_rates
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_duration, format_number
from ..base import Config, Signal, error_ceiling, make_alert, recorder

NAME = "failover"
SIGNAL_ALERT = c.alert_name("ProviderFailover")
PAGE_ALERT = c.alert_name("ProviderFailoverIneffective")
ACTION = "failover"
NEEDED = c.record("service_provider", "ai_failover_needed", "active")


class Failover(Signal):
    name = NAME
    alerts = {"signal": SIGNAL_ALERT, "page": PAGE_ALERT}
    explained_by_outage = True
    remediation = ACTION
    description = "Tell automation to fail over from the primary provider; page if errors persist anyway."
    auto_when = "on when the spec has a primary and a secondary provider"
    schema = {
        "error_ratio_above": unit("ratio", "Fail over when the primary's error ratio exceeds this.", "10%", crossed="above"),
        "window": {**unit("duration", "Rate window of the primary's error ratio: shorter fails over (and back) sooner.",
                          "5m"), "x-rate-window": True, "x-raw-window": True},
        "min_request_rate": number("Calls per second the primary needs before its ratio counts.", 0.05),
        "for": unit("duration", "How long before the failover signal fires.", "1m"),
        "remediation_window": unit("duration", "How long automation gets before a human is paged.", "10m"),
        "hold": unit("duration", "How long failover stays engaged once the primary's traffic has drained (no "
                                 "traffic, no error ratio); then it resolves and automation may try the primary again.",
                     "15m"),
    }

    def auto(self, service):
        return service.provider("primary") is not None and service.provider("secondary") is not None

    def check(self, service, cfg):
        if not self.auto(service):
            raise FieldError(("enabled",), "failover needs a provider with role primary and one with role secondary")

    def warnings(self, service, cfg):
        if self.outage_first(service, cfg):
            name, below, _ = recorder(service)
            return [(("error_ratio_above",), f"{percent(cfg['error_ratio_above'])} of failed calls is already a provider "
                                             f"outage ({name} pages below {percent(below)} success, and mutes "
                                             f"{PAGE_ALERT}): failover acts only after that page")]
        return []

    @staticmethod
    def failing_ratio(service, cfg) -> float | None:
        """An error ratio of a provider well past `error_ratio_above` that is no provider outage yet (that would
        mute the page); None: provider_down's threshold leaves no room."""
        thr = cfg["error_ratio_above"]
        ceiling = error_ceiling(service)
        if min(0.5, thr * 4) < ceiling * 0.95:
            return min(0.5, thr * 4)
        between = (thr + ceiling) / 2
        return between if thr * 1.05 < between < ceiling * 0.97 else None

    @staticmethod
    def outage_first(service, cfg) -> bool:
        """Whether a primary failing just past `error_ratio_above`, with traffic just past the guard, is a provider
        outage already: the provider's own page fires and mutes this signal's page."""
        found = recorder(service)
        if found is None:
            return False
        return (cfg["error_ratio_above"] * (1 + boundaries.MARGIN) > error_ceiling(service)
                and cfg["min_request_rate"] * (1 + boundaries.MARGIN) > found[2])

    def rate_windows(self, service, cfg):
        return (cfg["window"],)

    def rules(self, service, cfg: Config) -> Rules:
        primary, secondary = service.provider("primary"), service.provider("secondary")
        thr = format_number(cfg["error_ratio_above"])
        requests, errors = provider_rates(cfg["window"])
        cond = (f"{own(errors, service, provider=primary.name)} / {own(requests, service, provider=primary.name)}"
                f" > {thr}"
                f" and {own(requests, service, provider=primary.name)} > {format_number(cfg['min_request_rate'])}")
        needed = own(NEEDED, service)
        traffic = f"{own(requests, service, provider=primary.name)} > {format_number(cfg['min_request_rate'])}"
        # Once failover drains the primary, its ratio has no traffic to stand on: without the hold the alert
        # would resolve, automation would route back, and failover would flap.
        engaged = (f"{needed} or (max_over_time({needed}[{c.window(cfg['hold'])}]) unless on (service, team, provider) "
                   f"({traffic}))")
        signal = make_alert(
            service, NAME, SIGNAL_ALERT, engaged,
            cfg["for"], c.INFO, remediation=ACTION,
            summary="Failing over from the primary provider.",
            description=(f"{{{{ $labels.provider }}}} fails more than {format_number(cfg['error_ratio_above'] * 100)}% "
                         f"of calls from {{{{ $labels.service }}}} (or did until its traffic drained, within "
                         f"{format_duration(cfg['hold'])}); automation routes traffic to {secondary.name}."),
        )
        # The page: the service still fails while failover is engaged, whether traffic never moved (the primary still
        # fails) or moved to a secondary that fails too (the primary drained, failover held).
        page = make_alert(
            service, NAME, PAGE_ALERT,
            f"{own(c.ERRORS_RATIO_RATE5M, service)} > {thr} and on (service, team) ({engaged})",
            cfg["for"] + cfg["remediation_window"], c.PAGE,
            summary="Failover did not stop the errors.",
            description=(f"{{{{ $labels.service }}}} still fails {{{{ $value | humanizePercentage }}}} of calls "
                         f"{format_duration(cfg['remediation_window'])} after failover from {primary.name} to "
                         f"{secondary.name} began."),
        )
        group = Group(c.group_name(service.name, NAME), NAME,
                      (Recording(NEEDED, f"({cond}) * 0 + 1"), signal, page))
        return Rules((group,))
