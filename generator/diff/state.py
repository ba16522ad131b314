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

import re2

from .. import conventions as c
from ..spec.errors import Location, SpecError
from ..spec.loader import Document, format_path, parse
from ..spec.validate import check_schema

RULES = re.compile(rf"{c.RULES_DIR}/[^/]+\.rules\.yml")
ALERTMANAGER = "alertmanager/alertmanager.yml"
RUNBOOK = re.compile(r"runbooks/.+\.md")
# Packaged objects of the targets: where each lands decides whether anything loads or routes it.
KUBERNETES = re.compile(r"kubernetes/[^/]+/[^/]+\.yaml")
MIMIR_NAMESPACE = re.compile(r"mimir/([^/]+)/(?!alertmanager\.yaml$)[^/]+\.yaml")
# A Thanos rule file, flat or in a shard's folder: `<owner>.<group>.thanos.yml`, read by its path alone.
THANOS_RULES = re.compile(rf"{c.THANOS_DIR}/(?:shard-([0-9]+)/)?([^/.]+)\.[^/]+{re.escape(c.THANOS_RULE_SUFFIX)}")
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


# ---- routing: Alertmanager's tree walk, for static labels -------------------------------------------------

# Alertmanager's regexes are Go's: RE2, which never backtracks. Python's engine would read some differently and
# take exponential time on others (`(a+)+b`), so a base's regexes are compiled by RE2 itself.
_RE2 = re2.Options()
_RE2.log_errors = False
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*')


@dataclass(frozen=True)
class Matcher:
    """One matcher of a route: `severity="critical"`, `service=~"a|b"` (its regex anchored, as Alertmanager does)."""

    name: str
    op: str
    value: str
    regex: Any = None

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether `labels` satisfy it (a missing label is the empty string)."""
        have = labels.get(self.name, "")
        if self.op == "=":
            return have == self.value
        if self.op == "!=":
            return have != self.value
        found = self.regex.fullmatch(have) is not None
        return found if self.op == "=~" else not found


def matcher(name: str, op: str, value: str, where: Location, field: str) -> Matcher:
    """A matcher, its regex compiled by RE2; a regex RE2 refuses is a StateError at `where`."""
    if op not in ("=~", "!~"):
        return Matcher(name, op, value)
    try:
        re2.compile(value, _RE2)  # alone first, so a refusal quotes the regex as written
        return Matcher(name, op, value, re2.compile(f"^(?:{value})$", _RE2))
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise StateError(f"{where}: {field}: a regex Alertmanager's engine (RE2) refuses: {reason}") from None


def parse_matcher(text: str, where: Location, field: str) -> Matcher:
    """`severity="critical"` -> its Matcher, as Alertmanager's `matchers` strings are written."""
    m = _MATCHER.fullmatch(text)
    if not m:
        raise StateError(f"{where}: {field}: cannot read the matcher {text!r}")
    value = re.sub(r"\\(.)", r"\1", m.group(3)) if m.group(3) is not None else m.group(4)
    return matcher(m.group(1), m.group(2), value, where, field)


@dataclass(frozen=True)
class Route:
    """A node of the routing tree with its matchers read."""

    matchers: tuple[Matcher, ...]
    receiver: str | None
    active: tuple[str, ...] | None
    cont: bool
    routes: tuple["Route", ...]


def read_route(doc: Document, node: dict, path: tuple = ("route",)) -> Route:
    """The routing tree at `path` of an Alertmanager configuration (its shape already checked)."""
    def at(*rest) -> tuple[Location, str]:
        return doc.locate(path + rest), format_path(path + rest)

    found = [parse_matcher(text, *at("matchers", i)) for i, text in enumerate(node.get("matchers") or [])]
    found += [matcher(str(k), "=", str(v), *at("match", k)) for k, v in (node.get("match") or {}).items()]
    found += [matcher(str(k), "=~", str(v), *at("match_re", k)) for k, v in (node.get("match_re") or {}).items()]
    children = tuple(read_route(doc, child or {}, path + ("routes", i))
                     for i, child in enumerate(node.get("routes") or []))
    active = node.get("active_time_intervals")
    return Route(tuple(found), node.get("receiver"), tuple(active) if active is not None else None,
                 bool(node.get("continue", False)), children)


def route(node: Route, labels: dict[str, str], receiver: str = "", active: tuple[str, ...] = ()) -> list[Delivery]:
    """The receivers a (matching) route node sends `labels` to: its matching children in order, stopping at the
    first without `continue`, or the node itself when no child matches."""
    receiver = node.receiver if node.receiver is not None else receiver
    active = node.active if node.active is not None else active
    found: list[Delivery] = []
    for child in node.routes:
        if all(m.matches(labels) for m in child.matchers):
            found += route(child, labels, receiver, active)
            if not child.cont:
                break
    return found or [Delivery(receiver, active)]


# ---- the shapes read from a tree (a base may hold anything: each file is checked before it is read) ----------

_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_LABELS = {"type": ["object", "null"], "additionalProperties": _SCALAR}
_STRINGS = {"type": ["array", "null"], "items": {"type": "string"}}
_RULE = {"type": "object", "required": ["expr"],
         "properties": {"record": {"type": "string"}, "alert": {"type": "string"}, "expr": _SCALAR,
                        "for": _SCALAR, "labels": _LABELS, "annotations": _LABELS}}
