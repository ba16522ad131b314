"""What a "p95 above X" alert measures: the share of calls slower than a bucket boundary, read exactly.

`histogram_quantile` interpolates inside a bucket: on LiteLLM's buckets (..., 10, 30, ...) calls that all take 12s
read as a p95 of 29s, so "p95 above 24s" fires once about a sixth of the calls exceed 10s. The share of calls slower
than a boundary B is exact, read from two counters: p95 is above B exactly when more than 5% of calls took longer
than B. A threshold that is not a boundary is measured at the next boundary above it (an alert never fires below the
threshold the spec wrote), and the alert, its runbook, `validate` and `diff` name the boundary used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator

from .. import conventions as c
from ..boundaries import Clause, Probe, Traffic, filling_onset
from ..promql_fragments import matcher
from ..rules import Alert, Check, Scenario
from ..spec.errors import FieldError
from ..spec.units import format_number
from .base import expect, make_alert

QUANTILE = 0.95
SLOW_SHARE = 0.05  # 1 - QUANTILE: p95 is above B when more than this share of calls took longer than B


@dataclass(frozen=True)
class Bound:
    """One alert's threshold: what the spec asks (`factor` x `slo`) and the bucket boundary the rule measures."""

    key: str        # the setting: page_at or ticket_at
    factor: float
    slo: float
    boundary: float

    @property
    def asked(self) -> float:
        return self.factor * self.slo

    @property
    def exact(self) -> bool:
        return _same(self.boundary, self.asked)

    @property
    def times_slo(self) -> float:
        """The boundary as a multiple of the SLO (to a hundredth)."""
        return round(self.boundary / self.slo, 2)

    def text(self) -> str:
        """`30s`, or `30s (the bucket boundary at or above 24s)`."""
        seconds = f"{format_number(self.boundary)}s"
        return seconds if self.exact else f"{seconds} (the bucket boundary at or above {format_number(self.asked)}s)"


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def boundary_at_or_above(boundaries: tuple[float, ...], seconds: float) -> float | None:
    """The lowest finite bucket boundary at or above `seconds` (None: `seconds` is above every boundary)."""
    return next((b for b in boundaries if b > seconds or _same(b, seconds)), None)


def bound(boundaries: tuple[float, ...], slo: float, cfg, key: str) -> Bound:
    """The boundary measured for the setting `key` (a factor of `slo`); FieldError when no boundary reaches it."""
    asked = cfg[key] * slo
    found = boundary_at_or_above(boundaries, asked)
    if found is None:
        raise FieldError((key,), f"{format_number(asked)}s is above the histogram's highest bucket boundary "
                                 f"({format_number(boundaries[-1])}s): no series can tell how many calls are slower; "
                                 "lower it, or declare the buckets the source exports in spec.metrics.buckets")
    return Bound(key, cfg[key], slo, found)


def bounds(boundaries: tuple[float, ...], slo: float, cfg) -> tuple[Bound, Bound]:
    """The page's and the ticket's bounds (page_at, ticket_at)."""
    return bound(boundaries, slo, cfg, "page_at"), bound(boundaries, slo, cfg, "ticket_at")


def warnings(boundaries: tuple[float, ...], slo: float, cfg) -> list[tuple[tuple, str]]:
    """What each alert really measures, where the spec's threshold is not a bucket boundary."""
    try:
        page, ticket = bounds(boundaries, slo, cfg)
    except FieldError:
        return []  # `check` refuses the spec
    out = []
    for b in (page, ticket):
        if not b.exact:
            out.append(((b.key,), f"{format_number(b.asked)}s is not a bucket boundary of the histogram: the alert "
                                  f"fires when more than 5% of calls take longer than {format_number(b.boundary)}s, the "
                                  f"next boundary ({format_number(b.times_slo)}x the SLO)"))
    if _same(page.boundary, ticket.boundary):
        out.append((("ticket_at",), f"the ticket and the page both measure calls slower than "
                                    f"{format_number(page.boundary)}s: the ticket adds nothing (no bucket boundary lies "
                                    "between them)"))
    return out


def le_pattern(boundary: float) -> str:
    """A regex matching the `le` label of `boundary` as exporters write it: Go `10`, Python `10.0`."""
    text = format_number(boundary).replace(".", "\\.")
    return text + ("(\\.0*)?" if "." not in text else "0*")


def slower_share(buckets: str, service_name: str, boundary: float) -> str:
    """PromQL: the share of calls slower than `boundary` over the window of the recorded bucket rates `buckets` (per
    every label they carry but `le`, e.g. the model). `sum without (le)` keeps labels a deployment adds to recorded
    series (prometheus-operator's `enforcedNamespaceLabel` adds `namespace`), so the share still joins them."""
    svc = matcher(c.SERVICE, "=", service_name)
    by = "sum without (le)"
    # (all - at most B) / all rather than 1 - (at most B) / all: exactly 5% is then exactly 0.05 in floats, not a hair
    # above it (1 - 570/600 is 0.050000000000000044, which would page).
    every = f"{by} ({buckets}{{{svc}, le=\"+Inf\"}})"
    return f"(({every} - {by} ({buckets}{{{svc}, {matcher('le', '=~', le_pattern(boundary))}}})) / {every})"


# ---- scenarios: calls slower and faster than each alert's boundary, whatever the bucket layout ----

