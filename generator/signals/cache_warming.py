"""Cache warming, automated: after a rollout, or after a provider outage ends, caches are cold.

The alert tells the cache-warming automation to run; it never pages.
"""
from __future__ import annotations

from .. import conventions as c
from ..boundaries import Clause
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..content.runbook import Query, Remediation, RunbookContent, Step
from ..content.links import kubectl, silence
from ..sli import own
from ..spec.errors import FieldError
from ..spec.schema import unit
from ..spec.units import format_number
from ..synth import gauge_series, probe_series
from .base import Config, Signal, alert_link, expect, first_model, make_alert
from .provider_down import NAME as PROVIDER_DOWN, OUTAGE, SIGNAL as PROVIDER_DOWN_SIGNAL

NAME = "cache_warming"
ALERT = c.alert_name("CacheWarmingNeeded")
ACTION = "cache_warming"


class CacheWarming(Signal):
    name = NAME
    alerts = {"ticket": ALERT}
    remediation = ACTION
    description = "Tell automation to warm caches after a rollout or after a provider outage ends."
    auto_when = "on"
    schema = {
        "after_outage": unit("duration", "Warm caches when a provider outage ended within this window.", "15m"),
        "after_rollout": {**unit("duration", "Warm caches when the rollout gauge changed within this window.", "10m"),
                          "x-raw-window": True},
    }

    def check(self, service, cfg):
        if not _outages_watched(service) and service.source.deployment is None:
            raise FieldError(("enabled",), "cache warming needs the provider_down signal or spec.metrics.deployment")

    def build(self, service, cfg: Config) -> Output:
        alerts = []
        scenarios = []
        requires: tuple[str, ...] = ()
        if _outages_watched(service):
            requires = (PROVIDER_DOWN,)
            w = c.window(cfg["after_outage"])
            down = service.signals[PROVIDER_DOWN]
            # Recovered means serving again (or its probe passing), not merely drained by failover.
            rate = own(f"service_provider:ai_requests:rate{c.window(down['window'])}", service)
            serving = f"{rate} > {format_number(down['min_request_rate'])}"
            if any(p.probe_target for p in service.providers):
                serving += f" or {own('service_provider:ai_probe:success', service)} == 1"
            recovered = make_alert(
                service, NAME, ALERT,
                f"(max_over_time({own(OUTAGE, service)}[{w}]) unless {own(OUTAGE, service)})"
                f" and on (service, team, provider) ({serving})", 0,
                c.INFO, remediation=ACTION, extra={"reason": "provider_recovered"},
                summary="Caches need warming.",
                description=f"{{{{ $labels.provider }}}} recovered from an outage within the last {w}; warm the caches of "
                            "{{ $labels.service }}.",
            )
            alerts.append(recovered)
            scenarios += self._after_outage(service, cfg, recovered)
        if service.source.deployment is not None:
            w = c.window(cfg["after_rollout"])
            rolled = make_alert(
                service, NAME, ALERT, f"max(changes({service.source.deployment}[{w}])) > 0", 0,
                c.INFO, remediation=ACTION, extra={"reason": "rollout"},
                summary="Caches need warming.",
                description=f"{service.name} rolled out within the last {w}; warm its caches.",
            )
            alerts.append(rolled)
            scenarios += self._after_rollout(service, cfg, rolled)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(alerts))
        return Output(groups=(group,), scenarios=tuple(scenarios), requires=requires)

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        reasons = []
        if _outages_watched(service):
            reasons.append(f"a provider outage ended within the last {c.window(cfg['after_outage'])} "
                           "(label `reason=\"provider_recovered\"`)")
        if service.source.deployment is not None:
            reasons.append(f"`{service.name}` rolled out within the last {c.window(cfg['after_rollout'])} "
                           "(label `reason=\"rollout\"`)")
        if service.source.latency is not None:
            check = Step("Are calls back to their usual speed? p95 per model (warm caches bring it down).",
                         own("service_model:ai_request_duration_seconds:p95_rate5m", service), key="warm",
                         branches=(("p95 falls back within 15 minutes", "warming worked"),
                                   ("p95 stays high", "warming did not run or did not help: check the remediation "
                                                      "receiver's logs")))
        else:
            check = Step("Are calls succeeding again? Error ratio per provider.",
                         own("service_provider:ai_errors:ratio_rate5m", service), key="warm",
                         branches=(("back to usual", "warming can do its work"),
                                   ("still failing", "the outage is not over: " + alert_link(service, "provider_down", "page"))))
        return RunbookContent(
            meaning=("Caches of `" + service.name + "` need warming: " + "; or ".join(reasons)
                     + ". The alert tells the cache-warming automation to run. It never pages."),
            impact="The first calls after the event are slower and dearer (prompt and retrieval caches are cold).",
            steps=(Step("Why now? The firing alert's `reason` label.",
                        f'ALERTS{{alertname="{ALERT}", {c.SERVICE}="{c.escape(service.name)}", alertstate="firing"}}',
                        branches=(("reason=provider_recovered", "an outage just ended: check traffic is back on that "
                                                                "provider → step:warm"),
                                  ("reason=rollout", f"a rollout just happened: `{k.status()}` → step:warm"))),
                   check),
            remediation=Remediation(
                did=f"Alertmanager sent this alert to the remediation receiver, which warms the caches of `{service.name}`.",
                verify=check,
                rollback=("Warming only adds load; there is nothing to undo.",
                          f"To stop it (say, it overloads a recovering provider): "
                          f"`{silence(ALERT, service.name, '1h', 'skip cache warming: <your name>')}`."),
                pages=None,
            ),
            queries=(Query("Calls per second per provider", own("service_provider:ai_requests:rate5m", service)),),
        )

    def _after_outage(self, service, cfg, alert):
        p, model = first_model(service)
        end = 40
        down = service.signals[PROVIDER_DOWN]
        guard = Clause("calls/s back on the provider", ">", down["min_request_rate"])
        window = int(down["window"] // 60)
        boundary = []
        for rate, fires in ((guard.beyond(), True), (guard.inside(), False)):
            per_min = rate * 60
            # Once the outage's calls have left the rate window, only the recovered traffic counts.
            at = end + window + 2
            boundary.append(Scenario(
                f"{ALERT} {'fires' if fires else 'stays silent'} after an outage of {p.name} when its traffic comes "
                f"back at {guard.text(rate)}",
                streams=(Stream(p.name, model, (Phase(30, ok=100), Phase(10, errors=100, provider_errors=100),
                                                Phase(int(cfg["after_outage"] // 60) + 20, ok=per_min))),),
                checks=(Check(at, ALERT, (expect(alert, 1, provider=p.name),) if fires else ()),),
            ))
        probed = next((q for q in service.providers if q.probe_target), None)
        if probed:
            m = probed.models[0] if probed.models else "default"
            boundary.append(Scenario(
                f"{ALERT} fires when the synthetic probe of {probed.name} recovers, even before traffic returns",
                streams=(Stream(probed.name, m, (Phase(end + 30),)),),
                series=(probe_series(service, probed.name, [(30, 1), (10, 0), (30, 1)]),),
                checks=(Check(end - 2, ALERT), Check(end + 3, ALERT, (expect(alert, 1, provider=probed.name),))),
            ))
        return boundary + [Scenario(
            f"{ALERT} fires after an outage of {p.name} ends, and not while it lasts or long after",
            streams=(Stream(p.name, model, (Phase(30, ok=100), Phase(10, errors=100, provider_errors=100),
                                            Phase(int(cfg["after_outage"] // 60) + 20, ok=100))),),
            checks=(Check(25, ALERT), Check(38, ALERT), Check(end + 5, ALERT, (expect(alert, 1, provider=p.name),)),
                    Check(end + int(cfg["after_outage"] // 60) + 10, ALERT)),
        ), Scenario(
            f"{ALERT} stays silent when {p.name} is only drained (failover took its traffic), not recovered",
            streams=(Stream(p.name, model, (Phase(30, ok=100), Phase(10, errors=100, provider_errors=100),
                                            Phase(int(cfg["after_outage"] // 60) + 20))),),
            checks=(Check(end + 5, ALERT), Check(end + 10, ALERT)),
        )]

    def _after_rollout(self, service, cfg, alert):
        w = int(cfg["after_rollout"] // 60)
        return [Scenario(
            f"{ALERT} fires after a rollout and stops {w}m later",
            series=(gauge_series(service.source.deployment, [(30, 1), (w + 20, 2)]),),
            checks=(Check(25, ALERT), Check(32, ALERT, (expect(alert, 1),)), Check(30 + w + 5, ALERT)),
        )]


def _outages_watched(service) -> bool:
    return PROVIDER_DOWN_SIGNAL.active(service, service.signals[PROVIDER_DOWN])


SIGNAL = CacheWarming()
