"""The generated Grafana dashboards: one per service and one per team, valid, readable by Grafana, and about their own
service only. That every panel's query runs and shows data on a real Prometheus is step 7 of `make e2e`."""
from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest

from generator.conventions import dashboard_uid as uid

SERVICES = ("contract-review", "internal-chat", "search-answers", "support-assistant")
# What marks a service's raw series in its spec's `spec.metrics.selector` (its recorded series carry `service=`).
OWN_RAW = {"contract-review": 'app="contract-review"', "internal-chat": 'job="vllm-llama"',
           "search-answers": 'team_alias="search"', "support-assistant": 'job="support-assistant"'}
TEAMS = ("legal-ai", "ml-platform", "search")


def _load(out_dir: Path, name: str) -> dict:
    return json.loads((out_dir / "dashboards" / f"{name}.json").read_text(encoding="utf-8"))


def test_every_service_and_team_has_a_dashboard_and_nothing_else_does(out_dir: Path) -> None:
    found = sorted(p.stem for p in (out_dir / "dashboards").iterdir())
    assert found == sorted([*SERVICES, *(f"team-{t}" for t in TEAMS)])


@pytest.mark.parametrize("name", [*SERVICES, *(f"team-{t}" for t in TEAMS)])
def test_a_dashboard_is_grafana_classic_json_on_a_clean_grid(out_dir: Path, name: str) -> None:
    d = _load(out_dir, name)
    assert d["uid"] == f"oncallgen-{name}" and len(d["uid"]) <= 40
    assert d["templating"]["list"][0] == {"name": "datasource", "label": "Prometheus", "type": "datasource",
                                          "query": "prometheus"}
    ids = [p["id"] for p in d["panels"]]
    assert ids == list(range(1, len(ids) + 1))
    cells = set()
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine
        if p["type"] == "timeseries":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for target in p["targets"]:
                promql_parser.parse(target["expr"])  # raises on anything Prometheus would refuse to parse


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_dashboard_reads_its_own_series_in_a_row_per_signal(out_dir: Path, services, name: str) -> None:
    d = _load(out_dir, name)
    exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", ())]
    # support-assistant's rollout gauge (`spec.metrics.deployment`) names its own deployment.
    rollout = 'namespace="support",deployment="support-assistant"'
    assert exprs and all(f'service="{name}"' in e or OWN_RAW[name] in e or rollout in e for e in exprs)
    rows = [p["title"] for p in d["panels"] if p["type"] == "row"]
    # Every active signal that pages or tickets has runbook queries; SLO accounting has no alert, so no row.
    assert rows == ["Alerts", *(s for s in services[name].active_signals if s != "slo")]
    assert d["annotations"]["list"][0]["expr"] == f'ALERTS{{service="{name}", alertstate="firing"}}'


def test_the_runbooks_link_their_service_dashboard(out_dir: Path) -> None:
    page = (out_dir / "runbooks" / "search-answers" / "ai-latency-p95-high.md").read_text(encoding="utf-8")
    assert "[Generated with these rules](../../dashboards/search-answers.json)" in page


def test_a_team_overview_graphs_its_on_call_health(out_dir: Path) -> None:
    exprs = [t["expr"] for p in _load(out_dir, "team-search")["panels"] for t in p.get("targets", ())]
    assert exprs == ['team:ai_pages:count1d{team="search"}', 'team:ai_pages:count1w{team="search"}',
                     'team:ai_pages_firing:count{team="search"}',
                     'sum by (service, alertname) (service_alertname:ai_pages:started{team="search"})']


def test_a_long_name_gets_a_stable_uid_within_grafanas_40_characters() -> None:
    name = "a" * 63
    assert len(uid(name)) <= 40 and uid(name) == uid(name) and uid(name) != uid("a" * 62)
    assert uid("chat") == "oncallgen-chat"