# (minutes, seconds most calls take, share of slow calls, seconds the slow calls take) at `per_min` calls a minute;
# the feed returns the inputs (streams, series) carrying them, with onset 0.
Feed = Callable[[float, list[tuple[int, float, float, float]]], Traffic]


@dataclass(frozen=True)
class Watched:
    """One alert of a p95 signal, the boundary it measures and its `for`."""

    alert: Alert
    bound: Bound
    for_seconds: float


def probes(watched: tuple[Watched, ...], min_rate: float, feed: Feed, what: str) -> list[Probe]:
    """Each alert from both sides of 5% of calls slower than its boundary, and of its traffic guard."""
    out = []
    for w in watched:
        b = w.bound.boundary

        def traffic(share: float, guard: float | None, w=w, b=b) -> Traffic:
            per_min = guard * 60 if guard is not None else 600.0
            minutes = int(w.for_seconds // 60) + 30
            t = feed(per_min, [(minutes, b / 2, share, b * 1.1)])
            return replace(t, onset=filling_onset(300, guard, min_rate), value=share)

        out.append(Probe(w.alert, Clause(f"share of calls with {what} above {format_number(b)}s", ">", SLOW_SHARE),
                         w.for_seconds, traffic, lambda t, a=w.alert: (expect(a, t.value),),
                         guard=Clause("calls/s", ">", min_rate)))
    return out


def scenarios(page: Watched, ticket: Watched, slo: float, feed: Feed, what: str) -> Iterator[Scenario]:
    """True latencies against each alert: beyond its boundary it fires within `for` and two evaluations; at the
    boundary, at 1.5x the SLO (when below the boundary) and within the SLO it stays silent."""
    warm = (30, slo / 2, 0.0, 0.0)
    pb, tb = page.bound.boundary, ticket.bound.boundary
    due = 30 + 5 + int(page.for_seconds // 60) + 2   # the 5m window full of slow calls, `for`, two evaluations
    slow = pb * 1.1
    t = feed(600.0, [warm, (due - 30 + 10, slow, 0.0, 0.0)])
    yield Scenario(f"{page.alert.alert} fires when every call has {what} {format_number(slow)}s, 10% beyond the "
                   f"{format_number(pb)}s it measures",
                   # The first slow minute already puts 20% of the window's calls beyond: the page starts at minute 31,
                   # so its secondary tier is due `for` + the team's delay after that.
                   checks=(Check(25, page.alert.alert),
                           Check(due, page.alert.alert, (expect(page.alert, 1.0),), lasts=False, onset=(30, 31))),
                   streams=t.streams, series=t.series, latency=t.latency)
    quiet = [(f"exactly {format_number(pb)}s, its boundary (p95 is {format_number(pb)}s, not above)", pb)]
    if 1.5 * slo < pb:
        quiet.append((f"{format_number(1.5 * slo)}s, 1.5x the SLO", 1.5 * slo))
    for text, seconds in quiet:
        t = feed(600.0, [warm, (due - 30 + 10, seconds, 0.0, 0.0)])
        yield Scenario(f"{page.alert.alert} stays silent when every call has {what} {text}",
                       checks=(Check(due, page.alert.alert, settled=True),),
                       streams=t.streams, series=t.series, latency=t.latency)
    if tb < pb:
        between = min(tb * 1.1, (tb + pb) / 2)
        ticket_due = 30 + 5 + int(ticket.for_seconds // 60) + 2
        t = feed(600.0, [warm, (ticket_due - 30 + 10, between, 0.0, 0.0)])
        yield Scenario(f"{ticket.alert.alert} opens a ticket when every call has {what} {format_number(between)}s; "
                       f"{page.alert.alert} stays silent",
                       checks=(Check(ticket_due, page.alert.alert),
                               Check(ticket_due, ticket.alert.alert, (expect(ticket.alert, 1.0),))),
                       streams=t.streams, series=t.series, latency=t.latency)


def watch(service, signal: str, cfg, boundaries: tuple[float, ...], slo: float, buckets: str,
          names: tuple[str, str], summaries: tuple[str, str], what: str) -> tuple[Watched, Watched]:
    """The page and the ticket of a p95 signal (alert names `names`), each with the boundary it measures; `buckets`
    is the recorded series of the histogram's bucket rates over 5m, by `le`."""
    page, ticket = bounds(boundaries, slo, cfg)
    traffic = f"{c.REQUESTS_RATE5M}{c.selector(service=service.name)} > {format_number(cfg['min_request_rate'])}"
    out = []
    for b, name, severity, for_key, summary in ((page, names[0], c.PAGE, "page_for", summaries[0]),
                                                (ticket, names[1], c.TICKET, "ticket_for", summaries[1])):
        alert = make_alert(
            service, signal, name,
            f"{slower_share(buckets, service.name, b.boundary)} > {format_number(SLOW_SHARE)} and {traffic}",
            cfg[for_key], severity, summary=summary,
            description=(f"{{{{ $value | humanizePercentage }}}} of the calls of {{{{ $labels.service }}}} took longer "
                         f"than {format_number(b.boundary)}s ({what}) over 5m: its p95 is above "
                         f"{format_number(b.boundary)}s, {format_number(b.times_slo)}x the {format_number(slo)}s SLO."),
        )
        out.append(Watched(alert, b, cfg[for_key]))
    return out[0], out[1]
