"""The presets against `/metrics` pages the real libraries produce (tests/fixtures/exporters.py).

Scenario series elsewhere are made from the presets' own selectors, so a wrong label would pass them. Here the series
come from the OpenTelemetry SDK's Prometheus exporter and from prometheus_client with vLLM's names: which of them a
preset selects is written by hand, and promtool runs the generated rules over them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.presets.source import MetricSource
from generator.promql import Selector
from tests.fixtures import exporters

ROOT = Path(__file__).resolve().parent.parent
# What Prometheus adds when it scrapes each example service's target (its job and instance).
TARGET = {"support-assistant": {"job": "support-assistant", "instance": "10.0.0.7:9464"},
          "internal-chat": {"namespace": "llm-serving", "job": "vllm-llama", "instance": "10.0.1.3:8000"},
          "search-answers": {"job": "litellm-proxy", "instance": "10.0.2.5:4000"}}
PAGES = {"support-assistant": exporters.OTEL_FILE, "internal-chat": exporters.VLLM_FILE,
         "search-answers": exporters.LITELLM_FILE}
# The OpenTelemetry GenAI pages by generation of names, and where each puts model calls and first chunks (written
# from the pages: the 2026 operation histogram keeps only the agent turn and the tool call).
OTEL_PAGES = {"legacy": exporters.OTEL_FILE, "2026": exporters.OTEL_2026_FILE}
CALLS = {"legacy": "gen_ai_client_operation_duration_seconds", "2026": "gen_ai_client_inference_duration_seconds"}
FIRST_CHUNK = {"legacy": "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
               "2026": "gen_ai_client_inference_time_to_first_chunk_seconds_bucket"}
AGENT_CALLS = "gen_ai_client_operation_duration_seconds"  # both generations: agents and tools are not model calls


def scraped(service: str, page: Path | None = None) -> list[tuple[str, dict[str, str]]]:
    """The fixture's series as Prometheus stores them: empty labels dropped, target labels added."""
    out = []
    for name, labels in exporters.series((page or PAGES[service]).read_text()):
        out.append((name, {**{k: v for k, v in labels.items() if v != ""}, **TARGET[service]}))
    return out


def selected(selector: Selector, series) -> list[dict[str, str]]:
    return [labels for name, labels in series if selector.matches(name, labels)]


def selectors(src: MetricSource) -> dict[str, Selector]:
    """Every raw selector a source reads (LiteLLM's fallback counters aside: the fixture has no fallback)."""
    out = {key: getattr(src, key).selector for key in ("requests", "errors", "rate_limited", "provider_errors")}
    if src.spend:
        out["spend"] = src.spend.selector
    if src.cooldowns:
        out["cooldowns"] = src.cooldowns.selector
    if src.latency:
        out["latency"] = src.latency.buckets.selector
    if src.first_token:
        out["first_token"] = src.first_token.buckets.selector
    if src.tokens:
        out.update({f"tokens.{kind}": ctr.selector for kind, ctr in src.tokens.counters})
    if src.saturation:
        out.update({f"saturation.{k}": getattr(src.saturation, k)
                    for k in ("waiting", "running", "kv_cache_usage", "preemptions")})
    return out


def _names(page: str) -> list:
    return sorted((name, tuple(sorted(labels))) for name, labels in exporters.series(page))


@pytest.mark.parametrize("path,make", [(exporters.OTEL_FILE, exporters.otel_genai_page),
                                       (exporters.OTEL_2026_FILE, exporters.otel_genai_2026_page),
                                       (exporters.VLLM_FILE, exporters.vllm_page)])
def test_regenerating_a_fixture_gives_the_same_series(path, make) -> None:
    """A library upgrade that renames a metric or a label fails here: run `python -m tests.fixtures.exporters`."""
    assert _names(make()) == _names(path.read_text())


def test_regenerating_the_litellm_fixture_gives_the_same_series() -> None:
    """LiteLLM is optional (a large package): `pip install litellm` to run this. Its metrics live in prometheus_client's
    default registry, once per interpreter: a fresh one makes the page."""
    pytest.importorskip("litellm")
    code = "from tests.fixtures.exporters import litellm_page; import sys; sys.stdout.write(litellm_page())"
    page = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=300).stdout
    assert _names(page) == _names(exporters.LITELLM_FILE.read_text())


