"""Provider API down: the provider answers almost nothing, or its synthetic probe fails. Pages fast.

Failover should already be under way (see `failover`); the page is for human awareness and customer
communication, which automation cannot do.
"""
from __future__ import annotations

import math

from dataclasses import replace

from .. import conventions as c
from .. import outage
from ..promql import Matcher
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import SAMPLE_SECONDS, Check, ExprCheck, Group, Output, Phase, Recording, Scenario, Stream
from ..content.runbook import Branch, Query, RunbookContent, Step
from ..content.links import is_on, kubectl, percent, status_pages
from ..sli import own, provider_rates, rate_by, static_labels
from ..spec.model import Service
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import cooldown_series, probe_series
from .base import Config, Signal, alert_link, expect, first_model, make_alert

NAME = outage.RECORDER
ALERT = c.alert_name("ProviderDown")
OUTAGE = outage.ACTIVE


class ProviderDown(Signal):
    name = NAME
    records_outages = True
    alerts = {"page": ALERT}
    description = "Page when a provider stops answering: its success ratio collapses or its probe fails."
    auto_when = "on"
    schema = {
        "success_ratio_below": unit("ratio", "Page when the provider's success ratio falls below this.", "50%"),
        "min_request_rate": number("Calls per second the provider must get before its ratio counts.", 0.05),
        "window": {**unit("duration", "Rate window of the success ratio.", "2m"), "x-rate-window": True, "x-raw-window": True},
        "for": unit("duration", "How long the outage must last before paging.", "1m"),
    }

    def inhibitions(self, service: Service, explained: tuple[str, ...]) -> tuple[dict, ...]:
        """An outage of a provider the service depends on explains its latency, error and failover pages. Those
        pages are service-level (no provider label), so the dependency is in the matchers; a standby secondary going
        down explains nothing and mutes nothing."""
        m = c.am_matcher
        return ({"source_matchers": [m("alertname", ALERT), m(c.SERVICE, service.name),
                                     m(c.PROVIDER, "|".join(service.traffic_providers), "=~")],
                 "target_matchers": [m(c.SERVICE, service.name), m(c.SEVERITY, c.PAGE),
                                     m(c.SIGNAL, "|".join(explained), "=~"), m(c.REMEDIATION, "")],
                 "equal": [c.TEAM, c.SERVICE]},)

    def rate_windows(self, service, cfg):
        return (cfg["window"],)

    def condition(self, service, cfg) -> str:
        w = c.window(cfg["window"])
        cond = (f"{own(f'service_provider:ai_requests:success_ratio_rate{w}', service)} < {format_number(cfg['success_ratio_below'])}"
                f" and {own(f'service_provider:ai_requests:rate{w}', service)} > {format_number(cfg['min_request_rate'])}")
        if any(p.probe_target for p in service.providers):
            cond = f"({cond}) or ({own('service_provider:ai_probe:success', service)} == 0)"
        if service.source.cooldowns is not None:
            # Cooldowns never start an outage (a 429 cools a deployment too) but keep one going: the provider's
            # failures stop counting as its own once its deployments are cooled down.
            cond = (f"({cond}) or ({own(cooldowns_name(cfg), service)} > 0 and on (service, team, provider) "
                    f"max_over_time({own(OUTAGE, service)}[{w}]) == 1) * 0")
        return cond

    def build(self, service, cfg: Config) -> Output:
        w = c.window(cfg["window"])
        src = service.source
        labels = static_labels(service)
        requests, errors = provider_rates(cfg["window"])
        rules: list = [
            Recording(f"service_provider:ai_requests:success_ratio_rate{w}",
                      f"1 - {own(errors, service)} / {own(requests, service)}"),
        ]
        for p in service.providers:
            if p.probe_target:
                sel = src.probe.with_matchers(Matcher("instance", "=", p.probe_target))
                rules.append(Recording("service_provider:ai_probe:success", f"min({sel})",
                                       labels + ((c.PROVIDER, p.name),)))
        if src.cooldowns is not None:
            rules.append(Recording(cooldowns_name(cfg), rate_by(src.cooldowns, cfg["window"], (c.PROVIDER,), service),
                                   labels))
        cond = self.condition(service, cfg)
        rules.append(Recording(OUTAGE, f"({cond}) * 0 + 1"))
        rules.append(outage.recent_rule(service))
        alert = make_alert(
            service, NAME, ALERT, cond, cfg["for"], c.PAGE,
            summary="A model provider is down for this service.",
            description=("{{ $labels.provider }} answers only {{ $value | humanizePercentage }} of calls from "
                         "{{ $labels.service }}"
                         + (" (0% also when its synthetic probe fails)" if any(p.probe_target for p in service.providers)
                            else "") + ". Failover should already be routing around it."),
        )
        rules.append(alert)
        return Output(groups=(Group(c.group_name(service.name, NAME), NAME, tuple(rules)),),
                      scenarios=tuple(self._scenarios(service, cfg, alert)))

    def runbook(self, service, cfg, alert):
        w = c.window(cfg["window"])
        below = percent(cfg["success_ratio_below"])
        k = kubectl(service)
        probed = [p.name for p in service.providers if p.probe_target]
        secondary = service.provider("secondary")
        ratio = own(f"service_provider:ai_requests:success_ratio_rate{w}", service)
        traffic = own(f"service_provider:ai_requests:rate{w}", service)
        t = format_number(cfg["success_ratio_below"])
        on = f"on ({c.SERVICE}, {c.TEAM})"
        probes = own("service_provider:ai_probe:success", service)
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
                own("service_provider:ai_probe:success", service), key="probe",
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
                           f"{own('service_provider_model:ai_errors:rate5m', service)} / "
                           f"{own('service_provider_model:ai_requests:rate5m', service)}"),
                     Query("Calls per second per provider", traffic)),
            provider_outage=True,
        )

    def probe(self, service, cfg, alert) -> Probe:
        """The alert's thresholds: success ratio below the spec's, calls/s above its guard, for `for`."""
        p, model = first_model(service)

        def traffic(success: float, guard: float | None) -> Traffic:
            per_min = guard * 60 if guard is not None else max(100.0, cfg["min_request_rate"] * 600)
            ok = per_min * success
            # Traffic from minute 0: the rate window fills at `window` minutes, when a guard just passed starts to hold.
            return Traffic(boundaries.filling_onset(cfg["window"], guard, cfg["min_request_rate"]),
                           streams=(Stream(p.name, model, (Phase(60, ok=ok, errors=per_min - ok,
                                                                 provider_errors=per_min - ok),)),),
                           value=success)

        def record(minute: int, holds: bool) -> tuple[ExprCheck, ...]:
            labels = tuple(sorted({"__name__": OUTAGE, c.PROVIDER: p.name, c.SERVICE: service.name,
                                   c.TEAM: service.team}.items()))
            return (ExprCheck(minute, own(OUTAGE, service), ((labels, 1.0),) if holds else ()),)

        return Probe(alert, Clause(f"success ratio over {c.window(cfg['window'])}", "<", cfg["success_ratio_below"]),
                     cfg["for"], traffic, lambda t: (expect(alert, t.value, provider=p.name),),
                     guard=Clause("calls/s", ">", cfg["min_request_rate"]), record=record,
                     fine=cfg["window"] >= 2 * SAMPLE_SECONDS)

    def _scenarios(self, service, cfg, alert):
        yield from boundaries.scenarios(self.probe(service, cfg, alert))
        p, model = first_model(service)
        per_min = max(100.0, cfg["min_request_rate"] * 60 * 10)
        ok = round(per_min * cfg["success_ratio_below"] / 5)
        window = cfg["window"] / 60
        if window == int(window):
            # The failures start at minute 30; the ratio crosses while its window slides over them: the page is due
            # `for` after the first evaluation that sees it.
            onset, failing = boundaries.crossing(30, 0.0, 1 - ok / per_min, 1 - cfg["success_ratio_below"],
                                                 int(window))
            ok = per_min * (1 - failing)
            at = math.ceil(onset) + math.ceil(cfg["for"] / 60)

            def success(n: float, at=at, failing=failing, window=int(window)) -> tuple:
                # the ratio `n` minutes after `at`, while its window may still fill (values bound now: the names
                # are reused below)
                ratio = 1 - boundaries.window_average(30, 0.0, failing, at + n, window)
                return (expect(alert, ratio, provider=p.name),)

            fires = (Check(at - 1, ALERT), Check(at, ALERT, success(0), due=True, later=success))
        else:
            at = 30 + math.ceil(window) + math.ceil(cfg["for"] / 60) + 1
            fires = (Check(at, ALERT, (expect(alert, ok / per_min, provider=p.name),), lasts=False,
                           onset=(30, 30 + math.ceil(window) + 1)),)
        down = Phase(at - 30 + 10, ok=ok, errors=per_min - ok, provider_errors=per_min - ok, latency=1)
        healthy = Phase(30, ok=per_min, latency=1)
        yield Scenario(
            f"{ALERT} fires when {p.name} answers {ok:g} of {per_min:g} calls a minute",
            streams=(Stream(p.name, model, (healthy, down)),),
            checks=(Check(25, ALERT),) + fires,
        )
        yield Scenario(
            f"{ALERT} stays silent on one failed request among {per_min * 10:g} a minute",
            streams=(Stream(p.name, model, (Phase(30, ok=per_min * 10), Phase(1, ok=per_min * 10 - 1, errors=1),
                                            Phase(20, ok=per_min * 10))),),
            checks=(Check(31, ALERT), Check(33, ALERT), Check(40, ALERT)),
        )
        yield Scenario(
            f"{ALERT} stays silent when a low-traffic service fails its only call",
            streams=(Stream(p.name, model, (Phase(30, ok=1), Phase(2, errors=1, provider_errors=1), Phase(20, ok=1))),),
            checks=(Check(31, ALERT), Check(32, ALERT), Check(35, ALERT)),
        )
        if service.source.cooldowns is not None:
            # The provider fails until the page has surely fired, then gets no calls (routed elsewhere) while its
            # deployments stay cooled down: the page holds on the cooldowns (value 0: no ratio to show), and lets go
            # once the last cooldown leaves the window. Every minute follows from the window and the `for`.
            window = -(-int(cfg["window"]) // 60)
            wait = -(-int(cfg["for"]) // 60)
            failing = window + wait + 5
            stopped = 30 + failing                   # calls stop; cooldowns go on
            gone = stopped + window + 10             # the last cooldown
            onset = (30, 30 + window + 1)            # the ratio crosses within the first window of failures
            # Another provider, if any, answers all along: where the calls go once they are routed away.
            q = next((x for x in service.providers if x.name != p.name), None)
            yield Scenario(
                f"{ALERT} keeps firing while {p.name}'s deployments stay cooled down after its calls stop, until the "
                "cooldowns end",
                streams=(Stream(p.name, model, (healthy, replace(down, minutes=failing), Phase(gone - stopped + 20))),
                         *((Stream(q.name, q.models[0] if q.models else "default",
                                   (Phase(gone + 20, ok=per_min, latency=1),)),) if q else ())),
                series=(cooldown_series(service, p.name, [(35, 0), (gone - 35, 1), (20, 0)]),),
                checks=(Check(stopped - 1, ALERT, (expect(alert, ok / per_min, provider=p.name),), lasts=False,
                              onset=onset),
                        Check(stopped + window + 3, ALERT, (expect(alert, 0, provider=p.name),), lasts=False,
                              onset=onset),
                        Check(gone + window - 1, ALERT, (expect(alert, 0, provider=p.name),), lasts=False,
                              onset=onset),
                        Check(gone + window + 1, ALERT)),
            )
            yield Scenario(
                f"{ALERT} stays silent when {p.name}'s deployments are cooled down (rate limits) but its calls succeed",
                streams=(Stream(p.name, model, (Phase(40, ok=per_min),)),),
                series=(cooldown_series(service, p.name, [(10, 0), (20, 1), (10, 0)]),),
                checks=(Check(15, ALERT), Check(25, ALERT)),
            )
        probed = next((q for q in service.providers if q.probe_target), None)
        if probed:
            m = probed.models[0] if probed.models else "default"
            yield Scenario(
                f"{ALERT} fires when the synthetic probe of {probed.name} fails, even without traffic",
                streams=(Stream(probed.name, m, (Phase(60),)),),
                series=(probe_series(service, probed.name, [(30, 1), (30, 0)]),),
                checks=(Check(29, ALERT), Check(30 + int(cfg["for"] // 60) + 2, ALERT,
                                                 (expect(alert, 0, provider=probed.name),))),
            )


def cooldowns_name(cfg: Config) -> str:
    """Deployments cooled down per second, per provider, over the signal's window."""
    return c.record("service_provider", "ai_deployment_cooldowns", f"rate{c.window(cfg['window'])}")


SIGNAL = ProviderDown()
