"""OpenTelemetry GenAI semantic conventions, as the OTLP -> Prometheus exporters name them.

A call is one observation of `gen_ai_client_operation_duration_seconds`; it failed when `error_type` is set.
Tokens are `gen_ai_client_token_usage` observations split by `gen_ai_token_type`.
"""
from __future__ import annotations

from ..promql import Matcher, Selector
from .source import OTEL_DURATION_BUCKETS, Counter, Histogram, MetricSource, Tokens
from .common import eval_source, optional_selector, regex_option, service_matchers

NAME = "otel-genai"
PROVIDER_LABELS = ("gen_ai_provider_name", "gen_ai_system")  # the newer name wins when both are set
MODEL_LABEL = "gen_ai_request_model"

SCHEMA = {
    "rate_limit_error_types": {
        "type": "string",
        "description": "Regex over `error_type` that marks a call as rate limited.",
        "default": "429|.*[Rr]ate[Ll]imit.*",
    },
    "provider_error_types": {
        "type": "string",
        "description": "Regex over `error_type` for failures charged to the provider (SLO accounting, SLA credit).",
        "default": "5..|timeout|.*(Timeout|Connection|InternalServer|ServiceUnavailable|Overloaded).*",
    },
}


def source(service: str, metrics: dict) -> MetricSource:
    """The otel-genai metric source of one service."""
    base = service_matchers(service, metrics)
    regex = {key: regex_option(metrics[key], ("spec", "metrics", key)) for key in ("rate_limit_error_types", "provider_error_types")}
    calls = Selector("gen_ai_client_operation_duration_seconds_count", base)

    def counter(selector: Selector) -> Counter:
        return Counter(selector, PROVIDER_LABELS, MODEL_LABEL)

    return MetricSource(
        preset=NAME,
        requests=counter(calls),
        errors=counter(calls.with_matchers(Matcher("error_type", "!=", ""))),
        rate_limited=counter(calls.with_matchers(Matcher("error_type", "=~", regex["rate_limit_error_types"]))),
        provider_errors=counter(calls.with_matchers(Matcher("error_type", "=~", regex["provider_error_types"]))),
        latency=Histogram(counter(calls.renamed("gen_ai_client_operation_duration_seconds_bucket")), OTEL_DURATION_BUCKETS),
        spend=None,
        tokens=Tokens(counter(Selector("gen_ai_client_token_usage_sum", base)), "gen_ai_token_type", "input", "output"),
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
    )
