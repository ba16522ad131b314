"""traffic_stopped: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c
from ...rules import Group, Rules
from ...sli import own, with_history
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_duration, format_number
from ..base import Config, Signal, make_alert

NAME = "traffic_stopped"
ALERT = c.alert_name("TrafficStopped")


class TrafficStopped(Signal):
    name = NAME
    alerts = {"page": ALERT}
    explained_by_outage = True  # a provider outage that stops traffic (LiteLLM cooling every deployment) pages already
    description = ("Page when a service that normally has calls at this hour gets (nearly) none: a revoked key, a dead "
                   "exporter, a broken deployment or a stopped scrape.")
    auto_when = "on"
    schema = {
        "below": unit("ratio", "Page when calls per second fall below this share of the same hour one `baseline` ago.",
                      "10%", crossed="below"),
        "min_request_rate": number("Calls per second the service must have had at this hour one `baseline` ago: "
                                   "quieter hours (nights) never page.", 0.1),
        "baseline": unit("duration", "How far back \"this hour\" is: `1d` (yesterday) or `1w` (the same hour last "
                                     "week, for services quiet at weekends). Also the history the page needs first.",
                         "1d"),
        "for": unit("duration", "How long traffic must stay stopped before paging.", "10m"),
    }

    def check(self, service, cfg):
        if cfg["baseline"] < 3600:
            raise FieldError(("baseline",), "expected at least 1h: the baseline is the 1h call rate one baseline ago")
        if not 0 < cfg["below"] < 1:
            raise FieldError(("below",), "expected a share between 0% and 100%")

    def condition(self, service, cfg) -> str:
        then = f"({own(c.REQUESTS_RATE1H, service)} offset {c.window(cfg['baseline'])})"
        # A vanished series is zero calls: the exporter or the scrape stopped.
        now = f"({own(c.REQUESTS_RATE5M, service)} or {then} * 0)"
        return with_history(f"{now} < {format_number(cfg['below'])} * {then} "
                            f"and {then} > {format_number(cfg['min_request_rate'])}", service, cfg["baseline"])

    def history(self, service, cfg) -> float:
        return cfg["baseline"]

    def rules(self, service, cfg: Config) -> Rules:
        alert = make_alert(
            service, NAME, ALERT, self.condition(service, cfg), cfg["for"], c.PAGE,
            summary="The service gets (nearly) no calls at an hour it normally has them.",
            description=("{{ $labels.service }} gets {{ printf \"%.2f\" $value }} calls/s, under "
                         f"{format_number(cfg['below'] * 100)}% of its calls at this hour "
                         f"{format_duration(cfg['baseline'])} ago."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (alert,))
        return Rules((group,))
