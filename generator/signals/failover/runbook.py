"""What the runbooks of failover's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent, silence
from ...content.runbook import Query, Remediation, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alert_link
from .rules import Failover, PAGE_ALERT, SIGNAL_ALERT


def runbook(self: Failover, service, cfg, alert):
    primary, secondary = service.provider("primary"), service.provider("secondary")
    k = kubectl(service)
    thr = percent(cfg["error_ratio_above"])
    traffic = own(c.REQUESTS_RATE5M_BY_PROVIDER, service)
    errors = own(c.ERRORS_RATIO_RATE5M_BY_PROVIDER, service)
    moved = Step("Has traffic moved? Calls per second per provider.", traffic, key="moved",
                 branches=((f"{secondary.name} rises and {primary.name} falls towards 0",
                            "failover worked: watch the error ratio fall; how badly does it fail → step:down"),
                           (f"traffic stays on {primary.name}", "the automation did not act → step:automation")))
    automation = Step("Did the remediation receiver get the alert, and act?", key="automation",
                      command=f"amtool alert query alertname={SIGNAL_ALERT} {c.SERVICE}={service.name}",
                      branches=(("the alert is firing but traffic did not move",
                                 "the automation failed: fail over by hand (the service's provider configuration), "
                                 f"then `{k.restart()}`; tell the automation's owners"),
                                ("the alert is silenced", f"someone held failover: find the silence (`amtool silence "
                                 f"query {c.SERVICE}={service.name}`) and decide whether to expire it")))
    if alert.alert == SIGNAL_ALERT:
        return RunbookContent(
            meaning=(f"{primary.name} (the primary) fails more than {thr} of the calls of `{service.name}` (while it "
                     f"gets more than {format_number(cfg['min_request_rate'])} calls/s), for "
                     f"{format_duration(cfg['for'])}. The alert tells the failover automation to route traffic to "
                     f"{secondary.name}."),
            impact=(f"Calls to {primary.name} fail until traffic moves. Afterwards answers come from "
                    f"{secondary.name} ({', '.join(secondary.models) or 'its models'}): quality, latency and price "
                    "may differ."),
            steps=(moved, automation,
                   Step(f"Is {primary.name} down, or only degraded? Error ratio per provider.", errors, key="down",
                        branches=((f"{primary.name} is near 100%", "it is down: follow "
                                   + alert_link(service, "provider_down", "page")),
                                  (f"{primary.name} is between {thr} and 50%", "degraded: failover is the right call; "
                                   "check its status page")))),
            remediation=Remediation(
                did=(f"Alertmanager sent this alert to the remediation receiver, which routes the traffic of "
                     f"`{service.name}` from {primary.name} to {secondary.name}."),
                verify=moved,
                rollback=(f"Routing back is the automation's job when the alert resolves: {primary.name}'s error "
                          f"ratio is below {thr} with traffic, or {format_duration(cfg['hold'])} passed since its "
                          "traffic drained (automation then tries it again, and fails over again if it still fails). "
                          f"Check with the query below that {primary.name} is healthy first.",
                          f"To hold traffic on {secondary.name}, or stop failover flapping: "
                          f"`{silence(SIGNAL_ALERT, service.name, '2h', 'hold failover: <your name>')}`. "
                          "A silence stops new notifications; it does not undo a failover already made."),
                pages=PAGE_ALERT,
            ),
            queries=(Query(f"Error ratio of {primary.name}", own(c.ERRORS_RATIO_RATE5M_BY_PROVIDER, service,
                                                                provider=primary.name)),) + _fallback_queries(service),
            provider_outage=True,
        )
    return RunbookContent(
        meaning=(f"`{service.name}` still fails more than {thr} of all calls "
                 f"{format_duration(cfg['remediation_window'])} after failover from {primary.name} to "
                 f"{secondary.name} began (the page waits {format_duration(cfg['for'] + cfg['remediation_window'])})."),
        impact=(f"Users see errors although traffic should have moved: either failover did not happen, or "
                f"{secondary.name} fails too."),
        steps=(
            Step("Where does traffic go now? Calls per second per provider.", traffic,
                 branches=((f"still to {primary.name}", "failover did not act → step:automation"),
                           (f"to {secondary.name}", "it fails too → step:secondary"))),
            automation,
            Step(f"Is {secondary.name} failing too? Error ratio per provider.", errors, key="secondary",
                 branches=(("both providers fail", "the fault is probably ours (egress, API keys, a request shape "
                                                   "both reject) → step:logs"),
                           (f"{secondary.name} is healthy but errors persist", "they come from elsewhere in the "
                                                                               "service → step:logs"))),
            Step("Which errors do our calls get? The service's logs.", key="logs",
                 command=k.logs("error|exception|40[0-9]|5[0-9][0-9]|timeout"),
                 branches=(("401 or 403", f"an API key expired or was revoked: rotate it, then `{k.restart()}`"),
                           ("anything else", f"a recent rollout? `{k.history()}`, and `{k.undo()}` if one lines up"))),
        ),
        mitigation=("Failover is the only fast lever for a provider outage: make it happen (by hand if needed) "
                    "before debugging why it did not.",),
        queries=(Query("Error ratio of the service", own(c.ERRORS_RATIO_RATE5M, service)),),
        provider_outage=True,
    )


def _fallback_queries(service) -> tuple[Query, ...]:
    """Where the metrics source makes fallbacks itself (LiteLLM), how many worked and how many failed."""
    src = service.source
    if src.fallbacks_ok is None or src.fallbacks_failed is None:
        return ()
    by = "sum by (requested_model, fallback_model)"
    return (Query("Fallbacks the proxy made that succeeded, per second", f"{by} (rate({src.fallbacks_ok}[5m]))"),
            Query("Fallbacks the proxy made that failed, per second (any is bad news)",
                  f"{by} (rate({src.fallbacks_failed}[5m]))"))
