"""Specs in, model out: load -> schema -> defaults and units -> model -> cross-field checks.

`load_services` is the only entry point; every problem with the input surfaces as a SpecError.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
from types import MappingProxyType

from .. import conventions as c
from ..presets import PRESETS
from ..signals import SIGNALS
from ..promql import PromQLError, check_expression, parse_matchers
from .errors import FieldError, Location, SpecError
from .loader import Document, discover, format_path, load_file
from .model import (SLO, BusinessHours, ChangelogEntry, Escalation, Kubernetes, NoteStep, Price,
                    Pipeline, Provider, Receiver, Routing, RunbookNotes, Runbooks, Service, Specs, Team, Timers, freeze)
from .oncall_schema import INLINE_SECRETS
from .documents import KINDS, kind_schema
from .units import format_duration
from .validate import check_schema, check_values, did_you_mean, normalize

RATE_WINDOW_SCRAPES = 2     # a rate window shorter than two scrapes can hold fewer than the two samples rate() needs
SLI_RATE_WINDOW = 300.0     # the SLI group's alerting window (sli.WINDOWS[0])




def _field_error(doc: Document, exc: FieldError) -> SpecError:
    return SpecError(doc.locate(exc.path), format_path(exc.path), exc.message)


def _kind_of(doc: Document) -> str:
    if not isinstance(doc.data, dict):
        raise SpecError(doc.locate(()), "", "expected a mapping with apiVersion, kind, metadata and spec")
    kind = doc.data.get("kind")
    if kind not in KINDS:
        options = ", ".join(f'"{k}"' for k in KINDS)
        shown = f'"{kind}"' if isinstance(kind, str) else ("nothing" if kind is None else str(kind))
        hint = did_you_mean(kind, KINDS) if isinstance(kind, str) else ""
        raise SpecError(doc.locate(("kind",)), "kind", f"expected one of {options}, got {shown}{hint}")
    return kind


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


def _build(doc: Document) -> Service:
    schema = kind_schema("AIService")
    check_schema(doc, schema)
    check_values(doc, schema)
    try:
        data = normalize(doc.data, schema, schema)
        meta, spec = data["metadata"], data["spec"]
        name = meta["name"]
        metrics = spec["metrics"]
        source = PRESETS[metrics["preset"]].source(name, metrics)
    except FieldError as exc:
        raise _field_error(doc, exc) from None
    providers = []
    for p in spec["providers"]:
        given = p.get("label_value") or p["name"]
        values = tuple(given) if isinstance(given, list) else (given,)
        providers.append(Provider(p["name"], p["role"], values[0], tuple(p["models"]), p.get("probe_target"),
                                  p.get("status_page"), p.get("sla"), values))
    providers = tuple(providers)
    slo = spec["slo"]
    prices = tuple(Price(model, float(p["input"]), float(p["output"])) for model, p in sorted(spec["pricing"].items()))
    rb = spec["runbooks"]
    service = Service(
        name=name,
        team=meta["team"],
        description=meta.get("description", ""),
        location=doc.locate(("metadata", "name")),
        providers=providers,
        slo=SLO(slo.get("latency_p95"), slo["availability"], slo["window"], slo.get("first_token_p95")),
        source=source,
        prices=prices,
        signals=freeze(spec["signals"]),
        runbooks=_runbooks(doc, rb, name, meta["team"]),
        positions=MappingProxyType(dict(doc.positions)),
        scrape_interval=metrics["scrape_interval"],
    )
    return replace(service, active_signals=tuple(name for name, signal in SIGNALS.items()
                                                 if signal.active(service, service.signals[name])))


def _runbooks(doc: Document, rb: dict, service: str, team: str) -> Runbooks:
    """spec.runbooks: kubectl targets defaulted from the names, notes' queries parsed, changelog dates checked."""
    kube = rb["kubernetes"]
    notes = {}
    for alert, entry in sorted(rb["notes"].items()):
        steps = []
        for i, step in enumerate(entry["steps"]):
            if isinstance(step, str):
                step = {"check": step}
            if step.get("query") is not None:
                try:
                    check_expression(step["query"])
                except PromQLError as exc:
                    path = ("spec", "runbooks", "notes", alert, "steps", i, "query")
                    raise SpecError(doc.locate(path), format_path(path), str(exc)) from None
            steps.append(NoteStep(step["check"], step.get("query"), step.get("command")))
        notes[alert] = RunbookNotes(tuple(steps), entry["notes"], entry["replace"])
    changelog = []
    for i, entry in enumerate(rb["changelog"]):
        try:
            date.fromisoformat(entry["date"])
        except ValueError:
            path = ("spec", "runbooks", "changelog", i, "date")
            raise SpecError(doc.locate(path), format_path(path), f'expected a real day, got "{entry["date"]}"') from None
        changelog.append(ChangelogEntry(entry["date"], entry["change"], entry.get("postmortem")))
    # Newest first: the last incident is the one a responder most wants to know about.
    changelog.sort(key=lambda e: e.date, reverse=True)
    return Runbooks(rb["base_url"], rb.get("dashboard_url"), rb["prometheus_url"],
                    Kubernetes(kube.get("namespace") or team, kube.get("deployment") or service),
                    MappingProxyType(notes), tuple(changelog))


