"""Declared histogram buckets against a live Prometheus: `oncallgen validate --prometheus URL`.

The spec states its latency histograms' boundaries (`spec.metrics.buckets`, or the preset's default) because SDKs
differ: some ignore OTel's advisory buckets, LiteLLM's are configurable, exponential histograms have no `_bucket`
series at all. A live server shows which `le` values the selectors really find.
"""
from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable

from .spec.errors import Location
from .spec.model import Service
from .spec.units import format_number

Query = Callable[[str], list[dict]]  # PromQL -> the `result` of an instant query


@dataclass(frozen=True)
class Mismatch:
    """A histogram whose series on the server disagree with the spec."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.field}: {self.message}"


def http_query(base_url: str, timeout: float = 10.0) -> Query:
    """An instant-query function against Prometheus' HTTP API at `base_url`."""
    def query(expr: str) -> list[dict]:
        url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (an http(s) URL the user gave)
            body = json.load(response)
        if body.get("status") != "success":
            raise OSError(f"Prometheus answered {body.get('errorType', 'an error')}: {body.get('error', '')}")
        return body["data"]["result"]
    return query


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
            found = _bounds(query(f"count by (le) ({hist.buckets.selector})"))
            declared = set(hist.boundaries) | {math.inf}
            if not found:
                out.append(Mismatch(where, "spec.metrics.buckets",
                                    f"no {what} series on the server match {hist.buckets.selector}"))
            elif found != declared:
                missing, extra = declared - found, found - declared
                detail = "; ".join(part for part in (
                    f"declared but not on the server: {_show(missing)}" if missing else "",
                    f"on the server but not declared: {_show(extra)}" if extra else "") if part)
                out.append(Mismatch(where, "spec.metrics.buckets",
                                    f"the {what} buckets of {hist.buckets.selector.metric} differ ({detail}); "
                                    f"the server has: {_show(found)}"))
    return out
