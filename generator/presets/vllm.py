"""vLLM's own metrics (V1 engine), for models the team serves itself.

vLLM records every finished request in `vllm:request_success_total{finished_reason}` (stop, length, abort; newer
versions add error): a request is a call, and one that finished as `abort` or `error` failed. There is no provider
to fail over to and no 429: an overloaded engine queues instead, which the `capacity` signal reads from
`vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` and `vllm:num_preemptions_total`. Series carry `model_name`
and `engine`; all of a service's traffic belongs to its one provider (the serving pool).
"""
from __future__ import annotations

from ..promql import Matcher, Selector
from .common import buckets_option, eval_source, optional_selector, regex_option, service_matchers
from .source import Counter, Histogram, MetricSource, Saturation

NAME = "vllm"
MODEL_LABEL = "model_name"
# vLLM V1's bucket boundaries of vllm:e2e_request_latency_seconds (vllm/v1/metrics/loggers.py).
E2E_LATENCY_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
                       480.0, 960.0, 1920.0, 7680.0)
# ... and of vllm:time_to_first_token_seconds.
FIRST_TOKEN_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                       40.0, 80.0, 160.0, 640.0, 2560.0)
_NEVER = Matcher("oncallgen_never", "=", "true")  # vLLM answers no 429: it queues

SCHEMA = {
    "failed_finished_reasons": {
        "type": "string",
        "description": "Regex over `finished_reason` of `vllm:request_success_total` that marks a request as failed.",
        "default": "abort|error",
    },
}


def source(service: str, metrics: dict) -> MetricSource:
    """The vLLM metric source of one service."""
    base = service_matchers(service, metrics)
    failed = regex_option(metrics["failed_finished_reasons"], ("spec", "metrics", "failed_finished_reasons"))
    finished = Selector("vllm:request_success_total", base)

    def counter(selector: Selector) -> Counter:
        return Counter(selector, (), MODEL_LABEL)

    errors = counter(finished.with_matchers(Matcher("finished_reason", "=~", failed)))
    return MetricSource(
        preset=NAME,
        requests=counter(finished),
        errors=errors,
        rate_limited=counter(finished.with_matchers(_NEVER)),
        provider_errors=errors,
        latency=Histogram(counter(Selector("vllm:e2e_request_latency_seconds_bucket", base)),
                          buckets_option(metrics, E2E_LATENCY_BUCKETS)),
        spend=None,
        tokens=None,
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
        first_token=Histogram(counter(Selector("vllm:time_to_first_token_seconds_bucket", base)), FIRST_TOKEN_BUCKETS),
        saturation=Saturation(
            waiting=Selector("vllm:num_requests_waiting", base),
            running=Selector("vllm:num_requests_running", base),
            kv_cache_usage=Selector("vllm:kv_cache_usage_perc", base),
            preemptions=Selector("vllm:num_preemptions_total", base),
        ),
    )
