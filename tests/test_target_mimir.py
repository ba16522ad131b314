"""Grafana Mimir, as it behaves: namespace files (our JSON Schema, the real promtool, the plain groups split to the
rules-per-group limit), the tenant's Alertmanager configuration (no `*_file` field; filled by the real envsubst,
checked and routed by the real amtool), the pipeline alerts over Mimir's own series (the real promtool), the
tenant budget and its overrides.
"""
from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from generator import amtool, promtool
from tests.targets_support import errors, generate, load, plain_groups, schema


# ---- Mimir ----------------------------------------------------------------------------------------------------

@pytest.mark.proof
def test_mimir_namespace_files_match_the_schema_and_pass_promtool(tree: Path, tmp_path: Path) -> None:
    validator = schema("mimir-namespace")
    extracted = []
    for path in sorted(p for p in tree.glob("mimir/*/*.yaml") if p.name != "alertmanager.yaml"):
        doc = load(path)
        assert not errors(validator, doc), (path, errors(validator, doc))
        assert doc["namespace"] == path.stem
        names = [g["name"] for g in doc["groups"]]
        assert len(names) == len(set(names)), f"{path}: Mimir refuses two groups of one name in a namespace"
        if doc["namespace"] != "oncallgen":
            plain = plain_groups(tree, doc["namespace"])  # the same rules, split pieces joined again
            joined = _joined(doc["groups"])
            assert sorted(joined) == sorted(plain)
            for name, group in joined.items():
                assert sorted(map(yaml.safe_dump, group["rules"])) == sorted(map(yaml.safe_dump, plain[name]["rules"]))
                assert {k: v for k, v in group.items() if k != "rules"} == \
                    {k: v for k, v in plain[name].items() if k != "rules"}
        target = tmp_path / f"{path.parent.name}.{path.stem}.yml"
        target.write_text(yaml.safe_dump({"groups": doc["groups"]}, sort_keys=False), encoding="utf-8")
        extracted.append(target)
    assert extracted
    run = promtool.check_rules(extracted)
    assert run.ok, run.output


def _joined(groups: list[dict]) -> dict[str, dict]:
    """Split groups (`<name>`, `<name>-part2`, ...) joined again (rules in the pieces' order)."""
    out: dict[str, dict] = {}
    for g in groups:
        name = re.sub(r"-part[0-9]+$", "", g["name"])
        out.setdefault(name, {**g, "name": name, "rules": []})["rules"] += g["rules"]
    return out


def _rule_order(tree: Path, service: str) -> dict[str, list[str]]:
    return {name: [yaml.safe_dump(r) for r in g["rules"]] for name, g in plain_groups(tree, service).items()}


def test_no_mimir_group_exceeds_mimirs_limit_and_rules_that_read_each_other_stay_together(tree: Path) -> None:
    """Mimir's default limit, 20 rules per group: contract-review's SLI group (30 rules) is split in two; every
    piece holds at most 20, every rule is in exactly one piece, and with this limit no rule reads a series
    recorded in another piece of its group (so nothing lags). legal-ai: contract-review's 13 groups, one more for
    the split, and the tenant's own (Watchdog, on-call health): 15, written as its runtime overrides."""
    for path in sorted(p for p in tree.glob("mimir/*/*.yaml") if p.name not in ("alertmanager.yaml",)):
        doc = load(path)
        assert max(len(g["rules"]) for g in doc["groups"]) <= 20, path
        if doc["namespace"] == "oncallgen":
            continue
        order = _rule_order(tree, doc["namespace"])
        for piece in doc["groups"]:
            base = re.sub(r"-part[0-9]+$", "", piece["name"])
            positions = [order[base].index(yaml.safe_dump(r)) for r in piece["rules"]]
            assert positions == sorted(positions), f"{piece['name']}: rules keep their order"
            recorded_elsewhere = {r["record"] for other in doc["groups"] if other is not piece
                                  and re.sub(r"-part[0-9]+$", "", other["name"]) == base
                                  for r in other["rules"] if "record" in r}
            for rule in piece["rules"]:
                assert not any(name in rule["expr"] for name in recorded_elsewhere), (piece["name"], rule)
    legal = load(tree / "mimir/legal-ai/contract-review.yaml")
    assert [(g["name"], len(g["rules"])) for g in legal["groups"] if "-sli" in g["name"]] == [
        ("oncallgen-contract-review-sli", 20), ("oncallgen-contract-review-sli-part2", 10)]
    overrides = load(tree / "mimir/runtime-overrides.yaml")["overrides"]
    assert overrides["legal-ai"] == {"ruler_max_rule_groups_per_tenant": 15, "ruler_max_rules_per_rule_group": 20}


