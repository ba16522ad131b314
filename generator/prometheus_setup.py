"""What Prometheus needs from its own configuration for the generated rules: one `rule_files` entry, and the flags
under which `for` state (the escalation ladder) survives a restart.

Prometheus restores an alert's pending time after a restart only when its `for` is at least
`--rules.alert.for-grace-period` (10m by default): shorter ones start over. A restored alert with less than the grace
period left is pushed out to the grace period. And nothing is restored after an outage longer than
`--rules.alert.for-outage-tolerance` (1h by default). So the grace period is the shortest `for` of any generated
alert, and the tolerance covers the longest.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import conventions as c
from .rules import Alert
from .spec.units import format_duration

DEFAULT_OUTAGE_TOLERANCE = 3600


@dataclass(frozen=True)
class Flag:
    """A command-line flag, its value and why this value."""

    name: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"--{self.name}={self.value}"


def flags(alerts: list[Alert]) -> tuple[Flag, ...]:
    """The flags the generated alerts need, derived from their `for` durations."""
    waiting = [a for a in alerts if a.for_seconds > 0]
    if not waiting:
        return ()
    shortest = min(waiting, key=lambda a: (a.for_seconds, a.alert))
    longest = max(waiting, key=lambda a: (a.for_seconds, a.alert))
    tolerance = max(DEFAULT_OUTAGE_TOLERANCE, longest.for_seconds)
    tier = f" ({c.ESCALATION}={longest.label_map[c.ESCALATION]})" if c.ESCALATION in longest.label_map else ""
    return (
        Flag("rules.alert.for-grace-period", format_duration(shortest.for_seconds),
             f"the shortest `for` of any generated alert ({shortest.alert}, {format_duration(shortest.for_seconds)}): "
             "every alert's pending time, each escalation tier's included, is restored after a restart, and none is "
             "pushed later than this"),
        Flag("rules.alert.for-outage-tolerance", format_duration(tolerance),
             f"at least the longest `for` ({longest.alert}{tier}, {format_duration(longest.for_seconds)}) and the "
             "default 1h: a ladder that was under way when Prometheus went down resumes when it comes back"),
    )


def config_fragment(rules_from_config: str) -> dict:
    """The part of prometheus.yml that loads every generated rule file, present and future, with one entry."""
    return {"rule_files": [rules_from_config]}
