"""One compiled state, read from the files of an output folder: alert and recording rules, where each alert is
routed, the inhibitions, and the runbook pages by section.

It reads files rather than the plan because one side of a diff is an output folder at a git ref, where only
files exist; reading both sides the same way keeps the comparison honest. It reads the plain layout every
run writes (`rules/*.rules.yml`, `alertmanager/alertmanager.yml`, `runbooks/**/*.md`), whatever the targets.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .. import conventions as c

RULES = re.compile(rf"{c.RULES_DIR}/[^/]+\.rules\.yml")
ALERTMANAGER = "alertmanager/alertmanager.yml"
RUNBOOK = re.compile(r"runbooks/.+\.md")
# Packaged objects of the targets: where each lands decides whether anything loads or routes it.
KUBERNETES = re.compile(r"kubernetes/[^/]+/[^/]+\.yaml")
MIMIR_NAMESPACE = re.compile(r"mimir/([^/]+)/(?!alertmanager\.yaml$)[^/]+\.yaml")
# Labels that say what an alert is (its identity) are all but these, which say how it behaves.
BEHAVIOUR_LABELS = frozenset({c.SERVICE, c.TEAM, c.SIGNAL, c.SEVERITY, c.ESCALATION, c.REMEDIATION})
PRIMARY = "primary"


class StateError(Exception):
    """A file of a state cannot be read (the CLI names it in one line)."""


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule: an alert of a service, in one tier (and variant, such as a `reason`)."""

    service: str
    alertname: str
    tier: str                                   # "primary", or the escalation label's value
    variant: tuple[tuple[str, str], ...]        # identity labels besides service, alertname and tier
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]

    @property
    def key(self) -> tuple:
        return (self.service, self.alertname, self.tier, self.variant)

    @property
    def where(self) -> str:
        """The tier, and the variant when there is one: `primary`, `secondary (reason=results_missing)`."""
        extra = ", ".join(f"{k}={v}" for k, v in self.variant)
        return f"{self.tier} ({extra})" if extra else self.tier


@dataclass(frozen=True)
class Delivery:
    """A receiver an alert reaches, and the time intervals in which the route is active (empty: always)."""

    receiver: str
    active: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.receiver + (f" (during {', '.join(self.active)})" if self.active else "")


@dataclass
class State:
    """Everything a diff compares."""

    alerts: dict[tuple, AlertRule] = field(default_factory=dict)
    recordings: dict[tuple, str] = field(default_factory=dict)       # (record, labels) -> expr
    routes: dict[tuple, tuple[Delivery, ...]] = field(default_factory=dict)  # alert key -> receivers
    inhibitions: dict[str, dict] = field(default_factory=dict)      # canonical text -> rule
    receivers: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> setting path -> value
    runbooks: dict[str, dict[str, str]] = field(default_factory=dict)  # page -> section title -> text
    packaged: dict[str, dict[str, str]] = field(default_factory=dict)  # object -> namespace, tenant, labels
    has_routing: bool = False


