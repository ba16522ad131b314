"""OpenTelemetry GenAI semantic conventions, as the OTLP -> Prometheus exporters name them.

Two generations of names, both in use while fleets migrate (`spec.metrics.semconv`):
- legacy: a call is one observation of `gen_ai_client_operation_duration_seconds`, tokens are
  `gen_ai_client_token_usage` observations split by `gen_ai_token_type`;
- 2026: model calls are `gen_ai_client_inference_duration_seconds` (the operation histogram stays for agents and
  tools), tokens are counters per kind (`..._usage_input_tokens_total`, cache reads and writes inside the input,
  reasoning inside the output) with `gen_ai_token_modality`.
A call failed when `error_type` is set. With `both`, each emitter's (`emitter_labels`: job and instance) 2026 series
are read where it has them for a provider and model (and bucket), its legacy ones elsewhere: a process emitting both at
once counts each call once, and a replica still emitting only the legacy names mid-rollout is counted too.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import conventions as c
from ..promql import Matcher, Selector
from .source import OTEL_DURATION_BUCKETS, Counter, Histogram, MetricSource, Tokens
from .common import buckets_option, eval_source, label_option, optional_selector, regex_option, service_matchers

NAME = "otel-genai"
PROVIDER_LABELS = ("gen_ai_provider_name", "gen_ai_system")  # the newer name wins when both are set
MODEL_LABEL = "gen_ai_request_model"
OPERATION_LABEL = "gen_ai_operation_name"
ERROR_LABEL = "error_type"
LEGACY, CURRENT, BOTH = "legacy", "2026", "both"


@dataclass(frozen=True)
class Names:
    """One generation's metric names, as the Prometheus exporter writes them."""

    calls: str                                  # the duration histogram of model calls (without its suffix)
    first_chunk: str                            # time to the first streamed chunk, histogram
    tokens: tuple[tuple[str, str, tuple], ...]  # (token type, metric, extra matchers as (label, value))
    modality_label: str = ""


GENERATIONS = {
    LEGACY: Names(
        calls="gen_ai_client_operation_duration_seconds",
        first_chunk="gen_ai_client_operation_time_to_first_chunk_seconds",
        tokens=((c.INPUT, "gen_ai_client_token_usage_sum", (("gen_ai_token_type", "input"),)),
                (c.OUTPUT, "gen_ai_client_token_usage_sum", (("gen_ai_token_type", "output"),)))),
    CURRENT: Names(
        calls="gen_ai_client_inference_duration_seconds",
        first_chunk="gen_ai_client_inference_time_to_first_chunk_seconds",
        # Reasoning tokens (`..._reasoning_output_tokens_total`) are inside the output tokens: never read, never
        # counted twice.
        tokens=((c.INPUT, "gen_ai_client_inference_usage_input_tokens_total", ()),
                (c.OUTPUT, "gen_ai_client_inference_usage_output_tokens_total", ()),
                (c.CACHE_READ, "gen_ai_client_inference_usage_cache_read_input_tokens_total", ()),
                (c.CACHE_WRITE, "gen_ai_client_inference_usage_cache_write_input_tokens_total", ())),
        modality_label="gen_ai_token_modality"),
}
# What each `semconv` value reads, newest first.
READS = {LEGACY: (LEGACY,), CURRENT: (CURRENT,), BOTH: (CURRENT, LEGACY)}

SCHEMA = {
    "semconv": {
        # A bare 2026 in YAML is a number: accepted as the string.
        "enum": [LEGACY, CURRENT, BOTH, int(CURRENT)], "default": BOTH,
        "description": "Which generation of OTel GenAI metric names the service emits: legacy "
                       "(`gen_ai_client_operation_duration_seconds`, `gen_ai_client_token_usage`, `gen_ai_system`), "
                       "2026 (`gen_ai_client_inference_duration_seconds`, `gen_ai_client_inference_usage_*_tokens_total`, "
                       "`gen_ai_provider_name`) or both, for a fleet in transition: per emitter (`emitter_labels`), "
                       "provider and model (and bucket) the 2026 series win where present, so a process emitting "
                       "both is counted once and replicas not yet rolled out are counted too.",
    },
    "emitter_labels": {
        "type": "array", "items": {"type": "string"}, "minItems": 1,
        "maxItems": 8, "uniqueItems": True, "default": ["job", "instance"],
        "description": "Labels that tell one emitting process from another. With `semconv: both`, each emitter's "
                       "2026 series win over its own legacy ones (a process emitting both is counted once), and "
                       "the legacy series of an emitter with no 2026 series are read too (replicas not yet rolled "
                       "out). Series pushed through one OTel Collector all carry the collector's `instance`: name the "
                       "label that holds the process (e.g. `service_instance_id`).",
    },
    "operations": {
        "type": "string",
        "description": "Regex over `gen_ai_operation_name` of the calls that count as model calls. The duration "
                       "histogram also records embeddings, `execute_tool`, `invoke_agent` and `invoke_workflow`: "
                       "counted, an agent turn would be \"latency\" and one failed chat inside it two failures.",
        "default": "chat|generate_content|text_completion",
    },
    "rate_limit_error_types": {
        "type": "string",
        "description": "Regex over `error_type` that marks a call as rate limited (the status code, or the "
                       "exception name: openai and anthropic `RateLimitError`, google-genai gives `ClientError` for "
                       "every 4xx and `ResourceExhausted` in older SDKs).",
        "default": "429|.*[Rr]ate[Ll]imit.*|ResourceExhausted",
    },
    "provider_error_types": {
        "type": "string",
        "description": "Regex over `error_type` for failures charged to the provider (SLO accounting, SLA credit): "
                       "5xx, timeouts and connection errors, google-genai's `ServerError`. Client-side errors "
                       "(400, `BadRequestError`, `ClientError`) and safety blocks (`BLOCKED_<reason>`) still count "
                       "as failed calls but not as the provider's.",
        "default": "5..|timeout|.*(Timeout|Connection|InternalServer|ServiceUnavailable|Overloaded).*|ServerError",
    },
}


