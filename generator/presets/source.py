"""What a metric preset produces: where each base quantity lives in the user's Prometheus.

Signals never see raw metric names. They read the normalised series the SLI group records from a
`MetricSource` (`conventions.REQUESTS_RATE5M_BY_PROVIDER_MODEL` and friends), so one signal works on every
preset, and a preset is a table of selectors.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..promql import Selector

# OpenTelemetry GenAI semantic conventions: explicit bucket boundaries of gen_ai.client.operation.duration.
OTEL_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)


@dataclass(frozen=True)
class Counter:
    """A counter selector and the labels it keeps the provider and model in.

    `provider_labels` are tried in order, the first non-empty wins (otel-genai renamed gen_ai_system).
    """

    selector: Selector
    provider_labels: tuple[str, ...] = ()
    model_label: str = ""
    # The same quantity under an older generation of metric names (OTel GenAI renamed its metrics): read for a
    # label set (provider, model, le...) only where this one has no series there, never added to it, so a service
    # emitting both generations at once counts every call once.
    older: Counter | None = None
    # Labels that tell one emitting process from another (`job`, `instance`): the newer generation wins per emitter,
    # so while a rollout is under way a replica still emitting only the older names is counted too.
    emitters: tuple[str, ...] = ()

    def generations(self) -> tuple[Counter, ...]:
        """This counter, then each older generation, each on its own."""
        return (replace(self, older=None),) + (self.older.generations() if self.older else ())


@dataclass(frozen=True)
class Histogram:
    """A latency histogram: the `_bucket` counter and its bucket boundaries in seconds."""

    buckets: Counter
    boundaries: tuple[float, ...]


@dataclass(frozen=True)
class Tokens:
    """Token counters by token type, priced by the spec's price table.

    `counters` maps a token type (conventions.TOKEN_TYPES) to the counter of such tokens. Cache reads and writes are
    subsets of the input tokens: they are priced at the difference from an input token's price. Reasoning tokens are
    inside the output tokens and not read at all. `modality_label` holds each count's modality (text, image, audio);
    a source without it counts text only.
    """

    counters: tuple[tuple[str, Counter], ...]
    modality_label: str = ""
    older: Tokens | None = None
    emitters: tuple[str, ...] = ()  # as Counter's

    def generations(self) -> tuple[Tokens, ...]:
        """These counters, then each older generation's, each on its own."""
        return (replace(self, older=None),) + (self.older.generations() if self.older else ())

    def types(self) -> tuple[str, ...]:
        """Every token type some generation counts."""
        return tuple(dict.fromkeys(t for g in self.generations() for t, _ in g.counters))


@dataclass(frozen=True)
class EvalSource:
    """Where eval results live (the oncallgen eval convention, or a custom mapping)."""

    cases: Selector              # gauge: cases of the latest run, by suite, model and result
    last_run: Selector           # gauge: unix time of the latest run, by suite and model
    suite_label: str = "suite"
    model_label: str = "model"
    result_label: str = "result"
    pass_value: str = "pass"
    fail_value: str = "fail"


@dataclass(frozen=True)
class Saturation:
    """How full a self-hosted inference engine is: its queue, its KV cache, and the requests it preempts."""

    waiting: Selector          # gauge: requests queued, per engine
    running: Selector          # gauge: requests being served, per engine
    kv_cache_usage: Selector   # gauge: share of KV-cache blocks in use, 0 to 1, per engine
    preemptions: Selector      # counter: requests evicted from the KV cache to make room


@dataclass(frozen=True)
class MetricSource:
    """Everything the compiler needs to know about one service's metrics."""

    preset: str
    requests: Counter
    errors: Counter
    rate_limited: Counter
    provider_errors: Counter
    latency: Histogram | None
    spend: Counter | None
    tokens: Tokens | None
    eval: EvalSource
    probe: Selector | None             # blackbox_exporter probe_success, one instance per provider
    deployment: Selector | None        # a gauge that changes on every rollout
    # Fallbacks the source itself made (LiteLLM routes to a fallback model on its own): diagnostics for failover.
    fallbacks_ok: Selector | None = None
    fallbacks_failed: Selector | None = None
    # Time to the first streamed chunk or token of a call, when the source measures it (streaming latency SLO).
    first_token: Histogram | None = None
    # Deployments the source took out of rotation after failures (LiteLLM's cooldowns): while they keep coming, a
    # provider outage goes on even though the provider's own series show no traffic.
    cooldowns: Counter | None = None
    # A self-hosted engine's saturation (vLLM); None for hosted providers, whose capacity is their quota.
    saturation: Saturation | None = None
    # The generations of metric names this source reads, newest first (otel-genai: "2026", "legacy"); empty for a
    # source whose names never changed. Its counters, histograms and tokens carry the older ones in `older`.
    semconv: tuple[str, ...] = ()
    # The model-call selector of every generation the preset knows, read or not: `validate --prometheus` asks a live
    # server which of them the service emits.
    semconv_probes: tuple[tuple[str, Selector], ...] = ()

    def generations(self) -> tuple[tuple[str, MetricSource], ...]:
        """(name, the source reading that generation alone) for each generation, newest first; one unnamed entry for a
        source without generations. Test series of a service reading several are written for each of them."""
        if len(self.semconv) < 2:
            return ((self.semconv[0] if self.semconv else "", self),)
        out = []
        for i, name in enumerate(self.semconv):
            changed = {}
            for f in fields(self):
                value = getattr(self, f.name)
                if isinstance(value, (Counter, Tokens)):
                    changed[f.name] = _nth(value.generations(), i)
                elif isinstance(value, Histogram):
                    changed[f.name] = replace(value, buckets=_nth(value.buckets.generations(), i))
            out.append((name, replace(self, semconv=(name,), **changed)))
        return tuple(out)


def _nth(generations: tuple, i: int):
    """The i-th generation, or the oldest there is (a quantity whose name never changed)."""
    return generations[min(i, len(generations) - 1)]

