"""OpenTelemetry GenAI semantic conventions, as the OTLP -> Prometheus exporters name them.

A call is one observation of `gen_ai_client_operation_duration_seconds`; it failed when `error_type` is set.
Tokens are `gen_ai_client_token_usage` observations split by `gen_ai_token_type`.
"""
from __future__ import annotations

from ..promql import Matcher, Selector
from .source import OTEL_DURATION_BUCKETS, Counter, Histogram, MetricSource, Tokens
from .common import buckets_option, eval_source, optional_selector, regex_option, service_matchers

NAME = "otel-genai"
PROVIDER_LABELS = ("gen_ai_provider_name", "gen_ai_system")  # the newer name wins when both are set
MODEL_LABEL = "gen_ai_request_model"

SCHEMA = {
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
    """The otel-genai metric source of one service."""
    base = service_matchers(service, metrics)
    regex = {key: regex_option(metrics[key], ("spec", "metrics", key))
             for key in ("operations", "rate_limit_error_types", "provider_error_types")}
    calls = Selector("gen_ai_client_operation_duration_seconds_count",
                     base + (Matcher("gen_ai_operation_name", "=~", regex["operations"]),))

    def counter(selector: Selector) -> Counter:
        return Counter(selector, PROVIDER_LABELS, MODEL_LABEL)

    return MetricSource(
        preset=NAME,
        requests=counter(calls),
        errors=counter(calls.with_matchers(Matcher("error_type", "!=", ""))),
        rate_limited=counter(calls.with_matchers(Matcher("error_type", "=~", regex["rate_limit_error_types"]))),
        provider_errors=counter(calls.with_matchers(Matcher("error_type", "=~", regex["provider_error_types"]))),
        latency=Histogram(counter(calls.renamed("gen_ai_client_operation_duration_seconds_bucket")), buckets_option(metrics, OTEL_DURATION_BUCKETS)),
        spend=None,
        tokens=Tokens(counter(Selector("gen_ai_client_token_usage_sum",
                                       base + (Matcher("gen_ai_operation_name", "=~", regex["operations"]),))),
                      "gen_ai_token_type", "input", "output"),
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
        # gen_ai.client.operation.time_to_first_chunk: recorded for streaming calls only, with the duration's buckets.
        first_token=Histogram(counter(calls.renamed("gen_ai_client_operation_time_to_first_chunk_seconds_bucket")),
                              buckets_option(metrics, OTEL_DURATION_BUCKETS)),
    )
