"""Specs in, model out: load -> schema -> defaults and units -> model -> cross-field checks.

`load_services` is the only entry point; every problem with the input surfaces as a SpecError.
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from ..presets import PRESETS
from .errors import FieldError, Location, SpecError
from .loader import Document, discover, format_path, load_file
from .model import SLO, Price, Provider, Runbooks, Service, freeze
from .schema import shared_schema
from .validate import check_schema, normalize




def _field_error(doc: Document, exc: FieldError) -> SpecError:
    return SpecError(doc.locate(exc.path), format_path(exc.path), exc.message)


def _build(doc: Document) -> Service:
    schema = shared_schema()
    check_schema(doc, schema)
    try:
        data = normalize(doc.data, schema, schema)
        meta, spec = data["metadata"], data["spec"]
        name = meta["name"]
        metrics = spec["metrics"]
        source = PRESETS[metrics["preset"]].source(name, metrics)
    except FieldError as exc:
        raise _field_error(doc, exc) from None
    providers = tuple(
        Provider(p["name"], p["role"], p.get("label_value") or p["name"], tuple(p["models"]),
                 p.get("probe_target"), p.get("status_page"), p.get("sla"))
        for p in spec["providers"]
    )
    slo = spec["slo"]
    prices = tuple(Price(model, float(p["input"]), float(p["output"])) for model, p in sorted(spec["pricing"].items()))
    rb = spec["runbooks"]
    return Service(
        name=name,
        team=meta["team"],
        description=meta.get("description", ""),
        location=doc.locate(("metadata", "name")),
        providers=providers,
        slo=SLO(slo.get("latency_p95"), slo["availability"], slo["window"]),
        source=source,
        prices=prices,
        signals=freeze(spec["signals"]),
        runbooks=Runbooks(rb["base_url"], rb.get("dashboard_url"), rb["prometheus_url"]),
        positions=MappingProxyType(dict(doc.positions)),
    )


def _check_service(service: Service) -> None:
    """Checks the schema cannot express, for one service."""
    from ..signals import SIGNALS

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
    for name, signal in SIGNALS.items():
        cfg = service.signals[name]
        if not signal.active(service, cfg):
            continue
        try:
            signal.check(service, cfg)
        except FieldError as exc:
            fail(("spec", "signals", name) + exc.path, exc.message)


def load_services(paths: list[Path]) -> list[Service]:
    """Every service in the spec files under `paths`, validated; sorted by name."""
    services: dict[str, Service] = {}
    for path in discover(paths):
        for doc in load_file(path):
            service = _build(doc)
            if service.name in services:
                first = services[service.name].location
                raise SpecError(service.location, "metadata.name",
                                f'service "{service.name}" is already defined at {first}')
            _check_service(service)
            services[service.name] = service
    if not services:
        raise SpecError(Location(", ".join(str(p) for p in paths) or "."), "", "no specs found")
    return [services[n] for n in sorted(services)]
