"""The frozen model the compiler reads: services, providers, SLOs, prices and signal settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from ..presets.source import MetricSource
from ..promql import Matcher
from .errors import Location


def freeze(value: Any) -> Any:
    """Deep read-only copy of plain data: dicts become mappings, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def _locate(positions: Mapping[tuple, tuple[int, int]], document: Location, path: tuple) -> Location:
    path = tuple(path)
    while path and path not in positions:
        path = path[:-1]
    line, col = positions.get(path, (document.line, document.column))
    return Location(document.file, line, col)


@dataclass(frozen=True)
class Provider:
    name: str
    role: str                      # primary | secondary | other
    label_value: str               # the provider's value in the source metrics (the first, when several)
    models: tuple[str, ...]
    probe_target: str | None
    status_page: str | None
    sla: float | None
    # Every value the provider label may hold for it (instrumentations renamed them: vertex_ai, gcp.vertex_ai).
    label_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Price:
    model: str
    input_per_million: float
    output_per_million: float
    cache_read_per_million: float = 0.0     # a cached input token read (inside the input tokens)
    cache_write_per_million: float = 0.0    # an input token written to the cache (inside the input tokens)
    modalities: tuple[str, ...] = ("text",)  # token modalities charged at these prices


@dataclass(frozen=True)
class SLO:
    latency_p95: float | None      # seconds
    availability: float
    window: float                  # seconds
    first_token_p95: float | None = None  # seconds to the first streamed chunk or token, p95


@dataclass(frozen=True)
class Kubernetes:
    """Where the service runs, for the kubectl lines of its runbooks."""

    namespace: str
    deployment: str
    proxy_namespace: str = ""   # the gateway that calls the providers for the service (LiteLLM), where there is one
    proxy_deployment: str = ""


@dataclass(frozen=True)
class NoteStep:
    """A step a service adds to a runbook's decision tree."""

    check: str
    query: str | None = None
    command: str | None = None


@dataclass(frozen=True)
class RunbookNotes:
    """What a service adds to the runbook of one alert: more steps (or all of them), and free notes."""

    steps: tuple[NoteStep, ...]
    notes: str
    replace: bool                  # the steps replace the built-in decision tree instead of following it


@dataclass(frozen=True)
class ChangelogEntry:
    """What an incident changed in the runbooks of a service."""

    date: str                      # YYYY-MM-DD
    change: str
    postmortem: str | None


@dataclass(frozen=True)
class Runbooks:
    base_url: str
    dashboard_url: str | None
    prometheus_url: str
    kubernetes: Kubernetes
    notes: Mapping[str, RunbookNotes]      # by alert name
    changelog: tuple[ChangelogEntry, ...]


@dataclass(frozen=True)
class Deploy:
    """spec.deploy: the targets besides plain rule files, and their settings."""

    targets: tuple[str, ...]
    namespace: str                 # Kubernetes namespace (operator)
    labels: Mapping[str, str]      # labels of the Kubernetes objects (operator)
    tenant: str                    # Mimir tenant
    partial_response_strategy: str | None   # Thanos Ruler
    rules_per_group: int = 20                # Mimir: its default ruler_max_rules_per_rule_group


