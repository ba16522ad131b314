"""Turn scenario traffic into the raw input series a preset's metrics would show, for promtool tests.

Works from the source's selectors alone: for each kind of call (ok, provider error, rate limited, other
error) it finds label values that the right selectors match and the others do not, so a custom preset is
tested exactly like a built-in one.
"""
from __future__ import annotations

import math

from . import conventions as c
from .presets.source import Counter, MetricSource
from .promql import Selector, example_labels, series_text
from .rules import EvalRun, Phase, Series, Stream
from .spec.model import Service
from .spec.units import format_number

_KINDS = ("ok", "provider_error", "rate_limited", "other_error")


class SynthError(ValueError):
    """The source's selectors admit no series for some kind of call."""


def _per_minute(phase: Phase, kind: str) -> float:
    if kind == "ok":
        return phase.ok
    if kind == "provider_error":
        return phase.provider_errors
    if kind == "rate_limited":
        return phase.rate_limited
    return phase.errors - phase.provider_errors - phase.rate_limited


def counter_values(increments: list[tuple[int, float]]) -> str:
    """Cumulative counter from (minutes, per-minute increment) phases, in expanding notation."""
    parts = []
    total = 0.0
    first = True
    for minutes, step in increments:
        if first:
            parts.append(f"0+{format_number(step)}x{minutes}")
            total = step * minutes
            first = False
        elif minutes > 0:
            start = total + step
            parts.append(f"{format_number(start)}+{format_number(step)}x{minutes - 1}")
            total += step * minutes
    return " ".join(parts)


def gauge_values(phases: list[tuple[int, float]]) -> str:
    """A gauge holding each value for its minutes (the first phase also covers minute 0)."""
    parts = []
    for i, (minutes, value) in enumerate(phases):
        count = minutes if i == 0 else minutes - 1
        parts.append(f"{format_number(value)}x{count}" if count > 0 else format_number(value))
    return " ".join(parts)


def _provider_value(service: Service, provider: str) -> str:
    for p in service.providers:
        if p.name == provider:
            return p.label_value
    return provider


def _base(counter: Counter, service: Service, stream: Stream) -> dict[str, str]:
    labels = {}
    if counter.provider_labels:
        labels[counter.provider_labels[0]] = _provider_value(service, stream.provider)
    if counter.model_label:
        labels[counter.model_label] = stream.model
    return labels


def _kinds_counted(src: MetricSource) -> list[tuple[Counter, set[str]]]:
    errors = {"provider_error", "rate_limited", "other_error"}
    # A source may count every failure against the provider (custom preset default): same selector, same kinds.
    provider = errors if src.provider_errors.selector == src.errors.selector else {"provider_error"}
    return [
        (src.requests, set(_KINDS)),
        (src.errors, errors),
        (src.rate_limited, {"rate_limited"}),
        (src.provider_errors, provider),
    ]


def call_series(service: Service, stream: Stream, latency: bool = False) -> list[Series]:
    """Counters of calls (requests, errors, rate limited, provider errors) for one stream, with its latency and
    token or spend series. A source reading several generations of names gets the same calls in each: a service
    emitting both at once, which every expected value must count once."""
    out: list[Series] = []
    for _, src in service.source.generations():
        out += _calls(src, service, stream)
        if latency:
            out += _latency_series(src, service, stream)
        out += _cost_series(src, service, stream)
    return out


def _calls(src: MetricSource, service: Service, stream: Stream) -> list[Series]:
    counted = _kinds_counted(src)
    metrics = sorted({ctr.selector.metric for ctr, _ in counted})
    out: list[Series] = []
    for metric in metrics:
        on_metric = [(ctr, kinds) for ctr, kinds in counted if ctr.selector.metric == metric]
        merged: dict[str, list[float]] = {}  # kinds no selector tells apart share one series
        for kind in _KINDS:
            steps = [_per_minute(ph, kind) for ph in stream.phases]
            if not any(steps):
                continue
            must = [ctr.selector for ctr, kinds in on_metric if kind in kinds]
            if not must:
                continue
            must_not = [ctr.selector for ctr, kinds in on_metric if kind not in kinds]
            labels = example_labels(metric, _base(on_metric[0][0], service, stream), must, must_not)
            if labels is None:
                raise SynthError(f"no {metric} series can stand for a {kind.replace('_', ' ')} call")
            key = series_text(metric, labels)
            merged[key] = [a + b for a, b in zip(merged.get(key, [0.0] * len(steps)), steps)]
        for key, steps in merged.items():
            out.append(Series(key, counter_values([(ph.minutes, v) for ph, v in zip(stream.phases, steps)])))
    return out


def _latency_series(src: MetricSource, service: Service, stream: Stream) -> list[Series]:
    """Latency histograms of every call; the first token (where measured) takes as long as the whole call."""
    out = []
    for hist in (src.latency, src.first_token):
        if hist is None:
            continue
        base = _base(hist.buckets, service, stream)
        labels = example_labels(hist.buckets.selector.metric, base, [hist.buckets.selector], [])
        for bound in list(hist.boundaries) + [float("inf")]:
            le = "+Inf" if bound == float("inf") else format_number(bound)
            steps = [(ph.minutes, (ph.ok + ph.errors) * ((1 - ph.slow_share) * (ph.latency <= bound)
                                                          + ph.slow_share * (ph.slow_latency <= bound)))
                     for ph in stream.phases]
            out.append(Series(series_text(hist.buckets.selector.metric, {**labels, "le": le}), counter_values(steps)))
    return out


