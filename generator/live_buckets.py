"""Declared histogram buckets against a live Prometheus: `oncallgen validate --prometheus URL`.

The spec states its latency histograms' boundaries (`spec.metrics.buckets`, or the preset's default) because SDKs
differ: some ignore OTel's advisory buckets, LiteLLM's are configurable, exponential histograms have no `_bucket`
series at all. A live server shows which `le` values the selectors really find.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .prometheus_api import Query
from .spec.errors import Location
from .spec.model import Service
from .spec.units import format_number


@dataclass(frozen=True)
class Mismatch:
    """A histogram whose series on the server disagree with the spec."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.field}: {self.message}"


def _bounds(results: list[dict]) -> set[float]:
    out = set()
    for r in results:
        try:
            out.add(float(r["metric"].get("le", "nan")))
        except ValueError:
            continue
    return {b for b in out if not math.isnan(b)}


def _show(bounds) -> str:
    return ", ".join("+Inf" if math.isinf(b) else format_number(b) for b in sorted(bounds))


def check(services: list[Service], query: Query) -> list[Mismatch]:
    """Every histogram of every service whose `le` values on the server differ from the declared boundaries."""
    out = []
    for service in services:
        where = service.locate(("spec", "metrics", "buckets"))
        # The first-token histogram only matters where its signal reads it (non-streaming services have none).
        first_token = service.source.first_token if "first_token_latency" in service.active_signals else None
        named = (("latency", service.source.latency), ("time to first token", first_token))
        for what, hist in named:
            if hist is None:
                continue
            # A source reading several generations of names: the newest one with series on the server.
            found, selector = set(), hist.buckets.selector
            for generation in hist.buckets.generations():
                found = _bounds(query(f"count by (le) ({generation.selector})"))
                if found:
                    selector = generation.selector
                    break
            declared = set(hist.boundaries) | {math.inf}
            if not found:
                out.append(Mismatch(where, "spec.metrics.buckets", f"no {what} series on the server match " +
                                    " or ".join(str(g.selector) for g in hist.buckets.generations())))
            elif found != declared:
                missing, extra = declared - found, found - declared
                detail = "; ".join(part for part in (
                    f"declared but not on the server: {_show(missing)}" if missing else "",
                    f"on the server but not declared: {_show(extra)}" if extra else "") if part)
                out.append(Mismatch(where, "spec.metrics.buckets",
                                    f"the {what} buckets of {selector.metric} differ ({detail}); "
                                    f"the server has: {_show(found)}"))
    return out


@dataclass(frozen=True)
class Generations:
    """Which generations of metric names a service's live series use (OTel GenAI renamed its metrics), against the
    ones its spec reads (`spec.metrics.semconv`)."""

    location: Location
    service: str
    found: tuple[str, ...]      # generations with model-call series on the server, newest first
    reads: tuple[str, ...]      # generations the spec reads

    @property
    def unread(self) -> tuple[str, ...]:
        """Generations the server has and the spec does not read: their calls are invisible to the rules."""
        return tuple(g for g in self.found if g not in self.reads)

    def __str__(self) -> str:
        found = " and ".join(self.found) if self.found else "neither generation's"
        text = (f"{self.location}: spec.metrics.semconv: {self.service} emits {found} names on the server; the spec "
                f"reads {' and '.join(self.reads)}")
        if self.unread:
            suggest = "both" if len(self.found) > 1 else self.found[0]
            text += f": its {' and '.join(self.unread)} series match none of the rules (set semconv: {suggest})"
        return text


def generations(services: list[Service], query: Query) -> list[Generations]:
    """For every service whose source knows several generations of names, which ones the server has."""
    out = []
    for service in services:
        src = service.source
        if not src.semconv_probes:
            continue
        found = tuple(name for name, selector in src.semconv_probes if query(f"count({selector})"))
        out.append(Generations(service.locate(("spec", "metrics", "semconv")), service.name, found, src.semconv))
    return out