@dataclass(frozen=True)
class Service:
    """One AI service, as every signal sees it."""

    name: str
    team: str
    description: str
    location: Location
    providers: tuple[Provider, ...]
    slo: SLO
    source: MetricSource
    prices: tuple[Price, ...]
    signals: Mapping[str, Mapping[str, Any]]
    runbooks: Runbooks
    # Positions of fields, so signal checks can point at the line they complain about.
    positions: Mapping[tuple, tuple[int, int]]
    scrape_interval: float = 15.0  # seconds between scrapes of the source metrics; rate windows hold >= 2
    deploy: Deploy = Deploy((), "", MappingProxyType({}), "anonymous", None)
    # The signals that generate rules for it, in registry order: decided once, here, for every later stage.
    active_signals: tuple[str, ...] = ()

    def provider(self, role: str) -> Provider | None:
        return next((p for p in self.providers if p.role == role), None)

    @property
    def traffic_providers(self) -> tuple[str, ...]:
        """Providers whose outage explains the service's pages: all but a standby secondary."""
        return tuple(p.name for p in self.providers if p.role != "secondary") or tuple(p.name for p in self.providers)

    @property
    def models(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for p in self.providers:
            for m in p.models:
                seen.setdefault(m, None)
        return tuple(seen)

    def locate(self, path: tuple) -> Location:
        path = tuple(path)
        while path and path not in self.positions:
            path = path[:-1]
        line, col = self.positions.get(path, (self.location.line, self.location.column))
        return Location(self.location.file, line, col)


@dataclass(frozen=True)
class Receiver:
    """A named receiver and its integrations (type -> settings), secrets named by file only."""

    name: str
    integrations: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Timers:
    group_wait: float
    group_interval: float
    repeat_interval: float


@dataclass(frozen=True)
class Escalation:
    mode: str                      # prometheus | paging_tool
    secondary_after: float
    senior_after: float
    incident_after: float
    senior_contact: str | None
    executive_contact: str | None
    incident_channel: str | None

    @property
    def tiers(self) -> bool:
        """Whether pages get a secondary tier in Prometheus."""
        return self.mode == "prometheus"


@dataclass(frozen=True)
class BusinessHours:
    location: str
    weekdays: tuple[str, ...]
    start: str
    end: str


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday() order


@dataclass(frozen=True)
class Shift:
    """One shift of a rotation: from `start` to `end` (aware datetimes), and who is on call."""

    index: int                 # shifts since the rotation's start (negative before it)
    start: datetime
    end: datetime
    primary: str | None
    secondary: str | None


@dataclass(frozen=True)
class Rotation:
    """Who is on call when: shifts of `length` days handing off at `handoff_time` in `location`, from `start`."""

    location: str
    start: date
    handoff_time: str          # HH:MM
    length_days: int
    primary: tuple[str, ...]
    secondary: tuple[str, ...]

    def _handoff(self, index: int) -> datetime:
        """The local handoff opening shift `index`: the same wall-clock time on its day, whatever the DST."""
        day = self.start + timedelta(days=index * self.length_days)
        hour, minute = map(int, self.handoff_time.split(":"))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(self.location))

    def shift_at(self, moment: datetime) -> Shift:
        """The shift `moment` (an aware datetime) falls in: [its handoff, the next handoff)."""
        local = moment.astimezone(ZoneInfo(self.location))
        index = (local.date() - self.start).days // self.length_days
        while self._handoff(index) > local:
            index -= 1
        while self._handoff(index + 1) <= local:
            index += 1
        return self.shift(index)

    def shift(self, index: int) -> Shift:
        primary = self.primary[index % len(self.primary)] if self.primary else None
        if self.secondary:
            secondary = self.secondary[index % len(self.secondary)]
        else:  # the previous shift's primary backs up the current one
            secondary = self.primary[(index - 1) % len(self.primary)] if len(self.primary) > 1 else None
        return Shift(index, self._handoff(index), self._handoff(index + 1), primary, secondary)


@dataclass(frozen=True)
class Team:
    """A team's on-call: which receiver plays each role, and how pages escalate."""

    name: str
    location: Location
    receivers: tuple[Receiver, ...]
    primary: str
    secondary: str | None
    ticket: str
    info: str
    remediation: Mapping[str, str]
    escalation: Escalation
    business_hours: BusinessHours | None
    page_timers: Timers
    ticket_timers: Timers
    info_timers: Timers
    remediation_timers: Timers
    rotation: Rotation | None = None
    # Positions of fields, so checks made later (a target's) can point at the line they complain about.
    positions: Mapping[tuple, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def locate(self, path: tuple) -> Location:
        """The location of `path` in the team's spec, or of its nearest ancestor that has one."""
        return _locate(self.positions, self.location, path)


@dataclass(frozen=True)
class Pipeline:
    """Who hears about the alerting pipeline itself, and where its own metrics are."""

    receiver: str | None = None           # a root receiver; None: no routing (rules only)
    team: str | None = None               # the team whose routes also get pipeline alerts
    alertmanager: tuple[Matcher, ...] = (Matcher("job", "=", "alertmanager"),)
    prometheus: tuple[Matcher, ...] = (Matcher("job", "=", "prometheus"),)
    team_location: Location | None = None  # where the spec names the team


@dataclass(frozen=True)
class Routing:
    """The root of the routing tree, shared by all teams."""

    name: str
    location: Location
    receivers: tuple[Receiver, ...]
    fallback: str
    heartbeat: str
    resolve_timeout: float
    pipeline: Pipeline = Pipeline()
    positions: Mapping[tuple, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def locate(self, path: tuple) -> Location:
        """The location of `path` in the routing spec, or of its nearest ancestor that has one."""
        return _locate(self.positions, self.location, path)


@dataclass(frozen=True)
class Specs:
    """Everything the spec files say."""

    services: tuple[Service, ...]
    teams: Mapping[str, Team]
    routing: Routing | None

    def team_of(self, service: Service) -> Team | None:
        return self.teams.get(service.team)
