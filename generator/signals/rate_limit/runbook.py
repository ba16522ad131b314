"""What the runbooks of rate_limit's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent, silence, times
from ...content.runbook import Query, Remediation, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from .rules import HISTORY, PAGE_ALERT, RateLimit, SIGNAL_ALERT


def runbook(self: RateLimit, service, cfg, alert):
    k = kubectl(service)
    limited = percent(cfg["rate_limited_ratio_above"])
    factor = times(cfg["traffic_factor"])
    ratio = own(c.RATE_LIMITED_RATIO_RATE5M, service)
    load = f"{own(c.REQUESTS_RATE5M, service)} / {own(c.REQUESTS_SAME_HOUR_PEAK, service)}"
    condition = (f"more than {limited} of the calls of `{service.name}` are rate limited (429), or its traffic is "
                 f"above {factor} its usual rate at this time of day (the busiest hour from this time on the previous days, up to a week) (while it gets more than "
                 f"{format_number(cfg['min_request_rate'])} calls/s)")
    why = Step("Why is it engaged: provider 429s, or our own traffic? Share of calls rate limited.", ratio,
               branches=((f"above {limited}", "the provider's quota → step:quota"),
                         (f"below {limited}", "a traffic spike → step:traffic")))
    quota = Step("Which provider and model answer 429?",
                 f"{own(c.RATE_LIMITED_RATE5M_BY_PROVIDER_MODEL, service)} / "
                 f"{own(c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, service)}", key="quota",
                 branches=(("one provider", "ask it for a higher quota tier, and shift traffic to another provider "
                                            "in the meantime"),
                           ("every provider", "our concurrency exceeds our quotas: lower it, or queue requests")))
    traffic = Step(f"Is the spike real demand or one client? Calls per second against the usual rate at this time of day "
                   f"({factor} engages).", load, key="traffic",
                   branches=(("a launch, a campaign or steady growth", "raise our limits and the provider quotas "
                                                                      "together"),
                             ("one client, a bot or a retry loop",
                              f"find it (`{k.logs('client|user|tenant|api.key', since='30m')}`) and block it at "
                              "the edge")))
    if alert.alert == SIGNAL_ALERT:
        return RunbookContent(
            meaning=(f"For {format_duration(cfg['for'])}, {condition}. The alert tells the automation to throttle "
                     "clients."),
            impact=("Some clients get 429s from us, by design: it keeps spend and provider throttling in check "
                    "for everyone else."),
            steps=(why, quota, traffic),
            remediation=Remediation(
                did=f"Alertmanager sent this alert to the remediation receiver, which throttles clients of `{service.name}`.",
                verify=Step("Is throttling holding? Share of calls rate limited by the provider (should fall).",
                            ratio, branches=(("it falls", "throttling works; nothing to do"),
                                             ("it stays high", "the throttle is too loose or not applied → step:quota"))),
                rollback=("Throttling lifts when the alert resolves; nothing to undo by hand.",
                          f"To stop throttling now (a false alarm): "
                          f"`{silence(SIGNAL_ALERT, service.name, '1h', 'lift throttling: <your name>')}`."),
                pages=PAGE_ALERT,
            ),
            queries=(Query("Calls per second against the usual rate at this time of day", load),),
            history=HISTORY,
        )
    return RunbookContent(
        meaning=(f"Rate limiting has been engaged for {format_duration(cfg['page_after'])}: {condition}. The spike "
                 "is not passing."),
        impact="Throttled clients have seen 429s for a long time: real users are being turned away.",
        steps=(why, quota, traffic),
        mitigation=("Real demand: raising the limits is the fix, and the provider quota has to rise with them.",),
        history=HISTORY,
        queries=(Query("Calls per second against the usual rate at this time of day", load),
                 Query("Error ratio of the service", own(c.ERRORS_RATIO_RATE5M, service))),
    )
