"""The small interface every signal implements, and the alert conventions they share.

A signal is one package, `signals/<name>/`, exposing `SIGNAL`, an instance of a `Signal` subclass. Its three parts
(pure: no I/O), one module each:
- `rules(service, cfg)` (rules.py): its rule groups, and the other groups' keys its scenarios need loaded;
- `runbook(service, cfg, alert)` (runbook.py): what the runbook of one of its alerts says;
- `scenarios(service, cfg, groups)` (scenarios.py): its promtool scenarios, given its compiled groups (from which
  they take the alerts they expect).
rules.py also holds what it declares and checks:
- `schema`: the JSON Schema properties of `spec.signals.<name>` (each with description and default);
- `auto(service)`: whether it is on when the spec does not say;
- `check(service, cfg)`: cross-field checks, raising FieldError with a path inside the signal's settings;
- `warnings(service, cfg)`: advice that does not stop generation;
- `thresholds(service, cfg)`: the rows of its runbooks' threshold tables;
- `alerts`: its alert names by role, the only place they are written: other signals link to them with
  `alert_link(service, signal, role)`, never by name;
- `inhibitions(service, explained)` and `shared_inhibitions()`: the Alertmanager inhibitions its alerts need.
"""
from __future__ import annotations

from typing import Any, Mapping

from .. import conventions as c
from ..rules import Alert, Expected, Group, Rules, Scenario
from ..content.runbook import RunbookContent, Threshold
from ..spec.model import Provider, Service
from ..content.links import alert_ref
from ..templating import render

Config = Mapping[str, Any]


class Signal:
    """Base class: override what the signal needs."""

    name: str = ""
    description: str = ""
    auto_when: str = "on"
    schema: dict = {}
    requires_sli: bool = True
    remediation: str | None = None   # the automation action its alerts ask for, if any
    slo_fields: tuple[str, ...] = ()   # spec.slo fields its thresholds compare against (rows of its runbook tables)
    # A provider outage explains its pages and tickets: the outage's page mutes them (inhibition) and, once the
    # provider recovers, they stay quiet while their windows still cover the outage (see `outage.py`).
    explained_by_outage: bool = False
    records_outages: bool = False    # its rules record the provider outages the others are held back by
    alerts: Mapping[str, str] = {}   # its alert names by role ("page", "ticket", ...)

    # Every Signal made, by its name, so signals can name each other's alerts by role (the registry,
    # `signals.SIGNALS`, decides which are on). Instances, not classes: one class may make two signals (histogram_p95).
    declared: dict[str, "Signal"] = {}

    def __init__(self) -> None:
        if self.name:
            Signal.declared[self.name] = self

    def auto(self, service: Service) -> bool:
        """Whether the signal is on when `enabled` is not given."""
        return True

    def active(self, service: Service, cfg: Config) -> bool:
        value = cfg.get("enabled")
        return self.auto(service) if value is None else bool(value)

    def check(self, service: Service, cfg: Config) -> None:
        """Raise FieldError for settings that cannot work; the default accepts everything."""

    def history(self, service: Service, cfg: Config) -> float:
        """Seconds of history its baseline needs before it can page at all (young data never pages); 0: none."""
        return 0

    def rate_windows(self, service: Service, cfg: Config) -> tuple[float, ...]:
        """Windows (seconds) of per-provider call and error rates it reads besides the SLI group's 5m; the SLI group
        records them (`sli.provider_rates` names them)."""
        return ()

    def warnings(self, service: Service, cfg: Config) -> list[tuple[tuple, str]]:
        """(path inside the signal's settings, message) pairs worth telling the user."""
        return []

    def rules(self, service: Service, cfg: Config) -> Rules:
        """Its rule groups for `service`, and the other groups' keys its scenarios need loaded."""
        raise NotImplementedError

    def scenarios(self, service: Service, cfg: Config, groups: tuple[Group, ...]) -> tuple[Scenario, ...]:
        """Its promtool scenarios, given the groups `rules` returned: at least one firing and one silent case per
        alert."""
        return ()

    def outage_threshold(self, service: Service, cfg: Config) -> tuple[float, float] | None:
        """For the signal that records outages (`records_outages`): the success ratio under which a provider is
        down, and the calls per second it must get for that to count; None for the others."""
        return None

    def inhibitions(self, service: Service, explained: tuple[str, ...]) -> tuple[dict, ...]:
        """Alertmanager inhibitions its alerts need for `service` (asked of every service: an inhibition whose source
        never fires mutes nothing); `explained`: the signals an outage explains."""
        return ()

    def shared_inhibitions(self) -> tuple[dict, ...]:
        """Alertmanager inhibitions its alerts need, the same for every service."""
        return ()

    def runbook(self, service: Service, cfg: Config, alert: Alert) -> RunbookContent | None:
        """The signal's part of the runbook of `alert` (one of its own); None: it has none, which is an error."""
        return None

    def thresholds(self, service: Service, cfg: Config) -> tuple[Threshold, ...]:
        """Every setting of the signal, then the SLO fields it compares against."""
        rows = [Threshold(f"spec.signals.{self.name}.{key}", cfg.get(key),
                          prop.get("$ref", "").rsplit("/", 1)[-1], prop.get("description", ""))
                for key, prop in self.schema.items()]
        for key in self.slo_fields:
            value = getattr(service.slo, key)
            if value is not None:
                rows.append(Threshold(f"spec.slo.{key}", value, "seconds", SLO_MEANING[key]))
        return tuple(rows)


