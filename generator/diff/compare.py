"""Two states in, what changed in alerting behaviour out: alerts, thresholds, routing, inhibitions, runbooks.

Pure: the states are read elsewhere; the report is written elsewhere.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .state import AlertRule, Delivery, State

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class FieldChange:
    """One property of a rule, before and after: `threshold`, `expression`, `for`, `label severity`, ..."""

    what: str
    before: str
    after: str


@dataclass(frozen=True)
class RuleChanges:
    """The changes of one or more rules of an alert that changed alike (say, both tiers of a page)."""

    wheres: tuple[str, ...]                 # tiers, as AlertRule.where says them
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class AlertChange:
    """An alert of a service (all its tiers) that was added, removed or changed."""

    service: str
    alertname: str
    kind: str                               # added | removed | changed
    rules: tuple[RuleChanges, ...] = ()     # changed: what changed, by tier
    tiers: tuple[str, ...] = ()             # added or removed: its tiers


@dataclass(frozen=True)
class RouteChange:
    """Where one alert in one tier is delivered, before and after; for a tier that is new (kind added) or gone
    (removed), where its pages now go or no longer go."""

    service: str
    alertname: str
    where: str
    before: tuple[Delivery, ...]
    after: tuple[Delivery, ...]
    kind: str = CHANGED                     # changed | added (no rule before) | removed (no rule after)


@dataclass(frozen=True)
class ReceiverChange:
    """A receiver added, removed, or with settings changed (a channel, a key file, a URL)."""

    name: str
    kind: str
    settings: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class PackagedChange:
    """A packaged object (a PrometheusRule, an AlertmanagerConfig, a Mimir namespace) added, removed, or moved to
    another namespace or tenant, or with labels changed: what decides whether anything loads or routes it."""

    name: str
    kind: str
    settings: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class RecordingChange:
    record: str
    kind: str
    before: str
    after: str


@dataclass(frozen=True)
class RunbookChange:
    page: str
    kind: str
    sections: tuple[str, ...] = ()          # changed: the sections whose text changed, appeared or went


@dataclass(frozen=True)
class Changes:
    alerts: tuple[AlertChange, ...]
    routes: tuple[RouteChange, ...]
    inhibitions_added: tuple[dict, ...]
    inhibitions_removed: tuple[dict, ...]
    recordings: tuple[RecordingChange, ...]
    runbooks: tuple[RunbookChange, ...]
    receivers: tuple[ReceiverChange, ...] = ()
    packaged: tuple[PackagedChange, ...] = ()

    @property
    def behaviour_changed(self) -> bool:
        """Whether anything that decides what fires or who is notified changed (runbook text alone does not)."""
        return bool(self.alerts or self.routes or self.inhibitions_added or self.inhibitions_removed
                    or self.recordings or self.receivers or self.packaged)


# ---- expressions: a threshold is a number on the right of a comparison ------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NUMBER = re.compile(r"(?<![\w.:])(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])")
_COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)\s*(bool\s+)?$")
_LE_MATCHER = re.compile(r"\ble\s*=~\s*$")
_LE_BOUND = re.compile(r'^"(\d+(?:\\\\\.\d+)?)(?:\(\\\\\.0\*\)\?|0\*)"$')


def _skeleton(expr: str) -> tuple[str, list[tuple[str, bool]]]:
    """The expression with its numbers taken out (outside strings), and each number with whether it is compared to."""
    numbers: list[tuple[str, bool]] = []
    parts, last = [], 0
    for m in _STRING.finditer(expr):
        parts.append((expr[last:m.start()], True))
        parts.append((m.group(), False))
        last = m.end()
    parts.append((expr[last:], True))
    out = []
    for i, (text, code) in enumerate(parts):
        bucket = _LE_BOUND.match(text) if not code and i and _LE_MATCHER.search(parts[i - 1][0]) else None
        if bucket:
            # A histogram bucket boundary (`le=~"10(\\.0*)?"`): the threshold of a "p95 above" alert.
            numbers.append((bucket.group(1).replace("\\\\.", "."), True))
            out.append("\0")
            continue
        if code:
            def take(m: re.Match, text: str = text) -> str:
                numbers.append((m.group(1), bool(_COMPARISON.search(text[:m.start()]))))
                return "\0"
            text = _NUMBER.sub(take, text)
        out.append(text)
    return "".join(out), numbers


def expression_change(before: str, after: str) -> FieldChange | None:
    """How an expression changed: only numbers (a `threshold` when each is compared to), or the expression."""
    if before == after:
        return None
    skel_b, nums_b = _skeleton(before)
    skel_a, nums_a = _skeleton(after)
    if skel_b == skel_a and len(nums_b) == len(nums_a):
        pairs = [(b, a) for b, a in zip(nums_b, nums_a) if b[0] != a[0]]
        if pairs and all(float(b[0]) != float(a[0]) for b, a in pairs):
            what = "threshold" if all(b[1] for b, _ in pairs) else "number"
            return FieldChange(what, ", ".join(b[0] for b, _ in pairs), ", ".join(a[0] for _, a in pairs))
    return FieldChange("expression", before, after)


def rule_changes(before: AlertRule, after: AlertRule) -> tuple[FieldChange, ...]:
    """What changed in one alerting rule."""
    out = []
    expr = expression_change(before.expr, after.expr)
    if expr:
        out.append(expr)
    if before.for_ != after.for_:
        out.append(FieldChange("for", before.for_, after.for_))
    for kind, b, a in (("label", before.labels, after.labels), ("annotation", before.annotations, after.annotations)):
        for key in sorted(set(b) | set(a)):
            if b.get(key) != a.get(key):
                out.append(FieldChange(f"{kind} {key}", b.get(key, ""), a.get(key, "")))
    return tuple(out)


def _by_alert(state: State) -> dict[tuple[str, str], dict[tuple, AlertRule]]:
    out: dict[tuple[str, str], dict[tuple, AlertRule]] = {}
    for key, rule in state.alerts.items():
        out.setdefault((rule.service, rule.alertname), {})[key] = rule
    return out


def _alerts(before: State, after: State) -> list[AlertChange]:
    old, new = _by_alert(before), _by_alert(after)
    out = []
    for service, alertname in sorted(set(old) | set(new)):
        b, a = old.get((service, alertname), {}), new.get((service, alertname), {})
        if not b or not a:
            rules = a or b
            out.append(AlertChange(service, alertname, ADDED if a else REMOVED,
                                   tiers=tuple(r.where for r in rules.values())))
            continue
        # Each change once, with every tier it applies to: a threshold shared by both tiers of a page is one row.
        tiers_of: dict[FieldChange, list[str]] = {}
        for key in list(b) + [k for k in a if k not in b]:
            if key not in a:
                changes: tuple[FieldChange, ...] = (FieldChange("rule", "present", "removed"),)
            elif key not in b:
                changes = (FieldChange("rule", "absent", "added"),)
            else:
                changes = rule_changes(b[key], a[key])
            for change in changes:
                tiers_of.setdefault(change, []).append((a.get(key) or b[key]).where)
        grouped: dict[tuple[str, ...], list[FieldChange]] = {}
        for change, wheres in tiers_of.items():
            grouped.setdefault(tuple(wheres), []).append(change)
        if grouped:
            out.append(AlertChange(service, alertname, CHANGED,
                                   rules=tuple(RuleChanges(w, tuple(ch)) for w, ch in grouped.items())))
    return out


def _routes(before: State, after: State) -> list[RouteChange]:
    if not (before.has_routing or after.has_routing):
        return []
    out = []
    # A tier that appears or goes (a team gains a secondary, a signal starts paging) is a routing change too: the
    # reviewer must see whose pager the new tier reaches, or whose stops getting its pages.
    for key in sorted(set(before.alerts) | set(after.alerts), key=lambda k: json.dumps(k)):
        b, a = before.routes.get(key, ()), after.routes.get(key, ())
        kind = ADDED if key not in before.alerts else REMOVED if key not in after.alerts else CHANGED
        if b != a or kind != CHANGED:
            rule = after.alerts.get(key) or before.alerts[key]
            out.append(RouteChange(rule.service, rule.alertname, rule.where, b, a, kind))
    return out


def _recordings(before: State, after: State) -> list[RecordingChange]:
    out = []
    for key in sorted(set(before.recordings) | set(after.recordings)):
        b, a = before.recordings.get(key), after.recordings.get(key)
        if b != a:
            kind = ADDED if b is None else REMOVED if a is None else CHANGED
            labels = ", ".join(f'{k}="{v}"' for k, v in key[1] if k not in ("service", "team"))
            name = key[0] + (f"{{{labels}}}" if labels else "") + (f" ({dict(key[1]).get('service')})"
                                                                   if dict(key[1]).get("service") else "")
            out.append(RecordingChange(name, kind, b or "", a or ""))
    return out


def _receivers(before: State, after: State) -> list[ReceiverChange]:
    out = []
    for name in sorted(set(before.receivers) | set(after.receivers)):
        b, a = before.receivers.get(name), after.receivers.get(name)
        if b is None or a is None:
            out.append(ReceiverChange(name, ADDED if b is None else REMOVED))
        elif b != a:
            keys = list(b) + [k for k in a if k not in b]
            out.append(ReceiverChange(name, CHANGED, tuple(FieldChange(k, b.get(k, ""), a.get(k, ""))
                                                           for k in keys if b.get(k) != a.get(k))))
    return out


def _packaged(before: State, after: State) -> list[PackagedChange]:
    out = []
    for name in sorted(set(before.packaged) | set(after.packaged)):
        b, a = before.packaged.get(name), after.packaged.get(name)
        if b is None or a is None:
            out.append(PackagedChange(name, ADDED if b is None else REMOVED))
        elif b != a:
            keys = list(b) + [k for k in a if k not in b]
            out.append(PackagedChange(name, CHANGED, tuple(FieldChange(k, b.get(k, ""), a.get(k, ""))
                                                           for k in keys if b.get(k) != a.get(k))))
    return out


def _runbooks(before: State, after: State) -> list[RunbookChange]:
    out = []
    for page in sorted(set(before.runbooks) | set(after.runbooks)):
        b, a = before.runbooks.get(page), after.runbooks.get(page)
        if b is None or a is None:
            out.append(RunbookChange(page, ADDED if b is None else REMOVED))
        elif b != a:
            titles = list(b) + [t for t in a if t not in b]
            out.append(RunbookChange(page, CHANGED, tuple(t for t in titles if b.get(t) != a.get(t))))
    return out


def compare(before: State, after: State) -> Changes:
    """Everything that differs between two states, in a stable order (service, alert, tier)."""
    return Changes(
        alerts=tuple(_alerts(before, after)),
        routes=tuple(_routes(before, after)),
        inhibitions_added=tuple(after.inhibitions[k] for k in sorted(set(after.inhibitions) - set(before.inhibitions))),
        inhibitions_removed=tuple(before.inhibitions[k] for k in sorted(set(before.inhibitions) - set(after.inhibitions))),
        recordings=tuple(_recordings(before, after)),
        runbooks=tuple(_runbooks(before, after)),
        receivers=tuple(_receivers(before, after)),
        packaged=tuple(_packaged(before, after)),
    )