def test_a_tenant_above_mimirs_group_limit_is_told_to_set_the_override() -> None:
    from generator.targets.mimir import Tenant

    groups = tuple({"name": f"g{i}", "rules": [{"record": "x", "expr": "1"}] * (1 + i % 3)} for i in range(71))
    tenant = Tenant("team-a", 20, (("svc", "specs/svc.yaml", groups),), ())
    assert tenant.report() == ("mimir tenant team-a: 71 rule groups (above Mimir's default of 70: set the override in "
                               "mimir/runtime-overrides.yaml), the largest 3 rules (limit 20)")
    assert "above" not in Tenant("team-a", 20, (("svc", "specs/svc.yaml", groups[:70]),), ()).report()


def test_a_smaller_limit_splits_further_and_states_the_lag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = generate(tmp_path, monkeypatch, ("contract-review.yaml", "    tenant: legal-ai",
                                               "    tenant: legal-ai\n    rules_per_group: 5"))
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("mimir tenant legal-ai:"))
    assert re.fullmatch(r"mimir tenant legal-ai: [0-9]+ rule groups, the largest 5 rules \(limit 5\); [0-9]+ reads "
                        r"across split groups lag \(see mimir/runtime-overrides.yaml\)", line), line
    # The service's namespace and the tenant's own (on-call health, split too once it holds over 5 rules).
    groups = [g for name in ("contract-review.yaml", "oncallgen.yaml")
              for g in load(tmp_path / "out/mimir/legal-ai" / name)["groups"]]
    assert max(len(g["rules"]) for g in groups) == 5
    overrides = (tmp_path / "out/mimir/runtime-overrides.yaml").read_text(encoding="utf-8")
    assert "ruler_max_rules_per_rule_group: 5" in overrides
    lags = [l for l in overrides.splitlines() if l.startswith("# legal-ai: ")]
    assert lags and all("up to one evaluation interval later than in one group" in l for l in lags)
    assert int(line.split("; ")[1].split(" ")[0]) == len(lags)
    # Each stated lag is a real read across pieces: the reading rule's piece does not record the series.
    by_name = {g["name"]: g for g in groups}
    for lag in lags:
        m = re.fullmatch(r"# legal-ai: (\S+): (\S+) reads (\S+) from (\S+), .*", lag)
        piece, _, series, source = m.groups()
        assert piece != source and any(r.get("record") == series for r in by_name[source]["rules"])
        assert not any(r.get("record") == series for r in by_name[piece]["rules"])


def _keys(data) -> list[str]:
    if isinstance(data, dict):
        return [k for k, v in data.items() for k in [k, *_keys(v)]]
    return [k for v in data for k in _keys(v)] if isinstance(data, list) else []


