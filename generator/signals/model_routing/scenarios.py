"""The promtool scenarios of model_routing: its alerts' cases."""
from __future__ import annotations

from ... import boundaries, outage
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, Phase, Scenario, Stream
from ...spec.units import format_number
from .. import p95
from ..base import alerts_in, error_ceiling, expect, first_model
from .rules import ALERT, ModelRouting


def probes(self: ModelRouting, service, cfg, alert) -> list[Probe]:
    """Its thresholds: a model's error ratio, or its p95, above the spec's; its calls/s above the guard."""
    p, model = first_model(service)
    guard = Clause("calls/s of the model", ">", cfg["min_request_rate"])

    minutes = int(cfg["for"] // 60) + 30

    def per_minute(guard_value: float | None) -> float:
        return guard_value * 60 if guard_value is not None else 600.0

    others = [m for m in service.models if m != model] or ["other-model"]
    ceiling = error_ceiling(service) * 0.9

    def failing(ratio: float, guard_value: float | None) -> Traffic:
        per_min = per_minute(guard_value)
        # Fast calls (no latency clause), and a healthy model beside it on the provider where the model's errors
        # alone would be a provider outage (whose page mutes this ticket): the model is degraded, not its provider.
        phase = Phase(minutes, ok=per_min * (1 - ratio), errors=per_min * ratio, latency=0.0)
        streams = [Stream(p.name, model, (phase,))]
        if ratio >= ceiling:
            streams.append(Stream(p.name, others[0], (Phase(minutes, ok=per_min * (ratio / ceiling - 1) * 1.5,
                                                            latency=0.0),)))
        return Traffic(boundaries.filling_onset(300, guard_value, cfg["min_request_rate"]), streams=tuple(streams),
                       value=ratio)

    expected = lambda t: (expect(alert, t.value, model=model),)  # noqa: E731
    out = [Probe(alert, Clause("error ratio of the model", ">", cfg["error_ratio_above"]), cfg["for"], failing,
                 expected, guard=guard)]
    bound = self.slow(service, cfg)
    if bound is not None:
        b = bound.boundary
        clause = Clause(f"share of the model's calls slower than {format_number(b)}s", ">", p95.SLOW_SHARE)

        def slow(share: float, guard_value: float | None) -> Traffic:
            phase = Phase(minutes, ok=per_minute(guard_value), latency=b / 2, slow_share=share, slow_latency=b * 1.1)
            return Traffic(boundaries.filling_onset(300, guard_value, cfg["min_request_rate"]),
                           streams=(Stream(p.name, model, (phase,)),), latency=True, value=share)

        out.append(Probe(alert, clause, cfg["for"], slow, expected, guard=guard))
    return out

def _scenarios(self: ModelRouting, service, cfg, alert):
    for probe in probes(self, service, cfg, alert):
        yield from boundaries.scenarios(probe)
    p = service.providers[0]
    models = list(service.models) or ["default"]
    good = models[0]
    bad_model = models[1] if len(models) > 1 else "other-model"
    bad_provider = next((q.name for q in service.providers if bad_model in q.models), p.name)
    bad = 100 * min(0.6, cfg["error_ratio_above"] * 2.5)
    at = 30 + 5 + int(cfg["for"] // 60) + 2
    yield Scenario(
        f"{ALERT} fires for {bad_model} alone when it fails {bad:g}% of calls",
        streams=(Stream(p.name, good, (Phase(at + 5, ok=100),)),
                 Stream(bad_provider, bad_model, (Phase(30, ok=100), Phase(at - 30 + 5, ok=100 - bad, errors=bad)))),
        checks=(Check(25, ALERT), Check(at, ALERT, (expect(alert, bad / 100, model=bad_model),))),
    )
    yield Scenario(
        f"{ALERT} stays silent on one failed request among thousands",
        streams=(Stream(p.name, good, (Phase(30, ok=1000), Phase(1, ok=999, errors=1), Phase(20, ok=1000))),),
        checks=(Check(31, ALERT), Check(40, ALERT)),
    )


def scenarios(self: ModelRouting, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[ALERT]))
