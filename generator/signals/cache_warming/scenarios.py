"""The promtool scenarios of cache_warming: its alerts' cases."""
from __future__ import annotations

from ...boundaries import Clause
from ...rules import Check, Phase, Scenario, Stream
from ...synth import gauge_series, probe_series
from ..base import expect, first_model
from ..provider_down.rules import NAME as PROVIDER_DOWN
from .rules import ALERT, CacheWarming


def _after_outage(self: CacheWarming, service, cfg, alert):
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

def _after_rollout(self: CacheWarming, service, cfg, alert):
    w = int(cfg["after_rollout"] // 60)
    return [Scenario(
        f"{ALERT} fires after a rollout and stops {w}m later",
        series=(gauge_series(service.source.deployment, [(30, 1), (w + 20, 2)]),),
        checks=(Check(25, ALERT), Check(32, ALERT, (expect(alert, 1),)), Check(30 + w + 5, ALERT)),
    )]


def scenarios(self: CacheWarming, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups: both alerts share a name, told apart by their
    reason."""
    by_reason = {a.label_map["reason"]: a for g in groups for a in g.alerts}
    out: list[Scenario] = []
    if "provider_recovered" in by_reason:
        out += _after_outage(self, service, cfg, by_reason["provider_recovered"])
    if "rollout" in by_reason:
        out += _after_rollout(self, service, cfg, by_reason["rollout"])
    return tuple(out)
