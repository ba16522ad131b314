"""Options every preset shares: which series belong to the service, eval results, probes, rollouts."""
from __future__ import annotations

from ..promql import Matcher, PromQLError, Selector, parse_matchers
from ..promql_fragments import PromQLTextError, check_regex, label_name
from ..spec.errors import FieldError
from ..spec.schema import unit
from .source import EvalSource

SCHEMA = {
    "scrape_interval": unit("duration", "How often Prometheus scrapes these metrics. Every rate window must span at "
                                        "least 2 scrapes (`spec.signals.provider_down.window` and the fixed 5m of "
                                        "the SLI series).", "15s"),
    "selector": {
        "type": "string",
        "description": "Label matchers that pick this service's series out of the source metrics, "
                       "e.g. `{job=\"support-assistant\"}`. Default: `{job=\"<metadata.name>\"}`.",
    },
    "buckets": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1, "maxItems": 64,
                "description": "Bucket boundaries (`le`, in seconds) of the latency histogram as the source exports "
                               "them: SDKs that ignore OTel's advisory buckets, and LiteLLM's `buckets` setting, "
                               "change them. Default: the preset's (otel-genai and custom: OTel GenAI's advisory "
                               "0.01 ... 81.92; litellm: LiteLLM's defaults; vllm: vLLM V1's 0.3 ... 7680)."},
    "eval": {
        "type": "object",
        "default": {},
        "description": "Where eval-suite results live. Default: the oncallgen eval convention "
                       "(`ai_eval_cases{service, suite, model, result}` and "
                       "`ai_eval_last_run_timestamp_seconds{service, suite, model}`).",
        "additionalProperties": False,
        "properties": {
            "cases": {"type": "string", "description": "Gauge selector: cases in the latest run by suite, model and result.",
                      "default": "ai_eval_cases"},
            "last_run": {"type": "string", "description": "Gauge selector: unix time of the latest run by suite and model.",
                         "default": "ai_eval_last_run_timestamp_seconds"},
            "suite_label": {"type": "string", "description": "Label naming the suite.", "default": "suite"},
            "model_label": {"type": "string", "description": "Label naming the model.", "default": "model"},
            "result_label": {"type": "string", "description": "Label holding the case result.", "default": "result"},
            "pass_value": {"type": "string", "description": "Result value of a passed case.", "default": "pass"},
            "fail_value": {"type": "string", "description": "Result value of a failed case.", "default": "fail"},
        },
    },
    "probe": {
        "type": "string",
        "description": "Selector of blackbox_exporter's `probe_success` for provider probes, e.g. "
                       "`probe_success{job=\"blackbox-llm\"}`; each provider names its `probe_target` (the `instance`). "
                       "Default: no probes.",
    },
    "deployment": {
        "type": "string",
        "description": "Selector of a gauge that changes on every rollout, e.g. "
                       "`kube_deployment_status_observed_generation{namespace=\"ai\", deployment=\"chat\"}`; "
                       "a change starts cache warming. Default: none.",
    },
}


def service_matchers(service: str, metrics: dict) -> tuple[Matcher, ...]:
    """The matchers that select this service's series (default `job="<service>"`)."""
    text = metrics.get("selector")
    if text is None:
        return (Matcher("job", "=", service),)
    try:
        return parse_matchers(text)
    except PromQLError as exc:
        raise FieldError(("spec", "metrics", "selector"), str(exc)) from None


def optional_selector(metrics: dict, key: str) -> Selector | None:
    """A selector option parsed at load time, or None when the spec leaves it out."""
    text = metrics.get(key)
    if text is None:
        return None
    try:
        return Selector.parse(text)
    except PromQLError as exc:
        raise FieldError(("spec", "metrics", key), str(exc)) from None


def label_option(value: str, path: tuple) -> str:
    """A label name from the spec, checked against Prometheus' label-name grammar."""
    try:
        return label_name(value)
    except PromQLTextError as exc:
        raise FieldError(path, str(exc)) from None


def regex_option(value: str, path: tuple) -> str:
    """A regex from the spec, checked for what Prometheus' RE2 engine accepts."""
    try:
        return check_regex(value)
    except PromQLTextError as exc:
        raise FieldError(path, str(exc)) from None


def buckets_option(metrics: dict, default: tuple[float, ...]) -> tuple[float, ...]:
    """The latency histogram's bucket boundaries: the spec's, strictly increasing, or the preset's default."""
    values = metrics.get("buckets")
    if values is None:
        return default
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            raise FieldError(("spec", "metrics", "buckets", i), f"expected boundaries in increasing order, got "
                                                                f"{values[i]:g} after {values[i - 1]:g}")
    return tuple(float(v) for v in values)


CONVENTION = {"cases": "ai_eval_cases", "last_run": "ai_eval_last_run_timestamp_seconds"}


def eval_source(service: str, metrics: dict) -> EvalSource:
    """The eval-results mapping. The convention's series carry a `service` label; a custom mapping is taken
    as written (its selectors must pick this service's results themselves)."""
    cfg = metrics["eval"]
    own = Matcher("service", "=", service)
    sels = {}
    for key in ("cases", "last_run"):
        try:
            sel = Selector.parse(cfg[key])
        except PromQLError as exc:
            raise FieldError(("spec", "metrics", "eval", key), str(exc)) from None
        if sel.metric == CONVENTION[key] and not any(m.name == "service" for m in sel.matchers):
            sel = sel.with_matchers(own)
        sels[key] = sel
    names = {key: label_option(cfg[key], ("spec", "metrics", "eval", key))
             for key in ("suite_label", "model_label", "result_label")}
    if cfg["pass_value"] == cfg["fail_value"]:
        raise FieldError(("spec", "metrics", "eval", "fail_value"), "expected a value other than pass_value")
    return EvalSource(sels["cases"], sels["last_run"], names["suite_label"], names["model_label"],
                      names["result_label"], cfg["pass_value"], cfg["fail_value"])