def recorder(service: Service) -> tuple[str, float, float] | None:
    """The active signal whose rules record the service's provider outages (the others are held back by them), with
    its success ratio under which a provider is down and the calls per second that needs; None: none is on."""
    for name in service.active_signals:
        signal = Signal.declared[name]
        if signal.records_outages:
            below, rate = signal.outage_threshold(service, service.signals[name])
            return name, below, rate
    return None


def error_ceiling(service: Service) -> float:
    """The highest share of failed calls on one provider that is not an outage yet (the recorder's threshold), for
    scenarios whose pages a provider outage would mute: 1 when outages are not recorded."""
    found = recorder(service)
    return 1.0 if found is None else 1 - found[1]


def alert_of(signal: str, role: str) -> str:
    """The name of the `role` alert of `signal`, as that signal declares it."""
    return Signal.declared[signal].alerts[role]


def alerts_in(groups: tuple[Group, ...]) -> dict[str, Alert]:
    """The alerts of `groups` by name: what a signal's scenarios expect, taken from its compiled rules."""
    return {a.alert: a for g in groups for a in g.alerts}


def alert_link(service: Service, signal: str, role: str) -> str:
    """A link to the runbook of another signal's alert when the service has it; its name alone otherwise."""
    return alert_ref(service, signal, alert_of(signal, role))


SLO_MEANING = {"latency_p95": "p95 latency objective of one model call.",
               "first_token_p95": "p95 objective of the time to the first streamed chunk or token."}


def first_model(service: Service) -> tuple[Provider, str]:
    """The first provider and its first model: whom scenario traffic goes to by default."""
    p = service.providers[0]
    return p, (p.models[0] if p.models else "default")


def make_alert(service: Service, signal: str, name: str, expr: str, for_seconds: float, severity: str,
               summary: str, description: str, remediation: str | None = None,
               extra: Mapping[str, str] | None = None) -> Alert:
    """An alert with the labels and annotations every alert carries."""
    assert summary.endswith("."), summary
    labels = {c.SERVICE: service.name, c.TEAM: service.team, c.SIGNAL: signal, c.SEVERITY: severity}
    if remediation:
        labels[c.REMEDIATION] = remediation
    labels.update(extra or {})
    annotations = {"summary": summary, "description": description, "runbook_url": c.runbook_url(service.runbooks.base_url, service.name, name)}
    if service.runbooks.dashboard_url:
        annotations["dashboard_url"] = service.runbooks.dashboard_url
    return Alert(name, expr, for_seconds, tuple(sorted(labels.items())), tuple(sorted(annotations.items())))


def expect(alert: Alert, value: float | None = None, **labels: str) -> Expected:
    """The alert instance promtool should see, given the expression's value and its extra labels.

    Annotations see only the labels of the expression's result (as in Prometheus, before the rule's own
    labels are added): the recorded series' service and team, plus `labels`.
    """
    own = alert.label_map
    series = {c.SERVICE: own[c.SERVICE], c.TEAM: own[c.TEAM], **labels}
    full = {**labels, **own}
    annotations = {k: render(v, series, value) for k, v in alert.annotations}
    return Expected(dict(sorted(full.items())), dict(sorted(annotations.items())))
