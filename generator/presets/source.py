"""What a metric preset produces: where each base quantity lives in the user's Prometheus.

Signals never see raw metric names. They read the normalised series the SLI group records from a
`MetricSource` (`service_provider_model:ai_requests:rate5m` and friends), so one signal works on every
preset, and a preset is a table of selectors.
"""
from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Histogram:
    """A latency histogram: the `_bucket` counter and its bucket boundaries in seconds."""

    buckets: Counter
    boundaries: tuple[float, ...]


@dataclass(frozen=True)
class Tokens:
    """A token counter split by a token-type label, priced by the spec's price table."""

    counter: Counter
    type_label: str
    input_value: str
    output_value: str


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

