"""LiteLLM as it emits: cooled-down deployments keep a provider outage going; 429 cooldowns alone page nobody.

Series are written by hand with the names and labels LiteLLM's own callback exports (`api_provider`,
`litellm_model_name`, `exception_status`; tests/fixtures/litellm.metrics.txt), and promtool runs the generated rules of
the search-answers example over them.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator import promtool

SERVICE = "search-answers"
TARGET = 'job="litellm-proxy", team_alias="search"'
MODEL = 'litellm_model_name="gemini-2.5-flash"'


def _series(metric: str, labels: str, values: str) -> dict:
    # Cooldowns are counted per deployment: LiteLLM gives them none of the caller's labels (team_alias), as
    # tests/fixtures/litellm.metrics.txt shows.
    target = 'job="litellm-proxy"' if metric == "litellm_deployment_cooled_down_total" else TARGET
    return {"series": f"{metric}{{{target}, {MODEL}, {labels}}}", "values": values}


def _firing(provider: str) -> str:
    return ('ALERTS{alertname="AIProviderDown", alertstate="firing", provider="%s", service="search-answers", '
            'severity="critical", signal="provider_down", team="search"}' % provider)


def _run(tmp_path: Path, out_dir: Path, series: list[dict], checks: list[dict]) -> promtool.Run:
    groups = ("sli", "provider_down")
    doc = {"rule_files": [str(out_dir / "rules" / f"{SERVICE}.{g}.rules.yml") for g in groups],
           "evaluation_interval": "1m", "group_eval_order": [f"oncallgen-{SERVICE}-{g}" for g in groups],
           "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}]}
    path = tmp_path / "litellm.test.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return promtool.test_rules(path)


@pytest.mark.proof
def test_a_provider_stays_down_while_litellm_keeps_cooling_its_deployments(tmp_path, out_dir) -> None:
    """Minutes 1-30: 600 calls a minute succeed on vertex_ai. 31-40: every one fails with a 503. From 41 LiteLLM has
    cooled the deployment down: the failures carry api_provider="", the provider's own counters are flat, and a
    cooldown is counted every minute until minute 55."""
    series = [
        _series("litellm_deployment_total_requests_total", 'api_provider="vertex_ai"', "0+600x40 24000x30"),
        _series("litellm_deployment_failure_responses_total", 'api_provider="vertex_ai", exception_status="503"',
                "0x30 600+600x9 6000x30"),
        _series("litellm_deployment_total_requests_total", 'api_provider=""', "0x40 600+600x29"),
        _series("litellm_deployment_failure_responses_total", 'api_provider="", exception_status="503"',
                "0x40 600+600x29"),
        _series("litellm_deployment_cooled_down_total", 'api_provider="vertex_ai", exception_status="503"',
                "0x40 1+1x14 15x15"),
    ]
    silent = {"expr": 'ALERTS{alertname="AIProviderDown", alertstate="firing", provider="gemini"}', "exp_samples": []}
    firing = {"expr": 'ALERTS{alertname="AIProviderDown", alertstate="firing", provider="gemini"}',
              "exp_samples": [{"labels": _firing("gemini"), "value": 1}]}
    checks = [
        {**silent, "eval_time": "30m"},
        {**firing, "eval_time": "36m"},
        # The provider's own series are flat from minute 41: only the cooldowns keep the page.
        {"expr": 'service_provider:ai_requests:rate2m{service="search-answers", provider="gemini"}', "eval_time": "50m",
         "exp_samples": [{"labels": 'service_provider:ai_requests:rate2m{provider="gemini", service="search-answers", '
                                    'team="search"}', "value": 0}]},
        {**firing, "eval_time": "50m"},
        # Cooldowns stopped at minute 55: the 2m window is clear of them by 58.
        {**silent, "eval_time": "60m"},
    ]
    run = _run(tmp_path, out_dir, series, checks)
    assert run.ok, run.output


@pytest.mark.proof
def test_cooldowns_without_an_outage_page_nobody(tmp_path, out_dir) -> None:
    """A 429 cools a deployment down too: with calls succeeding, a cooldown every minute starts no outage."""
    series = [
        _series("litellm_deployment_total_requests_total", 'api_provider="vertex_ai"', "0+600x60"),
        _series("litellm_deployment_failure_responses_total", 'api_provider="vertex_ai", exception_status="429"',
                "0+6x60"),
        _series("litellm_deployment_cooled_down_total", 'api_provider="vertex_ai", exception_status="429"', "0+1x60"),
    ]
    checks = [{"expr": 'ALERTS{alertname="AIProviderDown"}', "eval_time": f"{m}m", "exp_samples": []}
              for m in (5, 20, 45, 60)]
    run = _run(tmp_path, out_dir, series, checks)
    assert run.ok, run.output
