"""Quiet recoveries: pages and tickets a provider outage explains do not start while their windows still see it.

While a provider is down its page (`AIProviderDown`) mutes the service's latency, error-spike, failover and model
pages in Alertmanager. When it recovers that inhibition lifts at once, but the muted rules still read 5-minute
windows full of the outage: without this, every outage longer than a few minutes ended with a storm of pages saying
failover did not work. So `provider_down` records when an outage of a provider that carries the service's traffic
was last active, and the rules of signals a provider outage explains hold back until it is QUIET_AFTER old.
"""
from __future__ import annotations

from dataclasses import replace

from . import conventions as c
from .rules import Alert, Check, ExprCheck, Output, Phase, Recording, Scenario, Stream
from .sli import WINDOWS, own
from .spec.model import Service

# The widest window the explained rules read (the SLI's 5m) plus a minute for scrape and evaluation lag.
QUIET_AFTER = WINDOWS[0] + 60
RECENT = c.provider_outage_recent(QUIET_AFTER)


def recent_rule(service: Service) -> Recording:
    """1 while an outage of a traffic-carrying provider is active or ended less than QUIET_AFTER ago."""
    providers = "|".join(service.traffic_providers)
    active = f'{c.PROVIDER_OUTAGE_ACTIVE}{{service="{c.escape(service.name)}", provider=~"{c.escape(providers)}"}}'
    return Recording(RECENT, f"max without (provider) (max_over_time({active}[{c.window(QUIET_AFTER)}]))")


def hold_back(service: Service, out: Output, history: float = 0) -> Output:
    """`out` with its pages and tickets silent while an outage of the service's providers is recent.

    `history`: seconds of history the signal's baseline needs before it can page at all; the recovery scenario
    starts after it, so its silence is the hold's doing and not young data's."""
    held = f"unless on (service, team) {own(RECENT, service)}"

    def quiet(rule):
        if isinstance(rule, Alert) and rule.severity in (c.PAGE, c.TICKET):
            return replace(rule, expr=f"({rule.expr}) {held}")
        return rule

    groups = tuple(replace(g, rules=tuple(quiet(r) for r in g.rules)) for g in out.groups)
    held_names = sorted({r.alert for g in groups for r in g.alerts if r.expr.endswith(held)})
    return replace(out, groups=groups, scenarios=out.scenarios + (_recovery(service, held_names, history),))


def _recovery(service: Service, alertnames: list[str], history: float) -> Scenario:
    """A 20-minute outage of the first traffic provider (every call fails, slowly), then a recovery: the held-back
    alerts stay silent during it and in the minutes after, while their 5-minute windows still hold it; the hold
    itself lasts from the outage until QUIET_AFTER after it ends, and then lets go."""
    provider = next(p for p in service.providers if p.name == service.traffic_providers[0])
    model = provider.models[0] if provider.models else "default"
    # Minutes, evaluated every minute; after a day of history every five (the checks fall on multiples of 5).
    step = 5 if history else 1
    start, minutes = int(history // 60) + 60, 20
    end = start + minutes
    calls = 600.0
    stream = Stream(provider.name, model, (
        Phase(start, ok=calls, latency=0.5),
        Phase(minutes, errors=calls, provider_errors=calls, latency=60),
        Phase(30, ok=calls, latency=0.5)))
    others = tuple(Stream(p.name, p.models[0] if p.models else "default", (Phase(end + 30, ok=calls / 10),))
                   for p in service.providers if p.name != provider.name)
    at = (start + 10, end + 5) if step == 5 else (start + 10, end + 1, end + 2, end + 3, end + 5, end + 6)
    held = (((("__name__", RECENT), (c.SERVICE, service.name), (c.TEAM, service.team)), 1.0),)
    # Held while the outage lasts and for QUIET_AFTER after the outage series ends (its own window after the last
    # failing call), and gone well after that.
    gone = end + 20
    return Scenario(
        f"{', '.join(alertnames)} stay silent through an outage of {provider.name} and after it recovers, while "
        "their windows still hold the outage",
        streams=(stream,) + others,
        checks=tuple(Check(m, name) for m in at for name in alertnames),
        exprs=(ExprCheck(start + 10, own(RECENT, service), held), ExprCheck(end + 5, own(RECENT, service), held),
               ExprCheck(gone, own(RECENT, service), ())),
        latency=True,
        evaluation_interval=step * 60,
    )