# The Phase field holding each token type a scenario writes (cache reads and writes: none, so zero).
_TOKEN_FIELDS = {c.INPUT: "input_tokens", c.OUTPUT: "output_tokens"}


def _cost_series(src: MetricSource, service: Service, stream: Stream) -> list[Series]:
    out = []
    if src.spend is not None:
        steps = [(ph.minutes, ph.spend_usd) for ph in stream.phases]
        if any(v for _, v in steps):
            labels = example_labels(src.spend.selector.metric, _base(src.spend, service, stream), [src.spend.selector], [])
            out.append(Series(series_text(src.spend.selector.metric, labels), counter_values(steps)))
    elif src.tokens is not None:
        tok = src.tokens
        for kind, counter in tok.counters:
            if kind not in _TOKEN_FIELDS:
                continue
            steps = [(ph.minutes, getattr(ph, _TOKEN_FIELDS[kind])) for ph in stream.phases]
            if any(v for _, v in steps):
                base = _base(counter, service, stream)
                if tok.modality_label:
                    base[tok.modality_label] = c.TEXT
                labels = example_labels(counter.selector.metric, base, [counter.selector], [])
                out.append(Series(series_text(counter.selector.metric, labels), counter_values(steps)))
    return out


def eval_series(service: Service, run: EvalRun) -> list[Series]:
    """Eval-convention gauges for one suite and model."""
    ev = service.source.eval
    base = {ev.suite_label: run.suite, ev.model_label: run.model}
    out = []
    for result, idx in ((ev.pass_value, 1), (ev.fail_value, 2)):
        labels = example_labels(ev.cases.metric, {**base, ev.result_label: result}, [ev.cases], [])
        out.append(Series(series_text(ev.cases.metric, labels), gauge_values([(p[0], p[idx]) for p in run.phases])))
    # The last-run timestamp follows the clock while runs keep arriving and freezes when they stop.
    parts, end, last = [], 0, 0.0
    for i, (minutes, _, _, fresh) in enumerate(run.phases):
        start = 0 if i == 0 else end + 1
        end += minutes
        count = end - start  # "a+bxN" spells N+1 samples
        if fresh:
            parts.append(f"{format_number(start * 60)}+60x{count}")
            last = end * 60
        else:
            parts.append(f"{format_number(last)}x{count}")
    labels = example_labels(ev.last_run.metric, base, [ev.last_run], [])
    out.append(Series(series_text(ev.last_run.metric, labels), " ".join(parts)))
    return out


def probe_series(service: Service, provider: str, phases: list[tuple[int, float]]) -> Series:
    """blackbox_exporter's probe_success for a provider's probe target."""
    probe = service.source.probe
    target = next(p.probe_target for p in service.providers if p.name == provider)
    labels = example_labels(probe.metric, {"instance": target}, [probe], [])
    return Series(series_text(probe.metric, labels), gauge_values(phases))


def cooldown_series(service: Service, provider: str, phases: list[tuple[int, float]]) -> Series:
    """The source's deployment cooldowns (LiteLLM's) of one provider: a counter from (minutes, per minute) phases."""
    counter = service.source.cooldowns
    labels = example_labels(counter.selector.metric, {counter.provider_labels[0]: _provider_value(service, provider)},
                            [counter.selector], [])
    return Series(series_text(counter.selector.metric, labels), counter_values(phases))


def gauge_series(selector: Selector, phases: list[tuple[int, float]]) -> Series:
    """A gauge matching `selector`, e.g. the rollout generation."""
    labels = example_labels(selector.metric, {}, [selector], [])
    return Series(series_text(selector.metric, labels), gauge_values(phases))


def window_sum(stream: Stream, field: str, minute: int, minutes: int) -> float:
    """Calls of `field` in the `minutes` before `minute` (a phase's per-minute increments arrive at its samples)."""
    total, start = 0.0, 0
    for ph in stream.phases:
        # The phase's increments arrive at samples start+1 .. start+ph.minutes; count those inside the window.
        overlap = min(start + ph.minutes, minute) - max(start, minute - minutes)
        if overlap > 0:
            total += overlap * getattr(ph, field)
        start += ph.minutes
    return total


class Seen:
    """What range selectors see of a stream's counters: per-minute samples, summed once so any window is two lookups."""

    def __init__(self, stream: Stream, fields: tuple[str, ...] = ("ok", "errors")) -> None:
        self._sums: dict[str, list[float]] = {}
        for field in fields:
            sums = [0.0]
            for ph in stream.phases:
                step = getattr(ph, field)
                for _ in range(ph.minutes):
                    sums.append(sums[-1] + step)
            self._sums[field] = sums

    def __call__(self, field: str, t: float, minutes: int) -> float:
        """Calls of `field` that a `[minutes]m` range selector sees at evaluation time `t` (minutes, possibly between
        two samples): it holds the samples in [t - minutes, t], one a minute, so between whole minutes one increment
        fewer. Rates of two counters sampled together are scaled alike, so their ratio is the ratio of these sums."""
        sums = self._sums[field]
        end = math.floor(t)
        first = max(0, end - (minutes if end == t else minutes - 1))
        return sums[min(end, len(sums) - 1)] - sums[min(first, len(sums) - 1)]
