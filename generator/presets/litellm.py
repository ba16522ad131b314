"""LiteLLM proxy metrics.

Outages are read from request and failure counters, never from `litellm_deployment_state`, which is
last-write-wins across proxy replicas and hides a provider that fails on some of them. Once LiteLLM cools a
deployment down, its later failures carry `api_provider=""`: `litellm_deployment_cooled_down_total` keeps the
provider's outage going (see provider_down); it is counted per deployment, without the caller's labels
(`team_alias`...), so the service selector's matchers on those are dropped there. Failures with a 401 or an
invalid-key message are not counted at all: a revoked key makes the service go quiet, which `traffic_stopped` catches.
"""
from __future__ import annotations

from ..promql import Matcher, Selector
from .source import Counter, Histogram, MetricSource
from .common import buckets_option, eval_source, optional_selector, regex_option, service_matchers

NAME = "litellm"
PROVIDER_LABELS = ("api_provider",)
MODEL_LABEL = "litellm_model_name"
# Labels LiteLLM takes from the caller's key and request. Deployment-level series (cooldowns) carry none of them, so
# a service selector naming one (`team_alias="search"`) would match no cooldown at all: they are left out there.
REQUEST_LABELS = frozenset({"team_alias", "team", "hashed_api_key", "api_key_alias", "user", "user_email", "end_user",
                            "requested_model", "model_group", "org_id", "org_alias", "client_ip", "user_agent"})
# LiteLLM's default latency buckets (seconds) of litellm_llm_api_latency_metric (`LATENCY_BUCKETS` in
# litellm/types/integrations/prometheus.py, as tests/fixtures/litellm.metrics.txt shows them). Releases before 1.110
# used a finer list up to 300 s; `spec.metrics.buckets` declares those, or `litellm_settings.prometheus_latency_buckets`.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 420.0,
                   600.0)

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
        cooldowns=counter(Selector("litellm_deployment_cooled_down_total",
                                   tuple(m for m in base if m.name not in REQUEST_LABELS))),
    )
