"""AIService documents in, the frozen `Service` model out: schema, defaults and units, the metric source, which
signals are active, and the checks the schema cannot express."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import MappingProxyType

from .. import conventions as c
from ..presets import PRESETS
from ..promql import PromQLError, check_expression
from ..signals import SIGNALS
from . import objects
from .documents import kind_schema
from .errors import FieldError, SpecError
from .loader import Document, field_error, format_path
from .model import SLO, ChangelogEntry, Deploy, Kubernetes, NoteStep, Price, Provider, RunbookNotes, Runbooks, Service, freeze
from .units import format_duration
from .validate import check_schema, check_values, normalize

RATE_WINDOW_SCRAPES = 2     # a rate window shorter than two scrapes can hold fewer than the two samples rate() needs
RAW_WINDOW_MAX = 3600.0     # a window over raw series (x-raw-window): every evaluation reads all its samples
SLI_RATE_WINDOW = 300.0     # the SLI group's alerting window (sli.WINDOWS[0])


def build_service(doc: Document) -> Service:
    """The model of one AIService document; raises SpecError at the offending line."""
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
        raise field_error(doc, exc) from None
    providers = []
    for p in spec["providers"]:
        given = p.get("label_value") or p["name"]
        values = tuple(given) if isinstance(given, list) else (given,)
        providers.append(Provider(p["name"], p["role"], values[0], tuple(p["models"]), p.get("probe_target"),
                                  p.get("status_page"), p.get("sla"), values))
    providers = tuple(providers)
    slo = spec["slo"]
    # Cache reads and writes cost an input token's price unless the spec says otherwise: the spend of the older
    # generation of OTel names, which cannot tell cached tokens apart.
    prices = tuple(Price(model, float(p["input"]), float(p["output"]), float(p.get("cache_read", p["input"])),
                         float(p.get("cache_write", p["input"])), tuple(dict.fromkeys(p["modalities"])))
                   for model, p in sorted(spec["pricing"].items()))
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
        deploy=_deploy(spec["deploy"], meta["team"]),
    )
    return replace(service, active_signals=tuple(name for name, signal in SIGNALS.items()
                                                 if signal.active(service, service.signals[name])))


def _deploy(cfg: dict, team: str) -> Deploy:
    """spec.deploy with its defaults: the team's namespace, Mimir's single-tenant ID."""
    return Deploy(tuple(cfg["targets"]), cfg.get("namespace") or team, MappingProxyType(dict(sorted(cfg["labels"].items()))),
                  cfg.get("tenant") or "anonymous", cfg.get("partial_response_strategy"), cfg["rules_per_group"])


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
    dashboard = rb.get("dashboard_url") or (c.grafana_dashboard_url(rb["grafana_url"], service)
                                            if rb.get("grafana_url") else None)
    return Runbooks(rb["base_url"], dashboard, rb["prometheus_url"],
                    Kubernetes(kube.get("namespace") or team, kube.get("deployment") or service,
                               kube.get("proxy_namespace") or kube.get("namespace") or team,
                               kube.get("proxy_deployment") or "litellm"),
                    MappingProxyType(notes), tuple(changelog))


def check_service(service: Service) -> None:
    """Checks the schema cannot express, for one service."""

    def fail(path: tuple, message: str) -> None:
        raise SpecError(service.locate(path), format_path(path), message)

    for key in service.deploy.labels:
        problem = objects.label_key_problem(key)
        if problem:
            fail(("spec", "deploy", "labels", key), problem)
    problem = objects.tenant_problem(service.deploy.tenant)
    if problem:
        fail(("spec", "deploy", "tenant"), problem)
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
    if not service.source.requests.provider_labels and len(service.providers) > 1:
        # A self-hosted source (vLLM) names no provider: every series is the one serving pool's, so a second
        # provider would silently get no traffic and never page.
        fail(("spec", "providers", 1), f"the {service.source.preset} preset's series name no provider: list one "
                                       "provider (the serving pool), and one service per pool")
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
            if prop.get("x-raw-window") and cfg[key] > RAW_WINDOW_MAX:
                fail(("spec", "signals", name, key),
                     f"expected a window of at most {format_duration(RAW_WINDOW_MAX)}: it reads raw series, and no "
                     "rule reads more than an hour of them (longer views read recorded series)")
            if prop.get("x-rate-window") and cfg[key] < RATE_WINDOW_SCRAPES * scrape:
                fail(("spec", "signals", name, key),
                     f"expected a rate window of at least {format_duration(RATE_WINDOW_SCRAPES * scrape)} "
                     f"({RATE_WINDOW_SCRAPES}x spec.metrics.scrape_interval {format_duration(scrape)}): a rate "
                     "needs two samples")
        try:
            signal.check(service, cfg)
        except FieldError as exc:
            fail(("spec", "signals", name) + exc.path, exc.message)
