"""Custom metrics: the spec names a selector per quantity, parsed when the spec is loaded."""
from __future__ import annotations

from ..promql import Matcher, PromQLError, Selector
from ..spec.errors import FieldError
from .source import OTEL_DURATION_BUCKETS, Counter, Histogram, MetricSource
from .common import buckets_option, eval_source, label_option, optional_selector, service_matchers

NAME = "custom"
_NEVER = Matcher("oncallgen_never", "=", "true")

_SELECTOR = {"type": "string", "description": "A PromQL selector of a counter, e.g. `my_llm_requests_total{app=\"chat\"}`."}
SCHEMA = {
    "requests": dict(_SELECTOR, description="Counter of all model calls (required with the custom preset)."),
    "errors": dict(_SELECTOR, description="Counter of failed calls (required with the custom preset)."),
    "rate_limited": dict(_SELECTOR, description="Counter of rate-limited calls. Default: none are."),
    "provider_errors": dict(_SELECTOR, description="Counter of failures charged to the provider. Default: `errors`."),
    "latency_buckets": dict(_SELECTOR, description="The `_bucket` counter of a latency histogram in seconds."),
    "spend_usd": dict(_SELECTOR, description="Counter of money spent, in USD."),
    "provider_label": {"type": "string", "description": "Label holding the provider.", "default": "provider"},
    "model_label": {"type": "string", "description": "Label holding the model.", "default": "model"},
}


def source(service: str, metrics: dict) -> MetricSource:
    """The custom metric source of one service; every selector is parsed here."""
    base = service_matchers(service, metrics)
    labels = ((label_option(metrics["provider_label"], ("spec", "metrics", "provider_label")),),
              label_option(metrics["model_label"], ("spec", "metrics", "model_label")))

    def counter(key: str, required: bool = False) -> Counter | None:
        text = metrics.get(key)
        if text is None:
            if required:
                raise FieldError(("spec", "metrics"), f'"{key}" is required with preset "custom"')
            return None
        try:
            sel = Selector.parse(text)
        except PromQLError as exc:
            raise FieldError(("spec", "metrics", key), str(exc)) from None
        return Counter(sel.with_matchers(*base), *labels)

    requests = counter("requests", required=True)
    errors = counter("errors", required=True)
    # Without a rate-limit counter, a selector no series can match keeps the rules uniform.
    rate_limited = counter("rate_limited") or Counter(errors.selector.with_matchers(_NEVER), *labels)
    bucket = counter("latency_buckets")
    return MetricSource(
        preset=NAME,
        requests=requests,
        errors=errors,
        rate_limited=rate_limited,
        provider_errors=counter("provider_errors") or errors,
        latency=Histogram(bucket, buckets_option(metrics, OTEL_DURATION_BUCKETS)) if bucket else None,
        spend=counter("spend_usd"),
        tokens=None,
        eval=eval_source(service, metrics),
        probe=optional_selector(metrics, "probe"),
        deployment=optional_selector(metrics, "deployment"),
    )