def source(service: str, metrics: dict) -> MetricSource:
    """The otel-genai metric source of one service: the generations `semconv` names, the newest preferred."""
    base = service_matchers(service, metrics)
    regex = {key: regex_option(metrics[key], ("spec", "metrics", key))
             for key in ("operations", "rate_limit_error_types", "provider_error_types")}
    reads = READS[str(metrics["semconv"])]
    sources = [_generation(GENERATIONS[name], service, base, regex, metrics) for name in reads]
    emitters = tuple(label_option(name, ("spec", "metrics", "emitter_labels", i))
                     for i, name in enumerate(metrics["emitter_labels"]))
    src = sources[-1]
    for newer in reversed(sources[:-1]):
        src = _preferring(newer, src, emitters)
    probes = tuple((name, Selector(names.calls + "_count", _model_calls(base, regex)))
                   for name, names in GENERATIONS.items())
    return replace(src, semconv=reads, semconv_probes=probes)


def _model_calls(base: tuple[Matcher, ...], regex: dict) -> tuple[Matcher, ...]:
    """The service's matchers and the model operations' (agents, tools and embeddings are not model calls)."""
    return base + (Matcher(OPERATION_LABEL, "=~", regex["operations"]),)


def _preferring(newer: MetricSource, older: MetricSource, emitters: tuple[str, ...]) -> MetricSource:
    """`newer`, reading `older`'s series where an emitter (told apart by `emitters`) has none of its own."""
    def counter(a: Counter, b: Counter) -> Counter:
        return replace(a, older=b, emitters=emitters)
    return replace(
        newer,
        requests=counter(newer.requests, older.requests),
        errors=counter(newer.errors, older.errors),
        rate_limited=counter(newer.rate_limited, older.rate_limited),
        provider_errors=counter(newer.provider_errors, older.provider_errors),
        latency=replace(newer.latency, buckets=counter(newer.latency.buckets, older.latency.buckets)),
        first_token=replace(newer.first_token, buckets=counter(newer.first_token.buckets, older.first_token.buckets)),
        tokens=replace(newer.tokens, older=older.tokens, emitters=emitters),
    )


def _generation(names: Names, service: str, base: tuple[Matcher, ...], regex: dict, metrics: dict) -> MetricSource:
    """The source reading one generation of names."""
    model_calls = _model_calls(base, regex)
    calls = Selector(names.calls + "_count", model_calls)

    def counter(selector: Selector) -> Counter:
        return Counter(selector, PROVIDER_LABELS, MODEL_LABEL)

    tokens = tuple((kind, counter(Selector(metric, model_calls + tuple(Matcher(k, "=", v) for k, v in extra))))
                   for kind, metric, extra in names.tokens)
    return MetricSource(
        preset=NAME,
        requests=counter(calls),
        errors=counter(calls.with_matchers(Matcher(ERROR_LABEL, "!=", ""))),
        rate_limited=counter(calls.with_matchers(Matcher(ERROR_LABEL, "=~", regex["rate_limit_error_types"]))),
        provider_errors=counter(calls.with_matchers(Matcher(ERROR_LABEL, "=~", regex["provider_error_types"]))),
        latency=Histogram(counter(calls.renamed(names.calls + "_bucket")), buckets_option(metrics, OTEL_DURATION_BUCKETS)),
        spend=None,
        tokens=Tokens(tokens, names.modality_label),
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
        # Time to the first chunk: recorded for streaming calls only, with the duration's buckets.
        first_token=Histogram(counter(Selector(names.first_chunk + "_bucket", model_calls)),
                              buckets_option(metrics, OTEL_DURATION_BUCKETS)),
    )
