"""The promtool scenario of slo: what it records over its window."""
from __future__ import annotations

from ... import conventions as c
from ...rules import ExprCheck, Phase, Scenario, Stream
from ...sli import own
from ..base import first_model
from .rules import SLOAccounting


def _scenario(self: SLOAccounting, service, seconds: float):
    p, model = first_model(service)
    # 2% of calls fail, half of them on the provider: availability 98%, provider share 1%.
    stream = Stream(p.name, model, (Phase(180, ok=980, errors=20, provider_errors=10),))
    objective = service.slo.availability
    # Where every failure counts against the provider, the provider's share is all of them.
    share = 0.02 if service.source.provider_errors.selector == service.source.errors.selector else 0.01
    lab = (("service", service.name), ("team", service.team))

    def sample(name, value):
        # Rounded on both sides: promtool 2.42 compares sample values exactly.
        return ExprCheck(175, f"round({own(name, service)} * 10000) / 10000",
                         ((tuple(sorted(lab)), round(value * 10000) / 10000),))

    return Scenario(
        "SLO accounting: 2% failed calls, half of them the provider's",
        streams=(stream,),
        exprs=(sample(c.availability(seconds), 0.98),
               sample(c.provider_errors_ratio(seconds), share),
               sample(c.error_budget_remaining(seconds), 1 - 0.02 / (1 - objective)),
               sample(c.error_budget_burned_by_provider(seconds), share / (1 - objective))),
        evaluation_interval=300,
    )


def scenarios(self: SLOAccounting, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its one scenario: the recorded availability and budget over the SLO window."""
    return (_scenario(self, service, service.slo.window),)