def _compiled(tmp_path: Path, runbooks: str) -> dict:
    """support-assistant's alert annotations (by alert) and its provider-down runbook, compiled with `runbooks`
    settings added to its spec."""
    import os
    import shutil

    from generator.pipeline import build
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "specs", tmp_path / "specs")
    spec = tmp_path / "specs" / "support-assistant.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "  runbooks:\n" in text
    text = re.sub(r"\n    dashboard_url: [^\n]*", "", text)  # its own, hand-made dashboard: left out here
    spec.write_text(text.replace("  runbooks:\n", "  runbooks:\n" + runbooks, 1), encoding="utf-8")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        files = build([Path("specs")]).files
    finally:
        os.chdir(old)
    import yaml
    rules = yaml.safe_load(files["rules/support-assistant.provider_down.rules.yml"])
    annotations = {r["alert"]: r["annotations"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    page = files["runbooks/support-assistant/ai-provider-down.md"]
    return {"annotations": annotations, "runbook": page}


def test_grafana_url_makes_the_generated_dashboard_the_default_dashboard_url(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, "    grafana_url: https://grafana.example.com/\n")
    want = "https://grafana.example.com/d/oncallgen-support-assistant"
    assert compiled["annotations"]["AIProviderDown"]["dashboard_url"] == want
    assert f"- [All providers and models]({want}?var-service=support-assistant&var-provider=%24__all&var-model=%24__all)" \
        in compiled["runbook"]


def test_an_explicit_dashboard_url_wins_over_grafana_url(tmp_path: Path) -> None:
    compiled = _compiled(tmp_path, "    grafana_url: https://grafana.example.com\n"
                                   "    dashboard_url: https://dash.example.com/d/mine\n")
    assert compiled["annotations"]["AIProviderDown"]["dashboard_url"] == "https://dash.example.com/d/mine"


def test_every_panel_query_parses_in_prometheus(out_dir: Path, tmp_path: Path) -> None:
    """Every panel's query (threshold panels print the compared part of a rule back from its syntax tree) as a
    recording rule of one file that the real `promtool check rules` accepts."""
    import yaml

    from generator import promtool
    exprs = sorted({t["expr"] for p in (out_dir / "dashboards").glob("*.json")
                    for panel in json.loads(p.read_text(encoding="utf-8"))["panels"] for t in panel.get("targets", [])})
    assert len(exprs) > 100
    rules = {"groups": [{"name": "panels", "rules": [{"record": f"panel:query:{i}", "expr": e}
                                                      for i, e in enumerate(exprs)]}]}
    path = tmp_path / "panels.rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    run = promtool.check_rules([path])
    assert run.ok, run.output


def _threshold_panels(out_dir: Path, service: str) -> dict[str, tuple[str, list]]:
    out = {}
    for panel in _load(out_dir, service)["panels"]:
        if "fieldConfig" in panel:
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "line"}
            out[panel["title"]] = (panel["targets"][0]["expr"], steps)
    return out


def test_threshold_panels_draw_the_specs_numbers_red_on_the_side_that_fires(out_dir: Path) -> None:
    """support-assistant's spec, by hand: error spike floor 2% (`floor: 2%`), provider down below a 50% success ratio
    with over 0.05 calls/s, rate limiting at 5% of calls, eval pass ratio floor 80%, cost anomaly at 5x its
    1,200 USD/day... each alert's comparisons with a number become a panel with that line."""
    panels = _threshold_panels(out_dir, "support-assistant")
    own = 'service="support-assistant"'
    assert panels["AIErrorRateSpike: > 0.02"] == (
        f"service:ai_errors:ratio_rate5m{{{own}}}", [{"color": "green", "value": None}, {"color": "red", "value": 0.02}])
    assert panels["AIProviderDown: < 0.5"] == (
        f"service_provider:ai_requests:success_ratio_rate2m{{{own}}}",
        [{"color": "red", "value": None}, {"color": "green", "value": 0.5}])
    assert panels["AIRateLimitEngaged: > 0.05"][0] == f"service:ai_rate_limited:ratio_rate5m{{{own}}}"
    assert panels["AIEvalRegression: < 0.8"][0] == f"service_suite_model:ai_eval_pass:ratio{{{own}}}"


def test_a_number_on_the_left_is_read_as_the_same_comparison() -> None:
    from generator.dashboards import thresholds
    assert thresholds('0.5 > x and y{le=~"10(\\\\.0*)?"} >= 2 or z == 1') == [("x{}", "<", 0.5), ('y{le=~"10(\\\\.0*)?"}', ">=", 2.0)]
