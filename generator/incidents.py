"""Known incidents, for `oncallgen backtest --incidents FILE`: was each one paged, how soon, and by which page first.

The file lists the windows a team knows something was wrong (from its postmortems):

    incidents:
      - name: anthropic outage
        service: support-assistant
        start: 2026-12-01T02:00:00Z
        end: 2026-12-01T02:30:00Z
        pages: [AIProviderDown]     # optional: the alerts that should have paged (default: any page)

An incident is detected when a page a person would have received (page severity, not muted by the generated
inhibitions, not a request to automation) of its service, and of one of its `pages` when it names them, fires at
some time in its window. The detection latency runs from the incident's start to the first such page's first firing
evaluation (0 when the page was already firing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from . import conventions as c
from .report import Episode
from .spec.errors import FieldError, Location, SpecError
from .spec.loader import field_error, load_file
from .spec.units import moment
from .spec.validate import check_schema

MAX_INCIDENTS = 1000
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["incidents"],
    "properties": {
        "incidents": {
            "type": "array",
            "maxItems": MAX_INCIDENTS,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "service", "start", "end"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 200},
                    "service": {"type": "string", "minLength": 1, "maxLength": 253},
                    # A string, or the timestamp YAML reads an unquoted 2026-12-01T02:00:00Z as: checked by _moment.
                    "start": {}, "end": {},
                    "pages": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 200}},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Incident:
    name: str
    service: str
    start: float
    end: float
    pages: tuple[str, ...] = ()   # the alerts that should have paged; empty: any page


@dataclass(frozen=True)
class Page:
    """A page a person would have received: the alert and its firing episode."""

    alertname: str
    episode: Episode


@dataclass(frozen=True)
class Detection:
    incident: Incident
    first: Page | None            # the first page that detected it; None: missed

    @property
    def latency(self) -> float | None:
        """Seconds from the incident's start to its first page (0 when one was already firing)."""
        return None if self.first is None else max(0.0, self.first.episode.start - self.incident.start)


def load(path: Path, services: Iterable[str]) -> list[Incident]:
    """The incidents of `path`; SpecError at the line of the first bad value (a service the specs do not name
    included)."""
    docs = load_file(path)
    if len(docs) != 1:
        raise SpecError(Location(docs[1].file if len(docs) > 1 else str(path), 1, 1), "",
                        "expected one YAML document holding `incidents:`")
    doc = docs[0]
    check_schema(doc, SCHEMA)
    known = set(services)
    out = []
    try:
        for i, item in enumerate(doc.data["incidents"]):
            start, end = (_moment(item[key], ("incidents", i, key)) for key in ("start", "end"))
            if end <= start:
                raise FieldError(("incidents", i, "end"), f"the incident ends ({_when(end)}) before it starts "
                                                          f"({_when(start)})")
            if item["service"] not in known:
                raise FieldError(("incidents", i, "service"), f"no service named {item['service']!r} in the specs")
            out.append(Incident(item["name"], item["service"], start, end, tuple(item.get("pages", ()))))
    except FieldError as exc:
        raise field_error(doc, exc) from None
    return out


def _moment(value: object, path: tuple) -> float:
    """A time of the file (UTC when it names no zone)."""
    found = moment(value)
    if found is None:
        raise FieldError(path, f"expected an ISO 8601 time such as 2026-12-01T02:00:00Z, got {str(value)[:64]!r}")
    return found


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def detect(incidents: list[Incident], pages: list[Page]) -> list[Detection]:
    """Each incident and the first of `pages` (those people would have received) that detected it."""
    out = []
    for incident in incidents:
        found = [p for p in pages
                 if p.episode.label_map.get(c.SERVICE) == incident.service
                 and (not incident.pages or p.alertname in incident.pages)
                 and p.episode.start <= incident.end and p.episode.end >= incident.start]
        out.append(Detection(incident, min(found, key=lambda p: (p.episode.start, p.episode.labels), default=None)))
    return out
