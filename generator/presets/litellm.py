"""LiteLLM proxy metrics.

Outages are read from request and failure counters, never from `litellm_deployment_state`, which is
last-write-wins across proxy replicas and hides a provider that fails on some of them. Once LiteLLM cools a
deployment down, its later failures carry `api_provider=""`: `litellm_deployment_cooled_down_total` keeps the
provider's outage going (see provider_down). Failures with a 401 or an invalid-key message are not counted at all:
a revoked key makes the service go quiet, which `traffic_stopped` catches.
"""
from __future__ import annotations

from ..promql import Matcher, Selector
from .source import Counter, Histogram, MetricSource
from .common import buckets_option, eval_source, optional_selector, regex_option, service_matchers

NAME = "litellm"
PROVIDER_LABELS = ("api_provider",)
MODEL_LABEL = "litellm_model_name"
# LiteLLM's default latency buckets (seconds), as exported for litellm_llm_api_latency_metric.
LATENCY_BUCKETS = (0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5,
                   6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0, 240.0,
                   300.0)

SCHEMA = {
    "rate_limit_statuses": {
        "type": "string",
        "description": "Regex over `exception_status` that marks a failure as rate limited.",
        "default": "429",
    },
    "provider_error_statuses": {
        "type": "string",
        "description": "Regex over `exception_status` for failures charged to the provider.",
        "default": "5..|408",
    },
}


def source(service: str, metrics: dict) -> MetricSource:
    """The LiteLLM metric source of one service."""
    base = service_matchers(service, metrics)
    regex = {key: regex_option(metrics[key], ("spec", "metrics", key)) for key in ("rate_limit_statuses", "provider_error_statuses")}
    failures = Selector("litellm_deployment_failure_responses_total", base)

    def counter(selector: Selector, model_label: str = MODEL_LABEL) -> Counter:
        return Counter(selector, PROVIDER_LABELS, model_label)

    return MetricSource(
        preset=NAME,
        requests=counter(Selector("litellm_deployment_total_requests_total", base)),
        errors=counter(failures),
        rate_limited=counter(failures.with_matchers(Matcher("exception_status", "=~", regex["rate_limit_statuses"]))),
        provider_errors=counter(failures.with_matchers(Matcher("exception_status", "=~", regex["provider_error_statuses"]))),
        latency=Histogram(counter(Selector("litellm_llm_api_latency_metric_bucket", base), "model"), buckets_option(metrics, LATENCY_BUCKETS)),
        spend=Counter(Selector("litellm_spend_metric_total", base), (), "model"),
        tokens=None,
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
        fallbacks_ok=Selector("litellm_deployment_successful_fallbacks_total", base),
        fallbacks_failed=Selector("litellm_deployment_failed_fallbacks_total", base),
        cooldowns=counter(Selector("litellm_deployment_cooled_down_total", base)),
    )