def _yaml(path: str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise StateError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None


# ---- routing: Alertmanager's tree walk, for static labels -------------------------------------------------

_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*')


def parse_matcher(text: str) -> tuple[str, str, str]:
    """`severity="critical"` -> (name, operator, value), as Alertmanager's `matchers` strings are written."""
    m = _MATCHER.fullmatch(text)
    if not m:
        raise StateError(f"{ALERTMANAGER}: cannot read the matcher {text!r}")
    value = re.sub(r"\\(.)", r"\1", m.group(3)) if m.group(3) is not None else m.group(4)
    return m.group(1), m.group(2), value


def matches(matcher: tuple[str, str, str], labels: dict[str, str]) -> bool:
    """Whether `labels` satisfy one matcher (a missing label is the empty string; regexes are anchored)."""
    name, op, value = matcher
    have = labels.get(name, "")
    if op == "=":
        return have == value
    if op == "!=":
        return have != value
    found = re.fullmatch(value, have) is not None
    return found if op == "=~" else not found


def _route_matchers(route: dict) -> list[tuple[str, str, str]]:
    out = [parse_matcher(m) for m in route.get("matchers", [])]
    out += [(k, "=", str(v)) for k, v in (route.get("match") or {}).items()]
    out += [(k, "=~", str(v)) for k, v in (route.get("match_re") or {}).items()]
    return out


def route(node: dict, labels: dict[str, str], receiver: str = "", active: tuple[str, ...] = ()) -> list[Delivery]:
    """The receivers a (matching) route node sends `labels` to: its matching children in order, stopping at the
    first without `continue`, or the node itself when no child matches."""
    receiver = node.get("receiver", receiver)
    active = tuple(node.get("active_time_intervals", active))
    found: list[Delivery] = []
    for child in node.get("routes") or []:
        if all(matches(m, labels) for m in _route_matchers(child)):
            found += route(child, labels, receiver, active)
            if not child.get("continue", False):
                break
    return found or [Delivery(receiver, active)]


# ---- reading a tree ------------------------------------------------------------------------------------------

def _alerts_and_recordings(state: State, path: str, text: str) -> None:
    data = _yaml(path, text) or {}
    for group in data.get("groups") or []:
        for rule in group.get("rules") or []:
            labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
            if "record" in rule:
                state.recordings[(rule["record"], tuple(sorted(labels.items())))] = str(rule["expr"])
                continue
            variant = tuple(sorted((k, v) for k, v in labels.items() if k not in BEHAVIOUR_LABELS))
            alert = AlertRule(labels.get(c.SERVICE, ""), rule["alert"], labels.get(c.ESCALATION, PRIMARY), variant,
                              str(rule["expr"]), str(rule.get("for", "0s")), labels,
                              {str(k): str(v) for k, v in (rule.get("annotations") or {}).items()})
            key = alert.key
            n = 2
            while key in state.alerts:  # two rules that look alike: tell them apart by order
                key = alert.key + (n,)
                n += 1
            state.alerts[key] = alert


def _runbook_sections(text: str) -> dict[str, str]:
    """A page's `## ` sections by title; what precedes the first is the page's head (title, summary)."""
    sections: dict[str, list[str]] = {"(top of the page)": []}
    current = "(top of the page)"
    for line in text.splitlines()[1:]:  # the first line is the generated-by comment
        if line.startswith("## "):
            current = line[3:].strip()
            sections.setdefault(current, [])
        else:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items()}


def _flatten(value: Any, path: str = "") -> dict[str, str]:
    """`{"slack_configs": [{"channel": "#x"}]}` -> `{"slack_configs[0].channel": "#x"}`."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{path}[{i}]"))
        return out
    return {path: json.dumps(value) if not isinstance(value, str) else value}


def _canonical(rule: dict) -> str:
    return json.dumps({k: sorted(rule.get(k) or []) for k in ("source_matchers", "target_matchers", "equal")},
                      sort_keys=True)


def read_state(files: dict[str, str]) -> State:
    """The state the files of an output folder (path relative to it -> text) describe."""
    state = State()
    for path in sorted(files):
        if RULES.fullmatch(path):
            _alerts_and_recordings(state, path, files[path])
        elif RUNBOOK.fullmatch(path):
            state.runbooks[path] = _runbook_sections(files[path])
        elif KUBERNETES.fullmatch(path):
            doc = _yaml(path, files[path]) or {}
            meta = doc.get("metadata") or {}
            state.packaged[f"{doc.get('kind')} {meta.get('name')}"] = {
                "namespace": str(meta.get("namespace")),
                **{f"label {k}": str(v) for k, v in sorted((meta.get("labels") or {}).items())}}
        elif (m := MIMIR_NAMESPACE.fullmatch(path)) is not None:
            name = (_yaml(path, files[path]) or {}).get("namespace")
            # the shared namespace is in every tenant: one object per tenant
            key = f"Mimir namespace {name}" + (f" ({m.group(1)})" if name == c.GENERATOR else "")
            state.packaged[key] = {"tenant": m.group(1)}
    if ALERTMANAGER in files:
        config = _yaml(ALERTMANAGER, files[ALERTMANAGER]) or {}
        state.has_routing = True
        root = config.get("route") or {}
        for key, alert in state.alerts.items():
            state.routes[key] = tuple(route(root, {"alertname": alert.alertname, **alert.labels}))
        for rule in config.get("inhibit_rules") or []:
            state.inhibitions[_canonical(rule)] = rule
        for receiver in config.get("receivers") or []:
            settings = dict(receiver)
            state.receivers[str(settings.pop("name", ""))] = _flatten(settings)
    return state