@pytest.mark.proof
def test_the_mimir_alertmanager_configuration_takes_secrets_as_placeholders(tree: Path, tmp_path: Path) -> None:
    """Mimir refuses every `*_file` secret field (pkg/alertmanager/api.go): none is left, each secret is a
    ${VARIABLE} listed next to the file, and the file, filled by the command written there (the real envsubst),
    passes amtool and routes a legal-ai page to legal-ai's PagerDuty with the value given."""
    configs = sorted(tree.glob("mimir/*/alertmanager.yaml"))
    assert [p.parent.name for p in configs] == sorted({p.parent.name for p in tree.glob("mimir/*/oncallgen.yaml")})
    for path in configs:
        text = path.read_text(encoding="utf-8")
        assert not [k for k in _keys(yaml.safe_load(text)) if k.endswith("_file")], path
        assert "/etc/alertmanager/secrets" not in text
        listed = (path.parent / "alertmanager.secrets").read_text(encoding="utf-8")
        variables = sorted(set(re.findall(r"\$\{([A-Z0-9_]+)\}", text)))
        assert variables and variables == sorted(re.findall(r"^\$\{([A-Z0-9_]+)\}", listed, re.M)), path
    # specs/oncall/legal-ai.yaml: pd-legal reads /etc/alertmanager/secrets/legal-ai-pd.
    tenant = tree / "mimir" / "legal-ai"
    listed = (tenant / "alertmanager.secrets").read_text(encoding="utf-8")
    assert "${SECRET_LEGAL_AI_PD}  # routing_key of legal-ai/pd-legal (in place of /etc/alertmanager/secrets/legal-ai-pd)" \
        in listed
    command = next(line for line in listed.splitlines() if "envsubst" in line)
    inner = re.search(r'envsubst "\$\((.*)\)"', command).group(1)  # the variables, as the file says to list them
    shell_format = subprocess.run(["sh", "-c", inner], cwd=tree, capture_output=True, text=True, check=True).stdout
    env = {**os.environ, **{v: f"https://test.invalid/value-{i}" for i, v in enumerate(re.findall(r"\$\{([A-Z0-9_]+)\}", listed))}}
    filled = subprocess.run(["envsubst", shell_format], input=(tenant / "alertmanager.yaml").read_text(encoding="utf-8"),
                            capture_output=True, text=True, check=True, env=env).stdout
    assert "{{ .CommonAnnotations.summary }}" in filled and "${" not in filled.split("\n", 1)[1]
    target = tmp_path / "alertmanager.yaml"
    target.write_text(filled, encoding="utf-8")
    assert amtool.check_config(target).ok
    config = yaml.safe_load(filled)
    pd = next(r for r in config["receivers"] if r["name"] == "legal-ai/pd-legal")
    assert pd["pagerduty_configs"][0]["routing_key"] == env["SECRET_LEGAL_AI_PD"]
    page = {"alertname": "AIProviderDown", "service": "contract-review", "severity": "critical",
            "signal": "provider_down", "team": "legal-ai"}
    assert amtool.route(target, page, ["legal-ai/pd-legal"]).ok


@pytest.mark.proof
def test_each_mimir_tenant_routes_its_teams_alerts_as_the_plain_configuration_does(everywhere: Path,
                                                                                     tmp_path: Path) -> None:
    """Every routing case of a team whose services are in the tenant (and the Watchdog and pipeline cases of the
    root) reaches, through the tenant's configuration with its placeholders filled, exactly the receivers the plain
    configuration sends it to. anonymous holds ml-platform's and search's services, legal-ai legal-ai's."""
    cases = load(everywhere / "alertmanager" / "routes.test.yml")["cases"]
    teams = {"anonymous": {"ml-platform", "search"}, "legal-ai": {"legal-ai"}}  # specs: deploy.tenant, by hand
    runs = []
    for tenant, mine in teams.items():
        text = (everywhere / "mimir" / tenant / "alertmanager.yaml").read_text(encoding="utf-8")
        path = tmp_path / f"{tenant}.yaml"
        path.write_text(re.sub(r"\$\{[A-Z0-9_]+\}", "https://test.invalid/secret", text), encoding="utf-8")
        assert amtool.check_config(path).ok
        chosen = [c for c in cases if c["labels"].get("team") in mine | {"oncallgen"}]
        assert len(chosen) > 20
        runs += [(path, c) for c in chosen]
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [(p.name, c["name"], r.output) for (p, c), r in
                  zip(runs, pool.map(lambda pc: amtool.route(pc[0], pc[1]["labels"], pc[1]["receivers"]), runs))
                  if not r.ok]
    assert not failed, failed[:3]


def test_a_mimir_tenant_gets_no_alert_on_series_it_cannot_have(tree: Path) -> None:
    for path in tree.glob("mimir/*/oncallgen.yaml"):
        doc = load(path)
        exprs = [r["expr"] for g in doc["groups"] for r in g["rules"]]
        assert any(r.get("alert") == "AIWatchdog" for g in doc["groups"] for r in g["rules"])
        assert not [e for e in exprs if 'job="prometheus"' in e or 'job="alertmanager"' in e
                    or "prometheus_" in e or "alertmanager_" in e], path


