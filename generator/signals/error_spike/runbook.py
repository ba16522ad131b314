"""What the runbooks of error_spike's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import is_on, kubectl, percent, sibling, status_pages, times
from ...content.runbook import Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alert_link, alert_of
from .rules import ErrorSpike, GROWING, GROWTH


def runbook(self: ErrorSpike, service, cfg, alert):
    k = kubectl(service)
    name, _ = self.baseline(service, cfg)
    baseline = ("the same hour one week earlier" if cfg["baseline_mode"] == "last_week" else
                f"its hourly ratio at this time of day (the same hour on the previous days, up to a week; "
                f"averaged over {format_duration(cfg['baseline'])} while no previous day has the hour)")
    growing = alert.alert == GROWING
    secondary = service.provider("secondary")
    steps = (
        Step("Where do the errors come from? The error ratio by provider and model.",
             f"{own(c.ERRORS_RATE5M_BY_PROVIDER_MODEL, service)} / "
             f"{own(c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, service)}", key="which",
             branches=(("one provider fails on all its models",
                        f"provider trouble: check its status page ({status_pages(service)}); "
                        + (sibling(alert_of("failover", "signal")) + " moves traffic away from the primary"
                           if is_on(service, "failover") else
                           "no automated failover here: route to another provider by hand")),
                       ("one model fails", "that model is degraded: "
                        + alert_link(service, "model_routing", "signal") + " routes it to its fallback"),
                       ("every provider and model fails", "the cause is ours → step:limits"))),
        Step("Are the errors rate limits (429)? Share of calls rate limited.",
             own(c.RATE_LIMITED_RATIO_RATE5M, service), key="limits",
             branches=(("most errors are 429s", "quota: see " + alert_link(service, "rate_limit", "signal")
                        + (f", ask the provider for more, or shift traffic to {secondary.name}" if secondary else
                           ", ask the provider for more")),
                       ("few are", "→ step:rollout"))),
        Step("Did a rollout start shortly before the spike?", command=k.history(), key="rollout",
             branches=(("yes", f"roll back: `{k.undo()}`, then watch step:which fall within 10 minutes"),
                       ("no", "→ step:logs"))),
        Step("Which errors do our calls get? The service's logs.",
             command=k.logs("error|exception|40[0-9]|5[0-9][0-9]|timeout"), key="logs",
             branches=(("401 or 403", f"an API key expired or was revoked: rotate the secret, then `{k.restart()}`"),
                       ("400, invalid request or context length exceeded",
                        "we send requests the model rejects (prompt too long, a new parameter): find the change "
                        "that sends them and revert it"),
                       ("timeouts or refused connections",
                        "network path or provider latency: check egress, and "
                        + alert_link(service, "latency", "page")))),
    )
    meaning = (f"The error ratio of `{service.name}` is above {times(cfg['factor'])} {baseline}, and above "
               f"{percent(cfg['min_error_ratio'])} (while it gets more than "
               f"{format_number(cfg['min_request_rate'])} calls/s)")
    meaning += (f"; it grew by more than {percent(GROWTH - 1)} in the last 5 minutes, for {format_duration(cfg['growing_for'])}."
                if growing else f", for {format_duration(cfg['for'])}.")
    return RunbookContent(
        meaning=meaning,
        impact=("A share of user requests fail outright. Client retries hide part of it and add load."
                + (" It is still growing: act before it doubles." if growing else "")),
        steps=steps,
        mitigation=("A bad rollout: roll back first, debug after.",
                    "One failing provider or model: route around it (failover, model fallback) before anything else."),
        queries=(Query("Error ratio of the service", own(c.ERRORS_RATIO_RATE5M, service)),
                 Query("Its baseline", own(name, service)),
                 Query("Calls per second per provider", own(c.REQUESTS_RATE5M_BY_PROVIDER, service))),
        history=(f"Silent until the service has {format_duration(self.history(service, cfg))} of history (a new "
                 "service, a renamed job or a fresh Prometheus): until then there is no baseline to be far above."),
    )
