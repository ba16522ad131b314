"""What a signal says about one of its alerts, for the runbook: plain data, no rendering.

Signals return a `RunbookContent` from `Signal.runbook`; the runbook renderer adds everything that is the
same for every alert (escalation, receivers, dashboards, kubectl, changelog). Text is Markdown: inline
code in backticks, links as `[text](target)`. In a branch's action, `step:<key>` names another step by
its key and is rendered as its number, so adding or moving steps never breaks a reference.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Query:
    """A diagnostic PromQL query with a one-line title."""

    title: str
    expr: str


@dataclass(frozen=True)
class Step:
    """One node of a decision tree: check this (with this query or command); if this, do that."""

    check: str
    query: str | None = None
    command: str | None = None
    branches: tuple[tuple[str, str], ...] = ()   # (if ..., then ...)
    key: str = ""                                # what `step:<key>` in other steps' actions refers to


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


@dataclass(frozen=True)
class Threshold:
    """One row of a runbook's threshold table: a spec field, its value and what it means."""

    field: str                 # e.g. spec.signals.latency.page_at
    value: object              # as the model holds it (seconds, ratios, factors), None when not set
    unit: str                  # duration | ratio | factor | points | seconds | "" (a plain value)
    meaning: str               # Markdown oncallgen wrote (schema descriptions)