def _check_service(service: Service) -> None:
    """Checks the schema cannot express, for one service."""

    def fail(path: tuple, message: str) -> None:
        raise SpecError(service.locate(path), format_path(path), message)

    seen: dict[str, int] = {}
    for i, p in enumerate(service.providers):
        if p.name in seen:
            fail(("spec", "providers", i, "name"), f'provider "{p.name}" is listed twice')
        seen[p.name] = i
    roles = [p.role for p in service.providers]
    for role in ("primary", "secondary"):
        if roles.count(role) > 1:
            fail(("spec", "providers", roles.index(role, roles.index(role) + 1), "role"), f"only one provider can be {role}")
    if "secondary" in roles and "primary" not in roles:
        fail(("spec", "providers", roles.index("secondary"), "role"), "a secondary provider needs a primary provider")
    if service.slo.window <= 0:
        fail(("spec", "slo", "window"), "expected a window longer than 0s")
    if service.slo.availability >= 1:
        fail(("spec", "slo", "availability"), "expected an objective below 100% (a 100% objective leaves no error budget)")
    for i, p in enumerate(service.providers):
        if p.probe_target and service.source.probe is None:
            fail(("spec", "providers", i, "probe_target"), "needs spec.metrics.probe (the probe_success selector)")
    scrape = service.scrape_interval
    if SLI_RATE_WINDOW < RATE_WINDOW_SCRAPES * scrape:
        fail(("spec", "metrics", "scrape_interval"), f"expected at most {format_duration(SLI_RATE_WINDOW / 2)}: the "
                                                     f"SLI series use {format_duration(SLI_RATE_WINDOW)} rate windows, "
                                                     f"which must span {RATE_WINDOW_SCRAPES} scrapes")
    for name in service.active_signals:
        signal, cfg = SIGNALS[name], service.signals[name]
        for key, prop in signal.schema.items():
            if prop.get("x-rate-window") and cfg[key] < RATE_WINDOW_SCRAPES * scrape:
                fail(("spec", "signals", name, key),
                     f"expected a rate window of at least {format_duration(RATE_WINDOW_SCRAPES * scrape)} "
                     f"({RATE_WINDOW_SCRAPES}x spec.metrics.scrape_interval {format_duration(scrape)}): a rate "
                     "needs two samples")
        try:
            signal.check(service, cfg)
        except FieldError as exc:
            fail(("spec", "signals", name) + exc.path, exc.message)


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