_META_TEST = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- interval: 1m
  input_series:
  - series: cortex_alertmanager_notifications_failed_total{job="mimir/alertmanager", user="legal-ai", integration="pagerduty"}
    values: 0x20 1x80
  - series: cortex_alertmanager_notifications_failed_total{job="mimir/alertmanager", user="someone-else", integration="slack"}
    values: 0x20 1x80
  - series: cortex_prometheus_rule_evaluation_failures_total{job="mimir/ruler", user="legal-ai", rule_group="contract-review;g"}
    values: 0x20 1x80
  - series: cortex_ruler_config_last_reload_successful{job="mimir/ruler", user="legal-ai", instance="ruler-0"}
    values: 1x20 0x40
  alert_rule_test:
  - {eval_time: 19m, alertname: AIAlertmanagerNotificationsFailing, exp_alerts: []}
  - eval_time: 29m
    alertname: AIAlertmanagerNotificationsFailing
    exp_alerts:
    - exp_labels: {alertname: AIAlertmanagerNotificationsFailing, integration: pagerduty, user: legal-ai,
                   service: alerting-pipeline, severity: critical, signal: alerting_pipeline, team: oncallgen}
  - {eval_time: 32m, alertname: AIAlertmanagerNotificationsFailing, exp_alerts: []}
  - {eval_time: 25m, alertname: AIRuleEvaluationFailing, exp_alerts: []}
  - eval_time: 26m
    alertname: AIRuleEvaluationFailing
    exp_alerts:
    - exp_labels: {rule_group: "contract-review;g", user: legal-ai, service: alerting-pipeline, severity: critical,
                   signal: alerting_pipeline, team: oncallgen}
  - {eval_time: 30m, alertname: AIPrometheusConfigReloadFailed, exp_alerts: []}
  - eval_time: 32m
    alertname: AIPrometheusConfigReloadFailed
    exp_alerts:
    - exp_labels: {user: legal-ai, service: alerting-pipeline, severity: warning, signal: alerting_pipeline,
                   team: oncallgen}
"""


@pytest.mark.proof
def test_mimir_pipeline_alerts_fire_on_the_series_mimir_exposes(out_dir: Path, tmp_path: Path) -> None:
    """Mimir's own series (names and labels from its ruler and Alertmanager metrics), as a meta-monitoring
    Prometheus scrapes them: a failed PagerDuty notification of tenant legal-ai pages, another tenant's does not;
    a failed rule evaluation pages after 5m; a rejected rules reload opens a ticket after 10m. Times by hand."""
    rules = load(out_dir / "mimir" / "oncallgen.meta-monitoring.rules.yml")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    test = yaml.safe_load(_META_TEST)
    for check in test["tests"][0]["alert_rule_test"]:  # annotations are checked by the plain tests; labels here
        for alert in check["exp_alerts"]:
            rule = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == check["alertname"])
            labels = {**alert["exp_labels"], "alertname": check["alertname"]}
            alert["exp_annotations"] = {k: v.replace("{{ $labels.user }}", labels["user"])
                                        .replace("{{ $labels.integration }}", labels.get("integration", ""))
                                        .replace("{{ $labels.rule_group }}", labels.get("rule_group", ""))
                                        for k, v in rule["annotations"].items()}
    path = tmp_path / "meta.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    run = promtool.test_rules(path)
    assert run.ok, run.output


def test_two_secret_files_that_would_share_a_mimir_placeholder_are_refused(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = generate(tmp_path, monkeypatch, ("oncall/legal-ai.yaml", "secrets/sre-pd}", "secrets/legal_ai-pd}"))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: specs/oncall/legal-ai.yaml:12:19: spec.receivers.pd-sre.pagerduty.routing_key_file: Mimir takes "
        "secrets as values, written as ${SECRET_LEGAL_AI_PD} placeholders, and \"/etc/alertmanager/secrets/legal_ai-pd\" "
        "would share ${SECRET_LEGAL_AI_PD} with \"/etc/alertmanager/secrets/legal-ai-pd\" "
        "(specs/oncall/legal-ai.yaml:10:19): rename one of the files"), result.stderr
    assert not (tmp_path / "out").exists()
