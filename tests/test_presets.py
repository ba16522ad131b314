"""Metric presets: the selectors each one produces, and how the SLI group normalises their labels."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.presets import PRESETS
from generator.promql import Selector
from generator.sli import build as sli_group
from generator.spec.build import load_specs
from generator.synth import call_series
from generator.rules import Phase, Stream

ROOT = Path(__file__).resolve().parent.parent


def exprs(service) -> dict[str, str]:
    return {r.record: r.expr for r in sli_group(service).rules if r.record.endswith(("rate5m", "p95_rate5m"))}


def test_otel_genai_counts_calls_and_failures_from_the_duration_histogram(services) -> None:
    src = services["support-assistant"].source  # semconv left out: both generations, the 2026 names first
    assert src.semconv == ("2026", "legacy")
    new, old = src.requests.generations()
    assert str(new.selector) == ('gen_ai_client_inference_duration_seconds_count{job="support-assistant", '
                                 'gen_ai_operation_name=~"chat|generate_content|text_completion"}')
    assert str(old.selector) == ('gen_ai_client_operation_duration_seconds_count{job="support-assistant", '
                                 'gen_ai_operation_name=~"chat|generate_content|text_completion"}')
    assert all('error_type!=""' in str(g.selector) for g in src.errors.generations())
    assert [g.selector.metric for g in src.latency.buckets.generations()] == [
        "gen_ai_client_inference_duration_seconds_bucket", "gen_ai_client_operation_duration_seconds_bucket"]
    assert [g.selector.metric for g in src.first_token.buckets.generations()] == [
        "gen_ai_client_inference_time_to_first_chunk_seconds_bucket",
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket"]
    assert src.latency.boundaries[0] == 0.01 and src.latency.boundaries[-1] == 81.92
    new_tokens, old_tokens = src.tokens.generations()
    assert [(kind, ctr.selector.metric) for kind, ctr in new_tokens.counters] == [
        ("input", "gen_ai_client_inference_usage_input_tokens_total"),
        ("output", "gen_ai_client_inference_usage_output_tokens_total"),
        ("cache_read", "gen_ai_client_inference_usage_cache_read_input_tokens_total"),
        ("cache_write", "gen_ai_client_inference_usage_cache_write_input_tokens_total")]
    assert [(kind, str(ctr.selector).split(", ")[-1]) for kind, ctr in old_tokens.counters] == [
        ("input", 'gen_ai_token_type="input"}'), ("output", 'gen_ai_token_type="output"}')]


@pytest.mark.parametrize("semconv,metric", [("legacy", "gen_ai_client_operation_duration_seconds_count"),
                                            ("2026", "gen_ai_client_inference_duration_seconds_count"),
                                            ("'2026'", "gen_ai_client_inference_duration_seconds_count")])
def test_otel_genai_with_one_generation_reads_only_its_names(tmp_path, semconv, metric) -> None:
    service = _variant(tmp_path, "    preset: otel-genai\n", f"    preset: otel-genai\n    semconv: {semconv}\n")
    assert [g.selector.metric for g in service.source.requests.generations()] == [metric]
    rules = " ".join(r.expr for r in sli_group(service).rules)
    other = ({"gen_ai_client_operation_duration_seconds_count", "gen_ai_client_inference_duration_seconds_count"}
             - {metric}).pop()
    assert metric in rules and other not in rules


def test_otel_genai_with_both_reads_the_old_names_only_where_an_emitter_has_no_new_series(services, tmp_path) -> None:
    """Per emitter (job, instance), provider and model (and bucket for latency): `sum by (...) (new or on (...) old)`,
    never a sum over both (a process emitting both generations would count twice), never a preference per provider
    and model alone (a replica still on the old names would not count). The rollout itself runs in promtool in
    tests/test_fixtures.py."""
    ex = exprs(services["support-assistant"])
    for record, by, on in (
            ("service_provider_model:ai_requests:rate5m", "provider, model", "provider, model, job, instance"),
            ("service_model_le:ai_request_duration_seconds_bucket:rate5m", "model, le",
             "model, le, provider, job, instance")):
        expr = ex[record]
        new = expr.index("gen_ai_client_inference_duration_seconds")
        old = expr.index("gen_ai_client_operation_duration_seconds")
        assert expr.startswith(f"sum by ({by}) (") and new < expr.index(f" or on ({on}) ") < old, record
        assert expr.count(" or ") == 1, record
    spec = (ROOT / "specs" / "support-assistant.yaml").read_text().replace(
        "    preset: otel-genai\n", "    preset: otel-genai\n    emitter_labels: [service_instance_id]\n")
    (tmp_path / "s.yaml").write_text(spec)
    (service,) = load_specs([tmp_path / "s.yaml"]).services
    assert " or on (provider, model, service_instance_id) " in exprs(service)["service_provider_model:ai_requests:rate5m"]


def test_otel_genai_prefers_the_new_provider_label_and_accepts_the_old_one(services) -> None:
    expr = exprs(services["support-assistant"])["service_provider_model:ai_requests:rate5m"]
    # label_replace runs inside out: the older gen_ai_system first, the newer name last, so it wins when both are set.
    assert expr.index('"gen_ai_system"') < expr.index('"gen_ai_provider_name"')


def test_otel_genai_rate_limit_matcher_is_a_preset_default_the_spec_can_change(services, tmp_path) -> None:
    assert 'error_type=~"429|.*[Rr]ate[Ll]imit.*|ResourceExhausted"' in str(services["support-assistant"].source.rate_limited.selector)
    spec = (ROOT / "specs" / "support-assistant.yaml").read_text().replace(
        "    preset: otel-genai\n", "    preset: otel-genai\n    rate_limit_error_types: 'TooManyRequests'\n")
    (tmp_path / "s.yaml").write_text(spec)
    (service,) = load_specs([tmp_path / "s.yaml"]).services
    assert 'error_type=~"TooManyRequests"' in str(service.source.rate_limited.selector)


def test_litellm_reads_request_and_failure_counters_never_deployment_state(services) -> None:
    service = services["search-answers"]
    src = service.source
    assert src.requests.selector.metric == "litellm_deployment_total_requests_total"
    assert src.errors.selector.metric == "litellm_deployment_failure_responses_total"
    assert 'exception_status=~"429"' in str(src.rate_limited.selector)
    assert src.spend.selector.metric == "litellm_spend_metric_total"
    assert src.fallbacks_failed.metric == "litellm_deployment_failed_fallbacks_total"
    assert all("litellm_deployment_state" not in r.expr for r in sli_group(service).rules)


def test_a_provider_label_value_is_mapped_to_the_spec_name(services) -> None:
    # search-answers calls Gemini through vertex_ai: its series say api_provider="vertex_ai".
    expr = exprs(services["search-answers"])["service_provider_model:ai_requests:rate5m"]
    assert 'label_replace(' in expr and '"provider", "gemini", "provider", "vertex_ai"' in expr


def test_custom_selectors_are_parsed_and_scoped_to_the_service(services) -> None:
    src = services["contract-review"].source
    assert src.requests.selector == Selector.parse('llm_calls_total{app="contract-review", env="prod"}')
    assert src.requests.provider_labels == ("vendor",) and src.requests.model_label == "model_id"
    assert src.latency.boundaries == (0.5, 1, 2, 5, 10, 20, 30, 60)


def test_every_preset_is_registered_with_a_schema_and_a_source() -> None:
    assert set(PRESETS) == {"otel-genai", "litellm", "custom", "vllm"}
    for module in PRESETS.values():
        assert isinstance(module.SCHEMA, dict) and callable(module.source)


@pytest.mark.parametrize("name", ["support-assistant", "search-answers", "contract-review"])
def test_synthesised_series_tell_ok_failed_and_rate_limited_calls_apart(services, name) -> None:
    """Test input for any preset: each kind of call lands in series only the right selectors match."""
    service = services[name]
    src = service.source
    p = service.providers[0]
    stream = Stream(p.name, p.models[0], (Phase(10, ok=90, errors=10, rate_limited=4, provider_errors=3),))
    series = call_series(service, stream)
    totals = {"requests": 0.0, "errors": 0.0, "rate_limited": 0.0}
    for s in series:
        metric, labels = s.series.split("{", 1)
        pairs = dict(kv.split("=", 1) for kv in labels.rstrip("}").split(", "))
        pairs = {k: v.strip('"') for k, v in pairs.items()}
        last = float(s.values.split("+")[1].split("x")[0])  # the per-minute increment
        for key in totals:
            if getattr(src, key).selector.matches(metric, pairs):
                totals[key] += last
    assert totals == {"requests": 100.0, "errors": 10.0, "rate_limited": 4.0}


def _variant(tmp_path, old: str, new: str):
    spec = (ROOT / "specs" / "support-assistant.yaml").read_text()
    assert old in spec
    (tmp_path / "s.yaml").write_text(spec.replace(old, new))
    (service,) = load_specs([tmp_path / "s.yaml"]).services
    return service


def test_otel_genai_operations_are_a_preset_default_the_spec_can_change(tmp_path) -> None:
    service = _variant(tmp_path, "    preset: otel-genai\n", "    preset: otel-genai\n    operations: 'chat|embeddings'\n")
    assert str(service.source.requests.selector).endswith('gen_ai_operation_name=~"chat|embeddings"}')
    for generation in service.source.tokens.generations():
        assert all('gen_ai_operation_name=~"chat|embeddings"' in str(ctr.selector) for _, ctr in generation.counters)


def test_a_provider_label_value_may_be_several_values(tmp_path) -> None:
    service = _variant(tmp_path, "    - name: anthropic\n",
                       "    - name: anthropic\n      label_value: [anthropic, aws.bedrock]\n")
    expr = exprs(service)["service_provider_model:ai_requests:rate5m"]
    # Either value becomes provider="anthropic"; the dot is a literal, not "any character".
    assert '"provider", "anthropic", "provider", "anthropic|aws\\\\.bedrock"' in expr


def test_buckets_declared_in_the_spec_replace_the_preset_default(tmp_path) -> None:
    service = _variant(tmp_path, "    preset: otel-genai\n", "    preset: otel-genai\n    buckets: [0.005, 0.01, 0.025, 5, 20]\n")
    assert service.source.latency.boundaries == (0.005, 0.01, 0.025, 5, 20)


_LEGACY_SERIES = {"gen_ai_client_operation_duration_seconds_count", "gen_ai_client_operation_duration_seconds_bucket",
                  "gen_ai_client_operation_time_to_first_chunk_seconds_bucket", "gen_ai_client_token_usage_sum"}
_2026_SERIES = {"gen_ai_client_inference_duration_seconds_count", "gen_ai_client_inference_duration_seconds_bucket",
                "gen_ai_client_inference_time_to_first_chunk_seconds_bucket",
                "gen_ai_client_inference_usage_input_tokens_total", "gen_ai_client_inference_usage_output_tokens_total"}


@pytest.mark.parametrize("semconv,expected", [("legacy", _LEGACY_SERIES), ("2026", _2026_SERIES),
                                              ("both", _LEGACY_SERIES | _2026_SERIES)])
def test_scenario_series_are_written_in_the_names_the_service_emits(tmp_path, semconv, expected) -> None:
    """The generated promtool tests of a 2026 service carry 2026 names only; with both, every call is written under
    both generations at once (and each expected value must count it once)."""
    service = _variant(tmp_path, "    preset: otel-genai\n", f"    preset: otel-genai\n    semconv: {semconv}\n")
    p = service.providers[0]
    stream = Stream(p.name, p.models[0], (Phase(10, ok=90, errors=10, rate_limited=4, provider_errors=3,
                                                 input_tokens=6000, output_tokens=600),))
    assert {s.series.split("{")[0] for s in call_series(service, stream, latency=True)} == expected
