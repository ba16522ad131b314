"""What the runbooks of provider_down's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import is_on, kubectl, percent, status_pages
from ...content.runbook import Branch, Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alert_link
from .rules import ProviderDown, cooldowns_name, success_ratio


def runbook(self: ProviderDown, service, cfg, alert):
    w = c.window(cfg["window"])
    below = percent(cfg["success_ratio_below"])
    k = kubectl(service)
    probed = [p.name for p in service.providers if p.probe_target]
    secondary = service.provider("secondary")
    ratio = own(success_ratio(cfg), service)
    traffic = own(c.requests_rate_by_provider(cfg['window']), service)
    t = format_number(cfg["success_ratio_below"])
    on = f"on ({c.SERVICE}, {c.TEAM})"
    probes = own(c.PROBE_SUCCESS, service)
    cooldowns = own(cooldowns_name(cfg), service) if service.source.cooldowns is not None else None
    recovered = f"min by ({c.SERVICE}, {c.TEAM}) ({ratio}) >= {t}"
    branches = [Branch(f"one provider is below {below}", "that provider is down → step:status",
                       holds=f"{ratio} < {t}"),
                Branch(f"every provider is below {below}",
                       "the fault is on our side (egress, DNS, API keys, proxy) → step:logs",
                       holds=f"max by ({c.SERVICE}, {c.TEAM}) ({ratio}) < {t}")]
    quiet = [f"every provider is above {below}"]
    if probed:
        branches.append(Branch("a provider's synthetic probe fails (0)", "→ step:probe", holds=f"{probes} == 0"))
        recovered += f" unless {on} ({probes} == 0)"
        quiet.append("no probe fails")
    if cooldowns:
        branches.append(Branch(f"no provider is below {below}, or the failing one gets no calls, while LiteLLM "
                               "keeps cooling a provider's deployments down", "→ step:cooldowns",
                               holds=f"{cooldowns} > 0"))
        recovered += f" unless {on} ({cooldowns} > 0)"
        quiet.append("no deployment is being cooled down")
    branches.append(Branch(", ".join(quiet[:-1]) + (" and " if len(quiet) > 1 else "") + quiet[-1],
                           "it recovered; confirm traffic is back → step:traffic", holds=recovered,
                           dismisses=True))
    steps = [Step(
        f"Which provider fails, and how badly: the success ratio of each provider over {w}.", ratio,
        branches=tuple(branches), key="which",
    )]
    if probed:
        steps.append(Step(
            f"Is it only the synthetic probe ({', '.join(probed)})? 1 = the probe succeeds, 0 = it fails.",
            own(c.PROBE_SUCCESS, service), key="probe",
            branches=(("the probe is 0 but step:which shows calls succeeding",
                       "the probe is broken, not the provider: check the blackbox exporter and its target"),
                      ("the probe is 0 and calls fail too", "the provider is down → step:status")),
        ))
    if service.source.cooldowns is not None:
        steps.append(Step(
            "Does LiteLLM keep the provider's deployments cooled down? Cooldowns per second by provider: while "
            "they go on the page stays, even though the provider's own series show no traffic (LiteLLM writes "
            "the failures of a cooled-down deployment with an empty `api_provider`).",
            own(cooldowns_name(cfg), service), key="cooldowns",
            branches=(("cooldowns continue", "the provider still fails whenever LiteLLM retries it → step:status"),
                      ("cooldowns stopped", "LiteLLM routes to it again; the page resolves within "
                                            f"{c.window(cfg['window'])} → step:traffic"))))
    steps.append(Step(
        f"Has the provider acknowledged it? Status pages: {status_pages(service)}.", key="status",
        branches=(("an incident is posted", "it is the provider's: post the customer note below → step:traffic"),
                  ("nothing is posted after 10 minutes", "open a ticket with the provider's support, with the "
                   "error samples of step:logs → step:traffic")),
    ))
    if is_on(service, "failover"):
        moved = ((f"traffic moves to {secondary.name}",
                  "failover works: customers see errors only until it completes; "
                  + alert_link(service, "failover", "page") + " pages if errors persist"),
                 ("traffic stays on the failing provider",
                  "failover did not act: follow " + alert_link(service, "failover", "signal")))
    else:
        moved = (("the failing provider still gets traffic",
                  "no automated failover here (it needs a primary and a secondary provider): route to another "
                  f"provider in the service's configuration, then `{k.restart()}`"),
                 ("traffic is back on it and calls succeed", "resolved: post the resolved customer note"))
    steps.append(Step("Where does traffic go now? Calls per second per provider.", traffic, key="traffic",
                      branches=moved))
    proxied = service.source.preset == "litellm"  # the proxy calls the providers, with its own keys
    caller = kubectl(service, proxy=True) if proxied else k
    steps.append(Step(
        "What do the calls to the provider return? Errors in the LiteLLM proxy's logs (it calls the providers, "
        "with its keys; the service's own logs show only the proxy's answers)." if proxied else
        "What do our calls to the provider return? Errors in the service's logs.",
        command=caller.logs("401|403|429|5[0-9][0-9]|timeout|refused|tls|dns"), key="logs",
        branches=(("401 or 403, or an authentication / invalid API key message",
                   (f"the provider's API key in the proxy's configuration (`model_list`, usually a secret) expired or "
                    f"was revoked: rotate it, then `{caller.restart()}` (LiteLLM does not count these failures at "
                    "all: the service goes quiet rather than red, which "
                    + alert_link(service, "traffic_stopped", "page") + " catches)") if proxied else
                   f"our API key expired or was revoked: rotate the secret, then `{k.restart()}`"),
                  ("timeouts, refused connections, DNS or TLS errors",
                   "the network path is broken (egress gateway, NAT, proxy, DNS): page the platform on-call"),
                  ("5xx from the provider", "the provider is failing → step:status")),
    ))
    return RunbookContent(
        meaning=(f"A provider of `{service.name}` answers less than {below} of calls over {w} (while it gets more "
                 f"than {format_number(cfg['min_request_rate'])} calls/s)"
                 + (", or its synthetic probe fails" if probed else "")
                 + (" (once it is down, LiteLLM cooling its deployments down keeps it down)"
                    if service.source.cooldowns is not None else "")
                 + f", and has done so for {format_duration(cfg['for'])}."),
        impact=("Every call routed to that provider fails. With automated failover users see errors until traffic "
                "moves; without it, until the provider recovers. Automation cannot tell customers: you can."),
        steps=tuple(steps),
        mitigation=("Post the status page note below within 15 minutes of the page, even though the provider "
                    "caused it: customers feel the impact either way.",
                    "Do not restart the service to \"fix\" a provider outage: it drops in-flight requests and warms "
                    "nothing."),
        queries=(Query("Error ratio by provider and model",
                       f"{own(c.ERRORS_RATE5M_BY_PROVIDER_MODEL, service)} / "
                       f"{own(c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, service)}"),
                 Query("Calls per second per provider", traffic)),
        provider_outage=True,
    )