@pytest.mark.parametrize("generation", sorted(OTEL_PAGES))
def test_otel_genai_counts_model_calls_only_and_classes_errors_as_emitted(services, generation) -> None:
    """The same calls under either generation of names; support-assistant reads both (semconv left out)."""
    series = scraped("support-assistant", OTEL_PAGES[generation])
    (src,) = [s for name, s in services["support-assistant"].source.generations() if name == generation]
    (other,) = [s for name, s in services["support-assistant"].source.generations() if name != generation]
    # The other generation's selectors match nothing here (in the 2026 page, the old histogram has agents only).
    assert [k for k, sel in selectors(other).items() if selected(sel, series)] == []

    def error_types(key: str) -> list[str]:
        return sorted(l["gen_ai_provider_name"] + ":" + l.get("error_type", "") + "/" + l["gen_ai_operation_name"]
                      for l in selected(getattr(src, key).selector, series))
    # Eleven chat and generate_content calls; the agent turn and the tool call are not model calls.
    assert error_types("requests") == [
        "anthropic:/chat", "anthropic:BadRequestError/chat", "anthropic:InternalServerError/chat",
        "anthropic:RateLimitError/chat", "gcp.gemini:/generate_content", "gcp.gemini:BLOCKED_SAFETY/generate_content",
        "gcp.gemini:ServerError/generate_content", "openai:/chat", "openai:BadRequestError/chat",
        "openai:InternalServerError/chat", "openai:RateLimitError/chat"]
    assert error_types("errors") == [
        "anthropic:BadRequestError/chat", "anthropic:InternalServerError/chat", "anthropic:RateLimitError/chat",
        "gcp.gemini:BLOCKED_SAFETY/generate_content", "gcp.gemini:ServerError/generate_content",
        "openai:BadRequestError/chat", "openai:InternalServerError/chat", "openai:RateLimitError/chat"]
    assert error_types("rate_limited") == ["anthropic:RateLimitError/chat", "openai:RateLimitError/chat"]
    # Safety blocks and bad requests fail the call but are not the provider's fault.
    assert error_types("provider_errors") == ["anthropic:InternalServerError/chat", "gcp.gemini:ServerError/generate_content",
                                              "openai:InternalServerError/chat"]
    assert len(selected(src.latency.buckets.selector, series)) == 11 * 15  # 14 advisory boundaries and +Inf
    tokens = {kind: sorted(l["gen_ai_provider_name"] + ":" + l.get("gen_ai_token_modality", "")
                           for l in selected(ctr.selector, series)) for kind, ctr in src.tokens.counters}
    if generation == "legacy":
        assert tokens == {"input": ["anthropic:", "openai:"], "output": ["anthropic:", "openai:"]}
    else:  # gemini's counts too, one of them for an image; cache counts where the provider reported them
        assert tokens == {"input": ["anthropic:text", "gcp.gemini:image", "gcp.gemini:text", "openai:text"],
                          "output": ["anthropic:text", "gcp.gemini:text", "openai:text"],
                          "cache_read": ["anthropic:text", "openai:text"], "cache_write": ["anthropic:text"]}
    assert len(selected(src.first_token.buckets.selector, series)) == 2 * 15  # two streaming chat calls


def test_litellm_reads_what_litellm_exposes(services) -> None:
    """Series of LiteLLM's own Prometheus callback: the search team's key called Gemini on Vertex AI and Claude on
    Bedrock (ok, 429, 503, 400 each); the router cooled the Vertex AI deployment down once."""
    series = scraped("search-answers")
    src = services["search-answers"].source

    def picked(key: str) -> list[str]:
        return sorted(l["api_provider"] + ":" + l.get("exception_status", "")
                      for l in selected(getattr(src, key).selector, series))
    assert picked("requests") == ["bedrock:", "vertex_ai:"]
    assert picked("errors") == ["bedrock:400", "bedrock:429", "bedrock:503", "vertex_ai:400", "vertex_ai:429",
                                "vertex_ai:503"]
    assert picked("rate_limited") == ["bedrock:429", "vertex_ai:429"]
    assert picked("provider_errors") == ["bedrock:503", "vertex_ai:503"]
    assert picked("cooldowns") == ["vertex_ai:503"]  # no team_alias on it: the selector must not ask for one
    assert sorted(l["model"] for l in selected(src.spend.selector, series)) == ["anthropic.claude-haiku-4-5",
                                                                               "gemini-2.5-flash"]
    les = sorted({float(l["le"]) for l in selected(src.latency.buckets.selector, series)})
    assert les == sorted(src.latency.boundaries) + [float("inf")]  # the preset's default buckets are LiteLLM's


