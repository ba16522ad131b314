"""The compiled forms: recording rules, alert rules, groups, and promtool test scenarios.

Signals build these; renderers turn them into YAML. Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping

from . import conventions as c


@dataclass(frozen=True)
class Recording:
    """A recording rule."""

    record: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Alert:
    """An alerting rule with the labels and annotations every consumer expects."""

    alert: str
    expr: str
    for_seconds: float
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    @cached_property
    def label_map(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.labels))

    @cached_property
    def annotation_map(self) -> Mapping[str, str]:
        return MappingProxyType(dict(self.annotations))

    @property
    def severity(self) -> str:
        return self.label_map[c.SEVERITY]

    @property
    def signal(self) -> str:
        return self.label_map[c.SIGNAL]


Rule = Recording | Alert


@dataclass(frozen=True)
class Group:
    """A Prometheus rule group; `key` names the file it lands in (one per signal and service)."""

    name: str
    key: str
    rules: tuple[Rule, ...]
    interval: float | None = None

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(r for r in self.rules if isinstance(r, Alert))


# ---- promtool unit-test scenarios, in terms independent of the metric source ----

SAMPLE_SECONDS = 60  # input series carry a sample a minute: a rate window needs two, so 2m or more between minutes


@dataclass(frozen=True)
class Phase:
    """A stretch of steady traffic on one provider/model: per-minute counts and a typical latency."""

    minutes: int
    ok: float = 0.0
    errors: float = 0.0          # failed calls, rate-limited and provider failures included
    rate_limited: float = 0.0    # the part of `errors` that were 429s
    provider_errors: float = 0.0 # the part of `errors` charged to the provider (5xx, timeouts)
    latency: float = 0.5         # seconds every call in this phase takes
    slow_share: float = 0.0      # ...except this share of them, which take `slow_latency` seconds
    slow_latency: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    spend_usd: float = 0.0       # USD per minute, for sources with a spend counter


@dataclass(frozen=True)
class Stream:
    """Traffic of one provider and model across consecutive phases."""

    provider: str
    model: str
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class Series:
    """A raw input series in promtool's expanding notation."""

    series: str
    values: str


@dataclass(frozen=True)
class Expected:
    """One alert instance promtool must see: its full labels and rendered annotations."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Check:
    """At `minute`, alert `alertname` is firing with exactly `alerts` (empty: it must be silent)."""

    minute: int
    alertname: str
    alerts: tuple[Expected, ...] = ()
    lasts: bool = True   # the condition still holds long after `minute` (so escalation can be checked later)
    lasts_for: float | None = None  # ...but only this many minutes after `minute` (None: as long as the traffic)
    # When the alerts' values move with time (an age, say): the alerts `n` minutes after `minute`.
    later: Callable[[int], tuple[Expected, ...]] | None = None
    due: bool = False    # `minute` is the first evaluation at which the alert fires (its `for` just passed)
    settled: bool = False  # silent because its condition does not hold, and it stays so (tiers must stay silent too)
    # (earliest, latest) minute at which the condition started holding, when `lasts` is False: the secondary tier is
    # then expected alongside once it is surely due, and the check is left out while it may or may not be.
    onset: tuple[float, float] | None = None


@dataclass(frozen=True)
class ExprCheck:
    """At `minute`, PromQL `expr` returns exactly `samples` (labels, value)."""

    minute: int
    expr: str
    samples: tuple[tuple[tuple[tuple[str, str], ...], float], ...]


@dataclass(frozen=True)
class Scenario:
    """One promtool test: input traffic and other series, and the checks to make."""

    name: str
    checks: tuple[Check, ...] = ()
    streams: tuple[Stream, ...] = ()
    series: tuple[Series, ...] = ()
    eval_series: tuple["EvalRun", ...] = ()
    exprs: tuple[ExprCheck, ...] = ()
    evaluation_interval: float = 60
    latency: bool = False        # feed latency histograms too (only latency checks need them)


@dataclass(frozen=True)
class EvalRun:
    """Eval-suite results as the eval convention reports them, per phase of minutes."""

    suite: str
    model: str
    phases: tuple[tuple[int, int, int, bool], ...]  # (minutes, passed, failed, runs keep arriving)


@dataclass(frozen=True)
class Rules:
    """What one signal's rules are for one service: its rule groups, and the other groups' keys its scenarios need
    loaded."""

    groups: tuple[Group, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """What one signal contributes for one service: rule groups and test scenarios."""

    groups: tuple[Group, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    requires: tuple[str, ...] = field(default=())  # other groups' keys the scenarios need loaded
