"""Specs in, model out: load -> schema -> defaults and units -> model -> cross-field checks.

`load_specs` is the only entry point; every problem with the input surfaces as a SpecError. Each kind of document has
its builder (`services.py`, `oncall.py`); this module dispatches on `kind` and checks what spans documents.
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from .. import conventions as c
from ..signals import SIGNALS
from .documents import KINDS
from .errors import Location, SpecError
from .loader import Document, discover, load_file
from .model import Routing, Service, Specs, Team
from .oncall import build_routing, build_team
from .services import build_service, check_service
from .validate import did_you_mean


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
        # Every missing endpoint at once (several signals ask automation by default), at the first one's signal.
        missing = [(name, signal.remediation) for name, signal in SIGNALS.items()
                   if signal.remediation and name in service.active_signals
                   and signal.remediation not in team.remediation]
        if missing:
            name = missing[0][0]
            why = "; ".join(f"{n}: {SIGNALS[n].auto_when}" for n, _ in missing
                            if service.signals[n].get("enabled") is None)
            raise SpecError(service.locate(("spec", "signals", name)), f"spec.signals.{name}",
                            "remediation " + ", ".join(f'"{a}"' for _, a in missing) + " ha"
                            + ("s" if len(missing) == 1 else "ve") + " no endpoint: add "
                            + ", ".join(f"spec.routes.remediation.{a}" for _, a in missing)
                            + f' to OnCallTeam "{team.name}" ({team.location}), or set enabled: false on '
                            + ", ".join(f"spec.signals.{n}" for n, _ in missing)
                            + (f" (on by default: {why})" if why else ""))


def load_specs(paths: list[Path]) -> Specs:
    """Every spec under `paths`, validated: services sorted by name, teams by name, the routing root."""
    services: dict[str, Service] = {}
    teams: dict[str, Team] = {}
    routing: Routing | None = None
    for path, root in discover(paths):
        for doc in load_file(path, root):
            kind = _kind_of(doc)
            if kind == "AIService":
                service = build_service(doc)
                if service.name == c.GENERATOR:
                    raise SpecError(service.location, "metadata.name",
                                    f'"{c.GENERATOR}" is reserved: its rule files hold the rules of no service')
                if service.name in services:
                    first = services[service.name].location
                    raise SpecError(service.location, "metadata.name",
                                    f'service "{service.name}" is already defined at {first}')
                check_service(service)
                services[service.name] = service
            elif kind == "OnCallTeam":
                team = build_team(doc)
                if team.name in teams:
                    raise SpecError(team.location, "metadata.name",
                                    f'team "{team.name}" is already defined at {teams[team.name].location}')
                teams[team.name] = team
            else:
                new = build_routing(doc)
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