def test_vllm_reads_what_vllm_exposes(services) -> None:
    series = scraped("internal-chat")
    src = services["internal-chat"].source
    assert sorted(l["finished_reason"] for l in selected(src.requests.selector, series)) == ["abort", "length", "stop"]
    assert [l["finished_reason"] for l in selected(src.errors.selector, series)] == ["abort"]
    assert selected(src.rate_limited.selector, series) == []  # vLLM queues rather than answer 429
    assert len(selected(src.latency.buckets.selector, series)) == 22  # 21 boundaries and +Inf
    assert len(selected(src.first_token.buckets.selector, series)) == 23  # 22 boundaries and +Inf
    for key in ("waiting", "running", "kv_cache_usage", "preemptions"):
        assert len(selected(getattr(src.saturation, key), series)) == 1, key


@pytest.mark.parametrize("service", sorted(PAGES))
def test_every_selector_of_a_preset_matches_its_fixture(services, service) -> None:
    """For otel-genai, each generation's selectors over its own page (the cache-write counter: the 2026 page has it)."""
    for generation, src in services[service].source.generations():
        page = OTEL_PAGES.get(generation, PAGES[service])
        missing = [k for k, sel in selectors(src).items()
                   if k != "rate_limited" and not selected(sel, scraped(service, page))]
        assert missing == [], generation


def test_a_preset_whose_selectors_match_nothing_in_the_fixture_is_caught(services) -> None:
    """The check above bites: the vLLM preset read against the OpenTelemetry page matches none of it."""
    src = services["internal-chat"].source
    series = [(n, {**l, **TARGET["internal-chat"]}) for n, l in scraped("support-assistant")]
    missing = [k for k, sel in selectors(src).items() if not selected(sel, series)]
    assert missing == sorted(selectors(src), key=list(selectors(src)).index)


