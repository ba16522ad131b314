"""What the runbooks of traffic_stopped's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent
from ...content.runbook import Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from .rules import TrafficStopped


def runbook(self: TrafficStopped, service, cfg, alert):
    k = kubectl(service)
    # Every generation of names the service may emit (OTel GenAI's): either one's series show it is scraped.
    raw = " or ".join(f"count({g.selector})" for g in service.source.requests.generations())
    base = format_duration(cfg["baseline"])
    steps = (
        Step("Does Prometheus still get the service's metrics at all? Raw series of the call counter (no result: "
             "they vanished).", raw, key="scrape",
             branches=(("no result", "the exporter, the scrape or the service is gone → step:pods"),
                       ("series are there but flat", "calls do not arrive, or are not counted → step:auth"))),
        Step("Are the service's pods running, and was there a rollout just before?", command=k.history(), key="pods",
             branches=(("a rollout at the time traffic stopped", f"roll it back: `{k.undo()}`, then "
                                                                 f"`{k.status()}`"),
                       ("pods crash-loop or are not ready", f"`{k('get pods -o wide')}`, then their logs"),
                       ("pods are fine", "check the scrape target in Prometheus' Targets page (up == 0, auth, "
                                         "network policy), then → step:auth"))),
        Step("Do calls fail before they are counted? Authentication failures (a revoked or expired provider key; "
             "LiteLLM does not count 401s) leave the counters flat.",
             command=k.logs("401|403|auth|invalid.?(api.?)?key|permission"), key="auth",
             branches=(("401, 403 or invalid key", f"rotate the provider key secret, then `{k.restart()}`"),
                       ("nothing", "→ step:upstream"))),
        Step("Does anyone still send requests? The callers, the ingress or the queue in front of the service.",
             command=k("get ingress,svc,endpoints"), key="upstream",
             branches=(("no endpoints or a broken ingress", "fix the route; the service itself is idle, not down"),
                       ("upstream stopped on purpose (a migration, a switched-off feature)",
                        "resolve; if it is for good, lower `min_request_rate` or turn the signal off"))),
    )
    return RunbookContent(
        meaning=(f"`{service.name}` has had fewer than {percent(cfg['below'])} of the calls it had at this hour "
                 f"{base} ago for {format_duration(cfg['for'])} (it had more than "
                 f"{format_number(cfg['min_request_rate'])} calls/s then). Vanished series count as zero calls."),
        impact=("Users may get nothing at all, while every error ratio looks healthy: without calls there is "
                "nothing to fail, and nothing else pages."),
        steps=steps,
        queries=(Query("Calls per second now", own(c.REQUESTS_RATE5M, service)),
                 Query(f"Calls per second at this hour {base} ago",
                       f"{own(c.REQUESTS_RATE1H, service)} offset {c.window(cfg['baseline'])}")),
        history=(f"Silent until the service has {base} of history (a new service, a renamed job or a fresh "
                 "Prometheus): \"normally\" is the same hour one baseline ago."),
    )
