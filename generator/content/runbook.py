"""What a signal says about one of its alerts, for the runbook: plain data, no rendering.

Signals return a `RunbookContent` from `Signal.runbook`; the runbook renderer adds everything that is the
same for every alert (escalation, receivers, dashboards, kubectl, changelog). Text is Markdown: inline
code in backticks, links as `[text](target)`. In a branch's action, `step:<key>` names another step by
its key and is rendered as its number, so adding or moving steps never breaks a reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Query:
    """A diagnostic PromQL query with a one-line title."""

    title: str
    expr: str


@dataclass(frozen=True)
class Branch:
    """If `when`, then `then`. `holds`: PromQL that returns a series exactly when this is the branch to take, so
    the generated tests can check, at every minute a scenario's page fires, that the tree sends the on-call the
    right way. `dismisses`: the branch leads away from the page (recovered, false alarm): it must never hold while
    the page fires."""

    when: str
    then: str
    holds: str | None = None
    dismisses: bool = False


@dataclass(frozen=True)
class Step:
    """One node of a decision tree: check this (with this query or command); if this, do that."""

    check: str
    query: str | None = None
    command: str | None = None
    branches: tuple[Branch | tuple[str, str], ...] = ()   # Branch, or a plain (if ..., then ...) pair
    key: str = ""                                # what `step:<key>` in other steps' actions refers to

    def __post_init__(self) -> None:
        object.__setattr__(self, "branches", tuple(b if isinstance(b, Branch) else Branch(*b) for b in self.branches))

    @property
    def targets(self) -> tuple[str, ...]:
        """The keys of the steps its branches lead to (`step:<key>` in their actions)."""
        return tuple(k for b in self.branches for k in STEP_REF.findall(b.then))


STEP_REF = re.compile(r"step:([a-z_]+)")  # a reference to another step by its key


@dataclass(frozen=True)
class Remediation:
    """A remediation alert: what the automation does, how to see it worked and undo it, when it pages."""

    did: str
    verify: Step
    rollback: tuple[str, ...]
    pages: str | None          # the alert that pages when the remediation is not enough; None: it never pages


@dataclass(frozen=True)
class RunbookContent:
    """The signal-specific part of an alert's runbook."""

    meaning: str
    impact: str
    steps: tuple[Step, ...]
    mitigation: tuple[str, ...] = ()
    queries: tuple[Query, ...] = ()
    remediation: Remediation | None = None
    provider_outage: bool = False   # add provider status pages, customer communication, SLO and SLA credit
    history: str = ""               # how much history its baseline needs before it can fire (young data never pages)
    # Compile's, not the signal's: seconds after a provider outage ends during which the alert is held back (its
    # windows still hold the outage); 0: it is not held back.
    outage_quiet: float = 0


@dataclass(frozen=True)
class Threshold:
    """One row of a runbook's threshold table: a spec field, its value and what it means."""

    field: str                 # e.g. spec.signals.latency.page_at
    value: object              # as the model holds it (seconds, ratios, factors), None when not set
    unit: str                  # duration | ratio | factor | points | seconds | "" (a plain value)
    meaning: str               # Markdown oncallgen wrote (schema descriptions)