RULE_FILE = {"type": ["object", "null"], "properties": {"groups": {"type": ["array", "null"], "items": {
    "type": "object", "properties": {"rules": {"type": ["array", "null"], "items": _RULE}}}}}}
_ROUTE = {"type": ["object", "null"], "properties": {
    "receiver": {"type": "string"}, "matchers": _STRINGS, "match": _LABELS, "match_re": _LABELS,
    "continue": {"type": "boolean"}, "active_time_intervals": _STRINGS,
    "routes": {"type": ["array", "null"], "items": {"$ref": "#/$defs/route"}}}}
ALERTMANAGER_FILE = {"type": ["object", "null"], "$defs": {"route": _ROUTE}, "properties": {
    "route": {"$ref": "#/$defs/route"},
    "inhibit_rules": {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "source_matchers": _STRINGS, "target_matchers": _STRINGS, "equal": _STRINGS}}},
    "receivers": {"type": ["array", "null"], "items": {"type": "object", "properties": {"name": _SCALAR}}}}}
KUBERNETES_FILE = {"type": ["object", "null"], "properties": {"kind": _SCALAR, "metadata": {
    "type": ["object", "null"], "properties": {"name": _SCALAR, "namespace": _SCALAR, "labels": _LABELS}}}}
MIMIR_FILE = {"type": ["object", "null"], "properties": {"namespace": _SCALAR}}
MAX_ITEMS = 1_000_000  # a generated tree's lists (routes, rules) grow with the fleet; depth and size stay bounded


def _document(text: str, shape: dict, name: str) -> Document:
    """The one YAML document of a tree's file, its shape checked (SpecError at the first problem)."""
    docs = parse(name, text.encode("utf-8"), MAX_ITEMS)
    if len(docs) > 1:
        raise SpecError(docs[1].locate(()), "", "more than one YAML document: oncallgen writes one per file")
    doc = docs[0] if docs else Document(name, 0, None)
    check_schema(doc, shape)
    return doc


# ---- reading a tree ------------------------------------------------------------------------------------------

def _alerts_and_recordings(state: State, doc: Document) -> None:
    for g, group in enumerate((doc.data or {}).get("groups") or []):
        for r, rule in enumerate(group.get("rules") or []):
            labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
            if "record" in rule:
                state.recordings[(rule["record"], tuple(sorted(labels.items())))] = str(rule["expr"])
                continue
            if "alert" not in rule:
                path = ("groups", g, "rules", r)
                raise StateError(f"{doc.locate(path)}: {format_path(path)}: a rule with neither record nor alert")
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


def read_state(files: dict[str, str], where: str = "") -> State:
    """The state the files of an output folder (path relative to it -> text) describe. Messages name a file as
    `where` + its path (the base folder, or `REF:folder/`). Raises SpecError or StateError at the first file
    that is not what oncallgen writes: wrong YAML, wrong shape, a matcher Alertmanager would refuse."""
    state = State()
    for path in sorted(files):
        name = f"{where}{path}"
        if RULES.fullmatch(path):
            _alerts_and_recordings(state, _document(files[path], RULE_FILE, name))
        elif RUNBOOK.fullmatch(path):
            state.runbooks[path] = _runbook_sections(files[path])
        elif KUBERNETES.fullmatch(path):
            doc = _document(files[path], KUBERNETES_FILE, name).data or {}
            meta = doc.get("metadata") or {}
            state.packaged[f"{doc.get('kind')} {meta.get('name')}"] = {
                "namespace": str(meta.get("namespace")),
                **{f"label {k}": str(v) for k, v in sorted((meta.get("labels") or {}).items())}}
        elif (m := MIMIR_NAMESPACE.fullmatch(path)) is not None:
            namespace = (_document(files[path], MIMIR_FILE, name).data or {}).get("namespace")
            # the shared namespace is in every tenant: one object per tenant
            key = f"Mimir namespace {namespace}" + (f" ({m.group(1)})" if namespace == c.GENERATOR else "")
            state.packaged[key] = {"tenant": m.group(1)}
        elif (m := THANOS_RULES.fullmatch(path)) is not None:
            # the shard of the ruler that loads an owner's files ("" unsplit); two would be a base someone edited
            found = state.packaged.setdefault(f"Thanos rule files {m.group(2)}", {"shard": ""})
            found["shard"] = ",".join(sorted({*found["shard"].split(","), m.group(1) or ""} - {""}, key=int))
    if ALERTMANAGER in files:
        doc = _document(files[ALERTMANAGER], ALERTMANAGER_FILE, f"{where}{ALERTMANAGER}")
        config = doc.data or {}
        state.has_routing = True
        root = read_route(doc, config.get("route") or {})
        for key, alert in state.alerts.items():
            state.routes[key] = tuple(route(root, {"alertname": alert.alertname, **alert.labels}))
        for rule in config.get("inhibit_rules") or []:
            state.inhibitions[_canonical(rule)] = rule
        for receiver in config.get("receivers") or []:
            settings = dict(receiver)
            state.receivers[str(settings.pop("name", ""))] = _flatten(settings)
    return state