def _build_team(doc: Document) -> Team:
    schema = kind_schema("OnCallTeam")
    _reject_inline_secrets(doc, doc.data)
    check_schema(doc, schema)
    check_values(doc, schema)
    _reject_templates(doc, doc.data)
    try:
        data = normalize(doc.data, schema, schema)
    except FieldError as exc:
        raise _field_error(doc, exc) from None
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


def _build_routing(doc: Document) -> Routing:
    schema = kind_schema("AlertRouting")
    _reject_inline_secrets(doc, doc.data)
    check_schema(doc, schema)
    check_values(doc, schema)
    _reject_templates(doc, doc.data)
    try:
        data = normalize(doc.data, schema, schema)
    except FieldError as exc:
        raise _field_error(doc, exc) from None
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
                   spec["fallback"], spec["heartbeat"], spec["resolve_timeout"], pipeline)


def _check_teams(services: list[Service], teams: dict[str, Team], routing: Routing | None) -> None:
    """Every service's team has on-call routing, and every remediation it uses has an endpoint."""

    if not teams and routing is None:
        return  # rules only: no Alertmanager configuration is generated
    if routing is None:
        first = min(teams.values(), key=lambda t: (t.location.file, t.location.line))
        raise SpecError(first.location, "", "routing needs one AlertRouting spec (the root and heartbeat receivers)")
    owner = routing.pipeline.team
    if owner is not None and owner not in teams:
        raise SpecError(routing.pipeline.team_location, "spec.pipeline.team",
                        f'no OnCallTeam spec for team "{owner}" (teams: {", ".join(sorted(teams)) or "none"})')
    for service in services:
        team = teams.get(service.team)
        if team is None:
            raise SpecError(service.locate(("metadata", "team")), "metadata.team",
                            f'no OnCallTeam spec for team "{service.team}"')
        for name, signal in SIGNALS.items():
            action = getattr(signal, "remediation", None)
            if action and name in service.active_signals and action not in team.remediation:
                raise SpecError(service.locate(("spec", "signals", name)), f"spec.signals.{name}",
                                f'remediation "{action}" has no endpoint: add spec.routes.remediation.{action} to '
                                f'OnCallTeam "{team.name}" ({team.location}), or set enabled: false')


def load_specs(paths: list[Path]) -> Specs:
    """Every spec under `paths`, validated: services sorted by name, teams by name, the routing root."""
    services: dict[str, Service] = {}
    teams: dict[str, Team] = {}
    routing: Routing | None = None
    for path, root in discover(paths):
        for doc in load_file(path, root):
            kind = _kind_of(doc)
            if kind == "AIService":
                service = _build(doc)
                if service.name == c.GENERATOR:
                    raise SpecError(service.location, "metadata.name",
                                    f'"{c.GENERATOR}" is reserved: its rule files hold the rules of no service')
                if service.name in services:
                    first = services[service.name].location
                    raise SpecError(service.location, "metadata.name",
                                    f'service "{service.name}" is already defined at {first}')
                _check_service(service)
                services[service.name] = service
            elif kind == "OnCallTeam":
                team = _build_team(doc)
                if team.name in teams:
                    raise SpecError(team.location, "metadata.name",
                                    f'team "{team.name}" is already defined at {teams[team.name].location}')
                teams[team.name] = team
            else:
                new = _build_routing(doc)
                if routing is not None:
                    raise SpecError(new.location, "metadata.name", f"only one AlertRouting spec is allowed; "
                                                                   f"another is at {routing.location}")
                routing = new
    if not services:
        raise SpecError(Location(", ".join(str(p) for p in paths) or "."), "", "no AIService specs found")
    ordered = [services[n] for n in sorted(services)]
    _check_teams(ordered, teams, routing)
    return Specs(tuple(ordered), MappingProxyType(dict(sorted(teams.items()))), routing)


def load_services(paths: list[Path]) -> list[Service]:
    """Only the services of the specs under `paths`."""
    return list(load_specs(paths).services)
