"""OnCallTeam and AlertRouting documents in, `Team` and `Routing` out: receivers with secrets by file only, no
templates where Alertmanager would evaluate them, and what Alertmanager itself would reject."""
from __future__ import annotations

import re
from datetime import date
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..promql import PromQLError, parse_matchers
from .documents import kind_schema
from .errors import FieldError, SpecError
from .loader import Document, field_error, format_path
from .model import (WEEKDAYS, BusinessHours, Escalation, Pipeline, Receiver, Rotation, Routing, Team, Timers,
                    freeze)
from .oncall_schema import INLINE_SECRETS
from .validate import check_schema, check_values, normalize


def _reject_inline_secrets(doc: Document, node: object, path: tuple = ()) -> None:
    """Secrets only by file reference: an inline key, token or password is an error wherever it appears."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in INLINE_SECRETS:
                raise SpecError(doc.locate(path + (key,)), format_path(path + (key,)),
                                f"inline secrets are not allowed: use {INLINE_SECRETS[key]}, a file the "
                                "Alertmanager pod mounts")
            _reject_inline_secrets(doc, value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _reject_inline_secrets(doc, value, path + (i,))


def _timers(cfg: dict) -> Timers:
    return Timers(cfg["group_wait"], cfg["group_interval"], cfg["repeat_interval"])


def _receivers(cfg: dict) -> tuple[Receiver, ...]:
    return tuple(Receiver(name, freeze(integrations)) for name, integrations in sorted(cfg.items()))


def _reject_templates(doc: Document, node: object, path: tuple = ()) -> None:
    """Alertmanager evaluates its fields as Go templates: a spec value holding `{{` would run as one there,
    and a line break would split an email header. Both are refused, in every value Alertmanager reads."""
    if isinstance(node, dict):
        for key, value in node.items():
            _reject_templates(doc, value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _reject_templates(doc, value, path + (i,))
    elif isinstance(node, str):
        problem = ("holds {{, which Alertmanager would evaluate as a template" if "{{" in node else
                   "holds a line break or control character" if re.search(r"[\x00-\x1f\x7f]", node) else None)
        if problem:
            raise SpecError(doc.locate(path), format_path(path), f"the value {problem}")


def _validated(doc: Document, kind: str) -> dict:
    """An on-call document checked in order (inline secrets, schema, values, templates) and with its defaults."""
    schema = kind_schema(kind)
    _reject_inline_secrets(doc, doc.data)
    check_schema(doc, schema)
    check_values(doc, schema)
    _reject_templates(doc, doc.data)
    try:
        return normalize(doc.data, schema, schema)
    except FieldError as exc:
        raise field_error(doc, exc) from None


def build_team(doc: Document) -> Team:
    """The model of one OnCallTeam document; raises SpecError at the offending line."""
    data = _validated(doc, "OnCallTeam")
    spec, routes = data["spec"], data["spec"]["routes"]
    esc = spec["escalation"]
    bh = spec.get("business_hours")
    team = Team(
        name=data["metadata"]["name"],
        location=doc.locate(("metadata", "name")),
        receivers=_receivers(spec["receivers"]),
        primary=routes["primary"], secondary=routes.get("secondary"), ticket=routes["ticket"],
        info=routes.get("info") or routes["ticket"],
        remediation=freeze(routes["remediation"]),
        escalation=Escalation(esc["mode"], esc["secondary_after"], esc["senior_after"], esc["incident_after"],
                              esc.get("senior_contact"), esc.get("executive_contact"), esc.get("incident_channel")),
        business_hours=BusinessHours(bh["location"], tuple(bh["weekdays"]), bh["start"], bh["end"]) if bh else None,
        page_timers=_timers(spec["page_timers"]), ticket_timers=_timers(spec["ticket_timers"]),
        info_timers=_timers(spec["info_timers"]), remediation_timers=_timers(spec["remediation_timers"]),
        rotation=_rotation(doc, spec.get("rotation"), bh["location"] if bh else "UTC"),
        positions=MappingProxyType(dict(doc.positions)),
    )
    names = {r.name for r in team.receivers}
    roles = [("primary", team.primary), ("secondary", team.secondary), ("ticket", team.ticket),
             ("info", routes.get("info"))] + [(("remediation", a), r) for a, r in team.remediation.items()]
    for role, receiver in roles:
        path = ("spec", "routes") + (role if isinstance(role, tuple) else (role,))
        if receiver is not None and receiver not in names:
            known = ", ".join(sorted(names)) or "none"
            raise SpecError(doc.locate(path), format_path(path),
                            f'unknown receiver "{receiver}" (receivers of this team: {known})')
    _check_team_details(doc, team)
    if team.escalation.tiers and team.secondary is None:
        raise SpecError(doc.locate(("spec", "routes")), "spec.routes.secondary",
                        "a secondary receiver is needed unless spec.escalation.mode is paging_tool")
    if team.escalation.secondary_after <= 0 and team.escalation.tiers:
        raise SpecError(doc.locate(("spec", "escalation", "secondary_after")), "spec.escalation.secondary_after",
                        "expected a delay above 0s: the secondary is paged after the primary")
    return team


_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


def _rotation(doc: Document, cfg: dict | None, default_location: str) -> Rotation | None:
    """The team's rotation, its dates and time zone checked at their lines."""
    if cfg is None:
        return None

    def fail(key: str, message: str) -> None:
        path = ("spec", "rotation", key)
        raise SpecError(doc.locate(path), format_path(path), message)

    location = cfg.get("location") or default_location
    try:
        ZoneInfo(location)
    except (ZoneInfoNotFoundError, ValueError):
        fail("location", f'unknown time zone "{location}": expected an IANA name like "Europe/Berlin"')
    try:
        start = date.fromisoformat(cfg["start"])
    except ValueError:
        fail("start", f'"{cfg["start"]}" is no date of the calendar')
    length = cfg["length"]
    if length % 86400 or not 86400 <= length <= 28 * 86400:
        fail("length", "expected whole days, from 1d to 4w: a shift hands off at the same local time")
    days = int(length // 86400)
    if days % 7 == 0 and WEEKDAYS[start.weekday()] != cfg["handoff_weekday"]:
        fail("start", f'{cfg["start"]} is a {WEEKDAYS[start.weekday()]}, and shifts of whole weeks hand off on '
                      f'{cfg["handoff_weekday"]} (spec.rotation.handoff_weekday)')
    if cfg["secondary"] and not cfg["primary"]:
        fail("secondary", "name the primary people too: the secondary backs up a primary")
    return Rotation(location, start, cfg["handoff_time"], days, tuple(cfg["primary"]), tuple(cfg["secondary"]))


def _check_team_details(doc: Document, team: Team) -> None:
    """What Alertmanager itself would reject, or what would quietly break remediation."""
    def fail(path: tuple, message: str) -> None:
        raise SpecError(doc.locate(path), format_path(path), message)

    bh = team.business_hours
    if bh is not None:
        try:
            ZoneInfo(bh.location)
        except (ZoneInfoNotFoundError, ValueError):
            fail(("spec", "business_hours", "location"), f'unknown time zone "{bh.location}" (expected an IANA name '
                                                         'like "Europe/Berlin")')
        for i, day in enumerate(bh.weekdays):
            if not re.fullmatch(rf"{_WEEKDAY}(:{_WEEKDAY})?", day):
                fail(("spec", "business_hours", "weekdays", i), f'expected a weekday or range like "monday:friday", '
                                                                f'got "{day}"')
        if bh.start >= bh.end:
            fail(("spec", "business_hours", "end"), f'expected an end after the start ({bh.start}), got "{bh.end}"')
    for kind in ("page_timers", "ticket_timers", "info_timers", "remediation_timers"):
        timers = getattr(team, kind)
        if timers.repeat_interval < timers.group_interval:
            fail(("spec", kind, "repeat_interval"), "expected at least group_interval: Alertmanager repeats only at "
                                                    "group_interval ticks")
    receivers = {r.name: r for r in team.receivers}
    for action, name in team.remediation.items():
        hook = receivers[name].integrations.get("webhook") if name in receivers else None
        if hook is None:
            fail(("spec", "routes", "remediation", action), f'receiver "{name}" needs a webhook: automation listens there')
        elif not hook["send_resolved"]:
            fail(("spec", "receivers", name, "webhook", "send_resolved"),
                 "a remediation webhook must get resolved notifications too (send_resolved: true), or automation "
                 "never undoes what it did")


def build_routing(doc: Document) -> Routing:
    """The model of the AlertRouting document; raises SpecError at the offending line."""
    data = _validated(doc, "AlertRouting")
    spec = data["spec"]
    names = set(spec["receivers"])
    pipe = spec["pipeline"]
    for path, name in ((("spec", "fallback"), spec["fallback"]), (("spec", "heartbeat"), spec["heartbeat"]),
                       (("spec", "pipeline", "receiver"), pipe.get("receiver", spec["fallback"]))):
        if name not in names:
            raise SpecError(doc.locate(path), format_path(path),
                            f'unknown receiver "{name}" (receivers: {", ".join(sorted(names)) or "none"})')
    matchers = {}
    for key in ("alertmanager_selector", "prometheus_selector"):
        try:
            matchers[key] = parse_matchers(pipe[key])
        except PromQLError as exc:
            path = ("spec", "pipeline", key)
            raise SpecError(doc.locate(path), format_path(path), str(exc)) from None
    pipeline = Pipeline(pipe.get("receiver", spec["fallback"]), pipe.get("team"),
                        matchers["alertmanager_selector"], matchers["prometheus_selector"],
                        doc.locate(("spec", "pipeline", "team")) if "team" in pipe else None)
    return Routing(data["metadata"]["name"], doc.locate(("metadata", "name")), _receivers(spec["receivers"]),
                   spec["fallback"], spec["heartbeat"], spec["resolve_timeout"], pipeline,
                   MappingProxyType(dict(doc.positions)))
