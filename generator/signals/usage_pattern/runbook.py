"""What the runbooks of usage_pattern's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, times
from ...content.runbook import Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alert_link
from .rules import NEW_MODEL, UsagePattern


def runbook(self: UsagePattern, service, cfg, alert):
    k = kubectl(service)
    f = times(cfg["traffic_factor"])
    if alert.alert == NEW_MODEL:
        return RunbookContent(
            meaning=(f"`{service.name}` has called a model for {format_duration(cfg['for'])} that had no traffic in "
                     f"the {c.window(cfg['lookback'])} before (ending an hour ago). Information, never a page."),
            impact=("None directly. A model outside spec.providers has no price, no failover plan and no eval "
                    "coverage."),
            steps=(
                Step("Which model, through which provider, and how much traffic? Calls per second.",
                     f"sum by ({c.PROVIDER}, {c.MODEL}) ({own(c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, service)})",
                     branches=(("it was planned (a launch or migration)",
                                "add it to spec.providers[].models, spec.pricing and the eval suite, then "
                                "`make generate`"),
                               ("nobody planned it", "a configuration change or a client choosing models freely "
                                                     "→ step:rollout"))),
                Step("Did a rollout change the model configuration?", command=k.history(), key="rollout",
                     branches=(("yes", "confirm with its author; roll back if it was a mistake"),
                               ("no", "a client picks the model: restrict models at the gateway"))),
            ),
            history=(f"Silent until the service has {format_duration(cfg['lookback'] + 3600)} of history "
                     "(a new service, a renamed job or a fresh Prometheus): before that every model looks new."),
        )
    ratio = f"{own(c.REQUESTS_RATE1H, service)} / {own(c.REQUESTS_SAME_HOUR, service)}"
    return RunbookContent(
        meaning=(f"The call rate of `{service.name}` over the last hour is more than {f} its usual rate at this time of day (the same hour on the previous days, up to a week), for "
                 f"{format_duration(cfg['for'])}. Information, never a page. (Traffic below it is not "
                 "reported.)"),
        impact="Cost and rate limits follow the traffic; the provider may start throttling.",
        steps=(Step("How far above usual? The last hour against the same hour on the previous days (1 = usual).", ratio,
                    branches=((f"above {format_number(cfg['traffic_factor'])} and one client dominates",
                               "a retry loop or abuse: find the client in the gateway logs and watch "
                               + alert_link(service, "rate_limit", "signal")),
                              (f"above {format_number(cfg['traffic_factor'])} across clients",
                               "a launch or a campaign: watch "
                               + alert_link(service, "cost_anomaly", "page")
                               + " and tell the team so the forecast is raised"))),),
        queries=(Query("Calls per second per model", own(c.REQUESTS_RATE5M_BY_MODEL, service)),),
        history=("Silent until the service has a day of history (a new service, a renamed job or a fresh "
                 "Prometheus): the same hour the day before is its baseline."),
    )
