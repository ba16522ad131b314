"""Escalation tiers, built in Prometheus so they survive Alertmanager reloads.

Alertmanager has no acknowledgement, and a long `group_wait` restarts on every configuration reload. A
rule's `for` state does not (and is restored after a Prometheus restart), so each page gets a second
rule: same alertname and labels plus `escalation="secondary"`, with `for` extended by the team's delay.
Silencing the alert without the tier label ("ack" = silence) silences both tiers.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace

from . import conventions as c
from .rules import Alert, Check, EvalRun, Expected, Output, Series, Stream
from .spec.model import Service
from .spec.units import format_duration

def _suffix(delay: float) -> str:
    return f" Escalated to the secondary on-call: the page has been firing for {format_duration(delay)} more."


def secondary_tier(service: Service, alert: Alert, delay: float) -> Alert:
    """The secondary-tier copy of a paging alert."""
    labels = dict(alert.labels)
    labels[c.ESCALATION] = c.SECONDARY
    ann = dict(alert.annotations)
    ann["description"] = ann["description"] + _suffix(delay)
    ann["runbook_url"] = c.runbook_url(service.runbooks.base_url, service.name, alert.alert,
                                        c.tier_slug(alert.alert))
    return Alert(alert.alert, alert.expr, alert.for_seconds + delay, tuple(sorted(labels.items())),
                 tuple(sorted(ann.items())))


def _extend_stream(stream: Stream, minutes: int) -> Stream:
    last = stream.phases[-1]
    return replace(stream, phases=stream.phases[:-1] + (replace(last, minutes=last.minutes + minutes),))


_LAST_RUN = re.compile(r"x(\d+)$")


def _extend_series(series: Series, minutes: int) -> Series:
    """A series in expanding notation whose last run (`a+bxN` or `axN`) lasts `minutes` more."""
    match = _LAST_RUN.search(series.values)
    if not match:
        return series
    return replace(series, values=series.values[:match.start()] + f"x{int(match.group(1)) + minutes}")


def _extend_eval(run: EvalRun, minutes: int) -> EvalRun:
    m, p, f, fresh = run.phases[-1]
    return replace(run, phases=run.phases[:-1] + ((m + minutes, p, f, fresh),))


def _tier_expected(exp: Expected, delay: float, tier: Alert) -> Expected:
    labels = dict(exp.labels)
    labels[c.ESCALATION] = c.SECONDARY
    ann = dict(exp.annotations)
    ann["description"] = ann["description"] + _suffix(delay)
    ann["runbook_url"] = tier.annotation_map["runbook_url"]
    return Expected(dict(sorted(labels.items())), dict(sorted(ann.items())))


def _evaluations(minutes: float, every: float) -> int:
    """How many evaluations `every` minutes apart a `for` of `minutes` waits (Prometheus fires at the first one that
    has seen the condition hold for at least `minutes`)."""
    return max(0, math.ceil(round(minutes / every, 9)))


def add_tiers(service: Service, out: Output, delay: float) -> Output:
    """`out` with a secondary tier after every page, and scenarios that prove when it fires.

    Each check that sees a page firing now also says the secondary tier is silent at that moment; a new
    check `delay` later sees both tiers. Scenario traffic is extended so the condition still holds then.
    """
    tiers: dict[str, Alert] = {}
    groups = []
    for group in out.groups:
        rules = []
        for rule in group.rules:
            rules.append(rule)
            if isinstance(rule, Alert) and rule.severity == c.PAGE:
                tiers[rule.alert] = secondary_tier(service, rule, delay)
                rules.append(tiers[rule.alert])
        groups.append(replace(group, rules=tuple(rules)))
    if not tiers:
        return out
    step = int(delay // 60)
    scenarios = []
    for s in out.scenarios:
        extra = []
        longest = 0.0
        kept = []
        for ch in s.checks:
            if ch.alerts and ch.onset and not ch.lasts and ch.alertname in tiers:
                tier_for = tiers[ch.alertname].for_seconds / 60
                if ch.minute >= ch.onset[1] + tier_for:
                    ch = replace(ch, alerts=ch.alerts + tuple(_tier_expected(a, delay, tiers[ch.alertname])
                                                              for a in ch.alerts))
                elif ch.minute >= ch.onset[0] + tier_for:
                    continue  # the tier may or may not be due yet
            kept.append(ch)
            if ch.settled and not ch.alerts and ch.alertname in tiers:
                # Still silent once the secondary tier would be due: a tier's threshold is checked from inside too.
                extra.append(Check(ch.minute + step, ch.alertname))
                continue
            if not (ch.alerts and ch.lasts and ch.alertname in tiers):
                continue
            every = s.evaluation_interval / 60
            page_for = tiers[ch.alertname].for_seconds / 60 - delay / 60
            if ch.due:
                # The page fired at its first chance, so the tier is due at its own first chance on the evaluation
                # grid (`delay` later when both durations are whole evaluations): not one evaluation before.
                pending = ch.minute - _evaluations(page_for, every) * every
                after = pending + _evaluations(page_for + delay / 60, every) * every - ch.minute
            else:
                # Firing since `minute` at the latest: the tier is due within `delay` rounded up to evaluations.
                after = _evaluations(delay / 60, every) * every
            if ch.lasts_for is not None and ch.lasts_for < after:
                continue
            if ch.due and after < every:
                # Both durations round up to the same evaluation: the tier fires with the page.
                kept[-1] = replace(ch, alerts=ch.alerts + tuple(_tier_expected(a, delay, tiers[ch.alertname])
                                                                for a in ch.alerts))
                continue
            if ch.due:
                extra.append(Check(ch.minute + after - every, ch.alertname,
                                   ch.later(after - every) if ch.later else ch.alerts))
            now = ch.later(after) if ch.later else ch.alerts
            extra.append(Check(ch.minute + after, ch.alertname,
                               now + tuple(_tier_expected(a, delay, tiers[ch.alertname]) for a in now), due=ch.due))
            longest = max(longest, after)
        if not extra:
            scenarios.append(replace(s, checks=tuple(kept)))
            continue
        grow = int(math.ceil(max(step, longest))) + 5
        scenarios.append(replace(
            s, checks=tuple(kept) + tuple(extra),
            streams=tuple(_extend_stream(st, grow) for st in s.streams),
            series=tuple(_extend_series(x, grow) for x in s.series),
            eval_series=tuple(_extend_eval(r, grow) for r in s.eval_series),
        ))
    return replace(out, groups=tuple(groups), scenarios=tuple(scenarios))

