"""Decision trees proved against the scenarios that fire their page.

A branch that says when it applies in PromQL (`Branch.holds`) is evaluated by promtool in the same unit tests that
prove the alert: at every minute a scenario expects the alert to fire, no branch that dismisses the page
("it recovered") may hold, and when every branch of the first step says when it applies, one that does not dismiss
must hold, so the on-call is always sent somewhere. Pure: scenarios in, scenarios out.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from .rules import ExprCheck, Output
from .content.runbook import RunbookContent


def taken(expr: str) -> str:
    """PromQL returning one sample `{} 1` when `expr` returns any series, and nothing otherwise."""
    return f"clamp_max(count({expr}), 1)"


def checks_for(content: RunbookContent, minute: float) -> tuple[ExprCheck, ...]:
    """What must hold of `content`'s tree at `minute`, while its alert fires."""
    out = [ExprCheck(minute, taken(b.holds), ())
           for step in content.steps for b in step.branches if b.dismisses and b.holds]
    first = content.steps[0].branches if content.steps else ()
    if first and all(b.holds for b in first):
        ways = " or ".join(f"({b.holds})" for b in first if not b.dismisses)
        out.append(ExprCheck(minute, taken(ways), (((), 1.0),)))
    return tuple(out)


def prove_branches(out: Output, content: Mapping[str, RunbookContent | None]) -> Output:
    """`out` with its scenarios checking, at every minute an alert is expected firing, its tree's branches."""
    proved = {name: c for name, c in content.items() if c and any(b.holds for s in c.steps for b in s.branches)}
    if not proved:
        return out
    scenarios = []
    for s in out.scenarios:
        minutes = sorted({(ch.minute, ch.alertname) for ch in s.checks if ch.alerts and ch.alertname in proved})
        extra = tuple(e for minute, name in minutes for e in checks_for(proved[name], minute))
        scenarios.append(replace(s, exprs=s.exprs + extra) if extra else s)
    return replace(out, scenarios=tuple(scenarios))