def _series_text(name: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _input(service: str, values: dict[tuple[str, tuple], str], default: str = "0x90",
           pages: tuple[Path, ...] = ()) -> list[dict]:
    """Every scraped series of the fixture (of each of `pages`, once); `values` (by name and a label subset) picks
    their promtool values."""
    out, seen = [], set()
    for name, labels in [x for page in pages for x in scraped(service, page)] or scraped(service):
        if _series_text(name, labels) in seen:
            continue
        seen.add(_series_text(name, labels))
        value = default
        for (want, subset), v in values.items():
            if name == want and all(labels.get(k) == x for k, x in subset):
                value = v(labels) if callable(v) else v
        out.append({"series": _series_text(name, labels), "values": value})
    return out


def _buckets(per_minute: int, phases: list[tuple[int, float]]):
    """The values of one `_bucket` series (chosen by its `le`) when `per_minute` calls take each phase's seconds."""
    def values(labels: dict[str, str]) -> str:
        le = float(labels["le"])
        parts, total = [], 0
        for i, (minutes, seconds) in enumerate(phases):
            step = per_minute if seconds <= le else 0
            if i == 0:
                parts.append(f"0+{step}x{minutes}")
            else:
                parts.append(f"{total + step}+{step}x{minutes - 1}")
            total += step * minutes
        return " ".join(parts)
    return values


def _run(tmp_path: Path, out_dir: Path, service: str, groups: tuple[str, ...], test: dict) -> promtool.Run:
    """promtool over `test` with the service's rule files of `groups` from `out_dir`."""
    files = [str(out_dir / "rules" / f"{service}.{g}.rules.yml") for g in groups]
    doc = {"rule_files": files, "evaluation_interval": "1m",
           "group_eval_order": [f"oncallgen-{service}-{g}" for g in groups], "tests": [test]}
    path = tmp_path / f"{service}.fixture.test.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return promtool.test_rules(path)


def _firing(alertname: str, **labels: str) -> str:
    return _series_text("ALERTS", {"alertname": alertname, "alertstate": "firing", **labels})


def _model_calls(generation: str, per_minute: int = 600) -> dict[tuple[str, tuple], str]:
    """The promtool values of model calls under one generation of names, `per_minute / 600` of the hand-set traffic:
    anthropic chat 600 ok and 60 rate limited, then from minute 30 2400 server errors; gemini 120 ok, 60
    safety-blocked, 60 server errors."""
    count = CALLS[generation] + "_count"
    chat, gen = ("gen_ai_operation_name", "chat"), ("gen_ai_operation_name", "generate_content")
    anthropic = ("gen_ai_provider_name", "anthropic")  # openai's series stay at 0
    def per(n: int) -> int:
        assert n * per_minute % 600 == 0, "whole calls a minute"
        return n * per_minute // 600
    return {(count, (chat, anthropic, ("error_type", None))): f"0+{per(600)}x90",
            (count, (chat, anthropic, ("error_type", "RateLimitError"))): f"0+{per(60)}x90",
            (count, (chat, anthropic, ("error_type", "InternalServerError"))): f"0x30 0+{per(2400)}x59",
            (count, (gen, ("error_type", None))): f"0+{per(120)}x90",
            (count, (gen, ("error_type", "BLOCKED_SAFETY"))): f"0+{per(60)}x90",
            (count, (gen, ("error_type", "ServerError"))): f"0+{per(60)}x90"}


AGENT_TURNS = {(AGENT_CALLS + "_count", (("gen_ai_operation_name", "invoke_agent"),)): "0+6000x90",
               (AGENT_CALLS + "_count", (("gen_ai_operation_name", "execute_tool"),)): "0+6000x90"}


def _call_checks(own: str, summed: bool = False) -> list[dict]:
    """What the hand-set traffic of `_model_calls` records and pages, per second, whichever names carry it (to the
    thousandth where `summed` over replicas: thirds of a rate add up with float noise)."""
    def r(expr: str) -> str:
        return f"round({expr}, 0.001)" if summed else expr
    return [
        {"expr": r(f"sum by (provider) (service_provider_model:ai_requests:rate5m{{{own}}})"), "eval_time": "20m",
         "exp_samples": [{"labels": '{provider="anthropic"}', "value": 11},
                         {"labels": '{provider="gcp.gemini"}', "value": 4},
                         {"labels": '{provider="openai"}', "value": 0}]},
        {"expr": r(f"sum by (provider) (service_provider_model:ai_errors:rate5m{{{own}}})"), "eval_time": "20m",
         "exp_samples": [{"labels": '{provider="anthropic"}', "value": 1},
                         {"labels": '{provider="gcp.gemini"}', "value": 2},
                         {"labels": '{provider="openai"}', "value": 0}]},
        {"expr": r(f"sum by (provider) (service_provider_model:ai_rate_limited:rate5m{{{own}}})"), "eval_time": "20m",
         "exp_samples": [{"labels": '{provider="anthropic"}', "value": 1},
                         {"labels": '{provider="gcp.gemini"}', "value": 0},
                         {"labels": '{provider="openai"}', "value": 0}]},
        # The hour ending at 70m holds 39 minutes of 2400 server errors (from minute 32): 39 * 2400 / 3600.
        {"expr": r(f"sum by (provider) (service_provider_model:ai_provider_errors:rate1h{{{own}}})"), "eval_time": "70m",
         "exp_samples": [{"labels": '{provider="anthropic"}', "value": 26},
                         {"labels": '{provider="gcp.gemini"}', "value": 1},
                         {"labels": '{provider="openai"}', "value": 0}]},
        # Silent before the outage, and for gemini (a third of its calls fail, under the 50% bound) throughout.
        {"expr": 'ALERTS{alertname="AIProviderDown", alertstate="firing"}', "eval_time": "29m", "exp_samples": []},
        {"expr": 'ALERTS{alertname="AIProviderDown", alertstate="firing", escalation=""}', "eval_time": "40m",
         "exp_samples": [{"labels": _firing("AIProviderDown", provider="anthropic", service="support-assistant",
                                            severity="critical", signal="provider_down", team="ml-platform"),
                          "value": 1}]},
    ]


@pytest.mark.proof
@pytest.mark.parametrize("generations", [("legacy",), ("2026",), ("legacy", "2026")], ids="+".join)
def test_otel_genai_rules_over_the_sdk_series(tmp_path, out_dir, generations) -> None:
    """The hand-set calls of `_model_calls`, and 6000 agent turns and 6000 tool calls a minute that are not model
    calls. Expected values are those numbers per second, under either generation of names, and under both at once (a
    service emitting both counts each call once)."""
    values = dict(AGENT_TURNS)
    for generation in generations:
        values.update(_model_calls(generation))
    test = {"interval": "1m",
            "input_series": _input("support-assistant", values, pages=tuple(OTEL_PAGES[g] for g in generations)),
            "promql_expr_test": _call_checks('service="support-assistant"')}
    run = _run(tmp_path, out_dir, "support-assistant", ("sli", "provider_down"), test)
    assert run.ok, run.output


def _on_instance(series: list[dict], instance: str) -> list[dict]:
    """`series` as scraped from one replica (its `instance` label in place of the fixture's target's)."""
    out = []
    for s in series:
        text, n = re.subn(r'instance="[^"]*"', f'instance="{instance}"', s["series"])
        assert n == 1, text
        out.append({"series": text, "values": s["values"]})
    return out


@pytest.mark.proof
def test_a_rollout_between_generations_counts_every_replica(tmp_path, out_dir) -> None:
    """A rollout under way: three replicas share the same hand-set traffic, a third each. replica-a still emits only
    the legacy names, replica-b only the 2026 ones, replica-c both at once. Every call is counted once: the totals
    are those of one service emitting the whole traffic (a preference per provider and model, not per replica,
    would drop replica-a's calls and read 2/3 of each figure)."""
    series = []
    for instance, generations in (("replica-a", ("legacy",)), ("replica-b", ("2026",)),
                                  ("replica-c", ("legacy", "2026"))):
        values = {}
        for generation in generations:
            values.update(_model_calls(generation, per_minute=200))
        series += _on_instance(_input("support-assistant", values, pages=tuple(OTEL_PAGES[g] for g in generations)),
                               instance)
    test = {"interval": "1m", "input_series": series, "promql_expr_test": _call_checks('service="support-assistant"', summed=True)}
    run = _run(tmp_path, out_dir, "support-assistant", ("sli", "provider_down"), test)
    assert run.ok, run.output


@pytest.mark.proof
def test_vllm_rules_over_its_series(tmp_path, out_dir) -> None:
    """Requests per minute (hand-set): 540 stopped, 60 aborted; the queue holds 3 requests, then 20 from minute 31."""
    success = "vllm:request_success_total"
    values = {
        (success, (("finished_reason", "stop"),)): "0+540x90",
        (success, (("finished_reason", "abort"),)): "0+60x90",
        ("vllm:num_requests_waiting", ()): "3x30 20x60",
        ("vllm:kv_cache_usage_perc", ()): "0.42x90",
    }
    own = 'service="internal-chat"'
    model = "meta-llama/Llama-3.1-8B-Instruct"
    test = {
        "interval": "1m",
        "input_series": _input("internal-chat", values),
        "promql_expr_test": [
            {"expr": f"sum by (provider, model) (service_provider_model:ai_requests:rate5m{{{own}}})", "eval_time": "20m",
             "exp_samples": [{"labels": f'{{model="{model}", provider="vllm-pool"}}', "value": 10}]},
            {"expr": f"sum by (provider, model) (service_provider_model:ai_errors:rate5m{{{own}}})", "eval_time": "20m",
             "exp_samples": [{"labels": f'{{model="{model}", provider="vllm-pool"}}', "value": 1}]},
            {"expr": f"service:ai_requests_waiting:max{{{own}}}", "eval_time": "20m",
             "exp_samples": [{"labels": 'service:ai_requests_waiting:max{service="internal-chat", team="ml-platform"}',
                              "value": 3}]},
            {"expr": 'ALERTS{alertname="AICapacityScaleOut", alertstate="firing"}', "eval_time": "30m", "exp_samples": []},
            {"expr": 'ALERTS{alertname="AICapacityScaleOut", alertstate="firing"}', "eval_time": "35m",
             "exp_samples": [{"labels": _firing("AICapacityScaleOut", remediation="scale_out", service="internal-chat",
                                                severity="info", signal="capacity", team="ml-platform"),
                              "value": 1}]},
        ],
    }
    run = _run(tmp_path, out_dir, "internal-chat", ("sli", "capacity"), test)
    assert run.ok, run.output


@pytest.mark.proof
@pytest.mark.parametrize("generations", [("legacy",), ("2026",), ("legacy", "2026")], ids="+".join)
def test_otel_genai_latency_over_the_sdk_series(tmp_path, out_dir, generations) -> None:
    """600 chat calls a minute take 0.5s, then 30s from minute 31; 6000 agent turns a minute take 9s throughout and
    must not count. Streaming chats reach their first chunk in 0.3s. p95 by hand, interpolated in the OTel buckets:
    0.5s -> 0.32 + 0.95 * (0.64 - 0.32) = 0.624; 30s -> 20.48 + 0.95 * (40.96 - 20.48) = 39.936;
    0.3s -> 0.16 + 0.95 * (0.32 - 0.16) = 0.312."""
    chat, ok = ("gen_ai_operation_name", "chat"), ("error_type", None)
    anthropic = ("gen_ai_provider_name", "anthropic")  # openai's series stay at 0
    agent = (("gen_ai_operation_name", "invoke_agent"),)
    values = {
        (AGENT_CALLS + "_count", agent): "0+6000x90",
        (AGENT_CALLS + "_bucket", agent): _buckets(6000, [(90, 9)]),
    }
    for generation in generations:
        calls = CALLS[generation]
        values.update({
            (calls + "_count", (chat, anthropic, ok)): "0+600x90",
            (calls + "_bucket", (chat, anthropic, ok)): _buckets(600, [(30, 0.5), (60, 30)]),
            (FIRST_CHUNK[generation], (chat, anthropic)): _buckets(600, [(90, 0.3)]),
        })
    own = 'service="support-assistant", team="ml-platform"'
    p95 = f"service:ai_request_duration_seconds:p95_rate5m{{{own}}}"
    first = f"service:ai_time_to_first_token_seconds:p95_rate5m{{{own}}}"
    page = 'ALERTS{alertname="AILatencyP95High", alertstate="firing", escalation=""}'
    test = {
        "interval": "1m",
        "input_series": _input("support-assistant", values, pages=tuple(OTEL_PAGES[g] for g in generations)),
        "promql_expr_test": [
            {"expr": p95, "eval_time": "20m", "exp_samples": [{"labels": p95, "value": 0.624}]},
            {"expr": first, "eval_time": "20m", "exp_samples": [{"labels": first, "value": 0.312}]},
            {"expr": page, "eval_time": "30m", "exp_samples": []},
            {"expr": p95, "eval_time": "45m", "exp_samples": [{"labels": p95, "value": 39.936}]},
            {"expr": page, "eval_time": "46m",
             "exp_samples": [{"labels": _firing("AILatencyP95High", service="support-assistant", severity="critical",
                                                signal="latency", team="ml-platform"), "value": 1}]},
        ],
    }
    run = _run(tmp_path, out_dir, "support-assistant", ("sli", "provider_down", "latency", "first_token_latency"), test)
    assert run.ok, run.output


@pytest.mark.proof
def test_vllm_latency_and_first_token_over_its_series(tmp_path, out_dir) -> None:
    """600 requests a minute take 1.2s end to end, then 40s from minute 31; the first token comes after 0.3s, then 6s.
    p95 by hand in vLLM's buckets: 1.2s -> 1 + 0.95 * 0.5 = 1.475; 40s -> 30 + 0.95 * 10 = 39.5 (every call slower
    than 30s, 3x the 10s SLO); first token 0.3s -> 0.25 + 0.95 * 0.25 = 0.4875; 6s -> 5 + 0.95 * 2.5 = 7.375 (every
    call slower than 5s, the first-token buckets' boundary at or above 3x the 1s SLO: 3s lies between 2.5 and 5)."""
    stop = (("finished_reason", "stop"),)
    values = {
        ("vllm:request_success_total", stop): "0+600x90",
        ("vllm:e2e_request_latency_seconds_bucket", ()): _buckets(600, [(30, 1.2), (60, 40)]),
        ("vllm:time_to_first_token_seconds_bucket", ()): _buckets(600, [(30, 0.3), (60, 6)]),
    }
    own = 'service="internal-chat", team="ml-platform"'
    p95 = f"service:ai_request_duration_seconds:p95_rate5m{{{own}}}"
    first = f"service:ai_time_to_first_token_seconds:p95_rate5m{{{own}}}"

    def firing(alertname: str, signal: str) -> dict:
        return {"expr": f'ALERTS{{alertname="{alertname}", alertstate="firing", escalation=""}}', "eval_time": "46m",
                "exp_samples": [{"labels": _firing(alertname, service="internal-chat", severity="critical",
                                                   signal=signal, team="ml-platform"), "value": 1}]}
    test = {
        "interval": "1m",
        "input_series": _input("internal-chat", values),
        "promql_expr_test": [
            {"expr": p95, "eval_time": "20m", "exp_samples": [{"labels": p95, "value": 1.475}]},
            {"expr": first, "eval_time": "20m", "exp_samples": [{"labels": first, "value": 0.4875}]},
            {"expr": 'ALERTS{alertstate="firing"}', "eval_time": "30m", "exp_samples": []},
            {"expr": p95, "eval_time": "45m", "exp_samples": [{"labels": p95, "value": 39.5}]},
            {"expr": first, "eval_time": "45m", "exp_samples": [{"labels": first, "value": 7.375}]},
            firing("AILatencyP95High", "latency"),
            firing("AIFirstTokenP95High", "first_token_latency"),
        ],
    }
    run = _run(tmp_path, out_dir, "internal-chat", ("sli", "provider_down", "latency", "first_token_latency"), test)
    assert run.ok, run.output


# Token counts per minute (hand-set, multiples of 60 so that per second they are whole): anthropic 540,000 input
# tokens (360,000 read from the cache, 60,000 written to it), 150,000 output (30,000 of them reasoning); gemini 240,000
# text and 120,000 image input tokens, 60,000 output. Everything else stays at 0.
_ANTHROPIC, _GEMINI = ("gen_ai_provider_name", "anthropic"), ("gen_ai_provider_name", "gcp.gemini")
_TEXT, _IMAGE = ("gen_ai_token_modality", "text"), ("gen_ai_token_modality", "image")
_NEW = "gen_ai_client_inference_usage_"
TOKENS = {
    "legacy": {("gen_ai_client_token_usage_sum", (_ANTHROPIC, ("gen_ai_token_type", "input"))): "0+540000x30",
               ("gen_ai_client_token_usage_sum", (_ANTHROPIC, ("gen_ai_token_type", "output"))): "0+150000x30"},
    "2026": {(_NEW + "input_tokens_total", (_ANTHROPIC, _TEXT)): "0+540000x30",
             (_NEW + "cache_read_input_tokens_total", (_ANTHROPIC, _TEXT)): "0+360000x30",
             (_NEW + "cache_write_input_tokens_total", (_ANTHROPIC, _TEXT)): "0+60000x30",
             (_NEW + "output_tokens_total", (_ANTHROPIC, _TEXT)): "0+150000x30",
             (_NEW + "reasoning_output_tokens_total", (_ANTHROPIC, _TEXT)): "0+30000x30",
             (_NEW + "input_tokens_total", (_GEMINI, _TEXT)): "0+240000x30",
             (_NEW + "input_tokens_total", (_GEMINI, _IMAGE)): "0+120000x30",
             (_NEW + "output_tokens_total", (_GEMINI, _TEXT)): "0+60000x30"},
}


def _spend_test(pages: tuple[Path, ...], values: dict, expected: dict[str, float]) -> dict:
    """Spend per model in micro-USD per second (rounded: float noise in the sum of products aside)."""
    own = 'service="support-assistant", team="ml-platform"'
    return {"interval": "1m", "input_series": _input("support-assistant", values, "0x30", pages=pages),
            "promql_expr_test": [
                {"expr": f"round(service_model:ai_spend_usd:rate5m{{{own}}} * 1e6)", "eval_time": "20m",
                 "exp_samples": [{"labels": f'{{model="{m}", {own}}}', "value": v}
                                 for m, v in sorted(expected.items())]}]}


@pytest.mark.proof
@pytest.mark.parametrize("pages", [("legacy",), ("2026",), ("legacy", "2026")], ids="+".join)
def test_spend_is_the_same_under_either_generation_and_under_both_at_once(tmp_path, out_dir, pages) -> None:
    """support-assistant prices claude-sonnet-4-5 at 3 USD per million input and 15 per million output tokens, and
    gives no cache prices (a cached token costs an input token's). Per second: 9,000 input and 2,500 output tokens,
    27,000 + 37,500 = 64,500 USD per million = 0.0645 USD/s whichever names carry them; the 2026 cache counts are
    inside the input and the reasoning count inside the output, so they add nothing; gemini has no price, gpt-5 no tokens. Emitting both
    generations at once is still 0.0645, not twice that."""
    values = {k: v for g in pages for k, v in TOKENS[g].items()}
    test = _spend_test(tuple(OTEL_PAGES[g] for g in pages), values, {"claude-sonnet-4-5": 64500, "gpt-5": 0})
    run = _run(tmp_path, out_dir, "support-assistant", ("sli",), test)
    assert run.ok, run.output


@pytest.mark.proof
def test_spend_during_a_rollout_counts_every_replica(tmp_path, out_dir) -> None:
    """The tokens above, half from a replica still on the legacy names and half from one on the 2026 names: 0.0645
    USD/s as from one replica (a preference per model, not per replica, would read only the 2026 half, 0.03225)."""
    def halved(values: dict) -> dict:
        out = {}
        for key, text in values.items():
            (step,) = re.fullmatch(r"0\+(\d+)x30", text).groups()
            out[key] = f"0+{int(step) // 2}x30"
        return out
    series = []
    for instance, generation in (("replica-a", "legacy"), ("replica-b", "2026")):
        test = _spend_test((OTEL_PAGES[generation],), halved(TOKENS[generation]), {})
        series += _on_instance(test["input_series"], instance)
    test = _spend_test((), {}, {"claude-sonnet-4-5": 64500, "gpt-5": 0})
    test["input_series"] = series
    run = _run(tmp_path, out_dir, "support-assistant", ("sli",), test)
    assert run.ok, run.output


@pytest.mark.proof
def test_cache_reads_and_writes_are_priced_as_the_spec_says_and_other_modalities_left_out(tmp_path) -> None:
    """With cache prices (claude: read 0.3, write 3.75 USD per million) and a price for gemini (2 input, 12 output,
    text only). By hand, per second: claude (9,000 - 6,000 - 1,000) * 3 + 6,000 * 0.3 + 1,000 * 3.75 + 2,500 * 15
    = 6,000 + 1,800 + 3,750 + 37,500 = 49,050 USD per million = 0.04905 USD/s (reasoning inside the 2,500);
    gemini 4,000 * 2 + 1,000 * 12 = 20,000 -> 0.02 USD/s (its 2,000 image tokens/s have no price). Pricing images too
    adds 2,000 * 2 = 4,000 -> 0.024."""
    for modalities, gemini in (("[text]", 20000), ("[text, image]", 24000)):
        spec = (ROOT / "specs" / "support-assistant.yaml").read_text().replace(
            "    claude-sonnet-4-5: {input: 3, output: 15}\n",
            "    claude-sonnet-4-5: {input: 3, output: 15, cache_read: 0.3, cache_write: 3.75}\n"
            f"    gemini-2.5-pro: {{input: 2, output: 12, modalities: {modalities}}}\n")
        work = tmp_path / modalities.strip("[]").replace(", ", "-")
        (work / "specs").mkdir(parents=True)
        (work / "specs" / "s.yaml").write_text(spec.replace("    preset: otel-genai\n",
                                                            "    preset: otel-genai\n    semconv: 2026\n"))
        shutil.copytree(ROOT / "specs" / "oncall", work / "specs" / "oncall")
        result = subprocess.run([sys.executable, "-m", "generator", "generate", str(work / "specs"), "-o",
                                 str(work / "out")], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        test = _spend_test((OTEL_PAGES["2026"],), TOKENS["2026"], {"claude-sonnet-4-5": 49050, "gemini-2.5-pro": gemini,
                                                                     "gpt-5": 0})
        run = _run(work, work / "out", "support-assistant", ("sli",), test)
        assert run.ok, run.output
