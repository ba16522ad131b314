"""prometheus-operator, Mimir and Thanos outputs: checked against our own JSON Schemas of what each system reads,
their rule groups by the real promtool, and the AlertmanagerConfig, turned into the plain configuration the
operator would merge, by the real amtool (check-config, and every alert and tier routed).

Two trees: the committed examples (targets asked per spec: search-answers on the operator and Thanos,
contract-review on Mimir) and every service on every target (`--target` for the run, as `make generate
TARGETS="operator mimir thanos"`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from generator import amtool, promtool
from generator.cli import main
from generator.pipeline import build
from generator.targets.files import write_tree
from tests import operator_emulation

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"
ALL_TARGETS = ("operator", "mimir", "thanos")


def _schema(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _errors(validator: jsonschema.Draft202012Validator, data: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


@pytest.fixture(scope="session")
def everywhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example service on every target."""
    base = tmp_path_factory.mktemp("targets")
    shutil.copytree(ROOT / "specs", base / "specs")
    old = os.getcwd()
    os.chdir(base)
    try:
        result = build([Path("specs")], ALL_TARGETS)
    finally:
        os.chdir(old)
    write_tree(base / "output", result.files)
    return base / "output"


@pytest.fixture(scope="session", params=["examples", "everywhere"])
def tree(request: pytest.FixtureRequest, out_dir: Path) -> Path:
    return out_dir if request.param == "examples" else request.getfixturevalue("everywhere")


def _plain_groups(out: Path, service: str) -> dict[str, dict]:
    """The groups of a service's plain rule files: the ones the promtool unit tests exercise."""
    return {g["name"]: g for f in sorted(out.glob(f"rules/{service}.*.rules.yml")) for g in _load(f)["groups"]}


# ---- which files each target writes -------------------------------------------------------------------------

def test_targets_asked_per_spec_write_only_those_services(out_dir: Path) -> None:
    written = sorted(p.relative_to(out_dir).as_posix() for d in ("kubernetes", "mimir") for p in (out_dir / d).rglob("*")
                     if p.is_file())
    assert written == [
        "kubernetes/monitoring/oncallgen-root.alertmanagerconfig.yaml",
        "kubernetes/monitoring/oncallgen.prometheusrule.yaml",
        "kubernetes/search-prod/search-answers.prometheusrule.yaml",
        "kubernetes/search-prod/search.alertmanagerconfig.yaml",
        "mimir/legal-ai/alertmanager.secrets",
        "mimir/legal-ai/alertmanager.yaml",
        "mimir/legal-ai/contract-review.yaml",
        "mimir/legal-ai/oncallgen.yaml",
        "mimir/oncallgen.meta-monitoring.rules.yml",
        "mimir/runtime-overrides.yaml",
    ]
    thanos = sorted(p.name for p in (out_dir / "thanos").iterdir())
    assert "oncallgen.oncall_health.thanos.yml" in thanos
    assert {n.split(".")[0] for n in thanos} == {"search-answers", "oncallgen"}
    assert thanos == sorted(p.name.replace(".rules.yml", ".thanos.yml") for p in (out_dir / "rules").iterdir()
                            if p.name.startswith(("search-answers.", "oncallgen.")))


def test_a_target_for_the_run_covers_every_service(everywhere: Path) -> None:
    mimir = sorted(p.relative_to(everywhere / "mimir").as_posix() for p in (everywhere / "mimir").rglob("*")
                   if p.is_file())
    assert mimir == ["anonymous/alertmanager.secrets", "anonymous/alertmanager.yaml", "anonymous/internal-chat.yaml",
                     "anonymous/oncallgen.yaml", "anonymous/search-answers.yaml", "anonymous/support-assistant.yaml",
                     "legal-ai/alertmanager.secrets", "legal-ai/alertmanager.yaml", "legal-ai/contract-review.yaml",
                     "legal-ai/oncallgen.yaml", "oncallgen.meta-monitoring.rules.yml", "runtime-overrides.yaml"]
    configs = sorted(p.relative_to(everywhere).as_posix() for p in everywhere.glob("kubernetes/*/*.alertmanagerconfig.yaml"))
    assert configs == ["kubernetes/legal-ai/legal-ai.alertmanagerconfig.yaml",
                       "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml",
                       "kubernetes/monitoring/oncallgen-root.alertmanagerconfig.yaml",
                       "kubernetes/search-prod/search.alertmanagerconfig.yaml"]


# ---- prometheus-operator: PrometheusRule --------------------------------------------------------------------

def test_prometheusrules_match_the_schema_and_their_groups_pass_promtool(tree: Path, tmp_path: Path) -> None:
    validator = _schema("prometheusrule")
    extracted = []
    for path in sorted(tree.glob("kubernetes/*/*.prometheusrule.yaml")):
        doc = _load(path)
        assert not _errors(validator, doc), (path, _errors(validator, doc))
        names = [g["name"] for g in doc["spec"]["groups"]]
        assert len(names) == len(set(names)), f"{path}: group names are the list's keys and must be unique"
        assert path.parent.name == doc["metadata"]["namespace"]
        target = tmp_path / f"{path.parent.name}.{path.stem}.yml"
        target.write_text(yaml.safe_dump({"groups": doc["spec"]["groups"]}, sort_keys=False), encoding="utf-8")
        extracted.append(target)
    assert len(extracted) >= 2
    run = promtool.check_rules(extracted)
    assert run.ok, run.output
    assert run.output.count("SUCCESS") == len(extracted)


def test_a_prometheusrule_holds_exactly_the_tested_plain_groups(tree: Path) -> None:
    """The tested groups, and one difference: a service's alerts carry its namespace (what the operator's default
    matcher strategy routes on); the shared rules in `monitoring` go to the root, unchanged."""
    for path in sorted(tree.glob("kubernetes/*/*.prometheusrule.yaml")):
        doc = _load(path)
        service, namespace = doc["metadata"]["name"], doc["metadata"]["namespace"]
        expected = _plain_groups(tree, service)
        if service != "oncallgen":
            for group in expected.values():
                for rule in group["rules"]:
                    if "alert" in rule:
                        assert "namespace" not in rule["labels"]
                        rule["labels"]["namespace"] = namespace
        assert {g["name"]: g for g in doc["spec"]["groups"]} == expected, path


def test_every_alert_of_a_service_carries_its_alertmanagerconfigs_namespace(out_dir: Path) -> None:
    # specs/search-answers.yaml: deploy.namespace search-prod; the search team's AlertmanagerConfig lives there.
    doc = _load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    alerts = [r for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r]
    records = [r for g in doc["spec"]["groups"] for r in g["rules"] if "record" in r]
    assert len(alerts) > 10 and records
    assert {r["labels"]["namespace"] for r in alerts} == {"search-prod"}
    assert not any("namespace" in r.get("labels", {}) for r in records), "recorded series keep their labels"
    assert _load(out_dir / "kubernetes/search-prod/search.alertmanagerconfig.yaml")["metadata"]["namespace"] == \
        "search-prod"


def test_prometheusrule_metadata_carries_the_selector_labels(out_dir: Path) -> None:
    doc = _load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "PrometheusRule"
    assert doc["metadata"] == {"name": "search-answers", "namespace": "search-prod",
                               "labels": {"app.kubernetes.io/managed-by": "oncallgen",
                                          "release": "kube-prometheus-stack"}}


def test_the_schema_refuses_what_the_operator_would(out_dir: Path) -> None:
    """The schema can fail: an unknown field, a bad duration and a rule that is both alert and record."""
    validator = _schema("prometheusrule")
    doc = _load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    assert not _errors(validator, doc)
    doc["spec"]["groups"][0]["evaluation_interval"] = "1m"
    alert = next(r for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r)
    alert["for"] = "ten minutes"
    alert["record"] = "x:y:z"
    problems = _errors(validator, doc)
    assert len(problems) == 3, problems
    assert any("evaluation_interval" in p for p in problems) and any("ten minutes" in p for p in problems)


# ---- prometheus-operator: AlertmanagerConfig ----------------------------------------------------------------

ROOT_CONFIG = "kubernetes/monitoring/oncallgen-root.alertmanagerconfig.yaml"


def _configs(tree: Path) -> list[dict]:
    """Every AlertmanagerConfig: the teams' and the root."""
    return [_load(p) for p in sorted(tree.glob("kubernetes/*/*.alertmanagerconfig.yaml"))]


def _team_configs(tree: Path) -> list[dict]:
    return [d for d in _configs(tree) if d["metadata"]["name"] != "oncallgen-root"]


def test_alertmanagerconfigs_match_the_schema(tree: Path) -> None:
    validator = _schema("alertmanagerconfig")
    docs = _configs(tree)
    assert docs
    for doc in docs:
        assert not _errors(validator, doc), _errors(validator, doc)
        text = yaml.safe_dump(doc)
        assert "_file" not in text and "/etc/alertmanager/secrets" not in text, "secrets only as secret key references"


def test_secrets_are_secret_key_references_named_after_the_mounted_files(out_dir: Path) -> None:
    # specs/oncall/search.yaml: api_key_file: /etc/alertmanager/secrets/search-opsgenie,
    #                           auth_password_file: /etc/alertmanager/secrets/smtp-password
    doc = _load(out_dir / "kubernetes/search-prod/search.alertmanagerconfig.yaml")
    receivers = {r["name"]: r for r in doc["spec"]["receivers"]}
    assert sorted(receivers) == ["automation", "opsgenie", "tickets"]
    assert receivers["opsgenie"]["opsgenieConfigs"][0]["apiKey"] == {"name": "search-opsgenie", "key": "api_key"}
    assert receivers["tickets"]["emailConfigs"][0]["authPassword"] == {"name": "smtp-password", "key": "auth_password"}
    assert doc["spec"]["route"]["matchers"] == [{"name": "team", "value": "search", "matchType": "="}]
    assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"


_AM_WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
_AM_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december"]


def _in_interval(ti: dict, t: datetime) -> bool:
    """Alertmanager's timeinterval semantics (no location: UTC), written here from its documentation: every field
    given must hold; lists are alternatives; ranges inclusive; times from start (inclusive) to end (exclusive)."""
    def within(text: str, names: list[str], value: int) -> bool:
        first, _, last = text.partition(":")
        index = lambda n: names.index(n) if n in names else int(n) - (0 if names is _AM_WEEKDAYS else 1)  # noqa: E731
        return index(first) <= value <= index(last or first)
    if "weekdays" in ti and not any(within(w, _AM_WEEKDAYS, (t.weekday() + 1) % 7) for w in ti["weekdays"]):
        return False
    if "months" in ti and not any(within(m, _AM_MONTHS, t.month - 1) for m in ti["months"]):
        return False
    if "daysOfMonth" in ti and not any(d["start"] <= t.day <= d["end"] for d in ti["daysOfMonth"]):
        return False
    minute = t.hour * 60 + t.minute
    return "times" not in ti or any(
        int(r["startTime"][:2]) * 60 + int(r["startTime"][3:]) <= minute < int(r["endTime"][:2]) * 60
        + int(r["endTime"][3:]) for r in ti["times"])


def test_business_hours_in_berlin_are_the_same_utc_instants_on_the_operator(everywhere: Path) -> None:
    """specs/oncall/ml-platform.yaml: Europe/Berlin, monday:friday, 09:00-18:00. v1alpha1 intervals have no
    location; the UTC intervals written instead hold at exactly the instants Berlin is in business hours."""
    doc = _load(everywhere / "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml")
    [interval] = doc["spec"]["muteTimeIntervals"]
    assert interval["name"] == "business-hours"
    hours = interval["timeIntervals"]
    is_open = lambda t: any(_in_interval(ti, t) for ti in hours)  # noqa: E731
    # By hand: summer time began on Sunday 2026-03-29, and ends on Sunday 2026-10-25 (01:00 UTC both).
    utc = timezone.utc
    assert not is_open(datetime(2026, 3, 27, 7, 30, tzinfo=utc))   # Friday, 08:30 CET
    assert is_open(datetime(2026, 3, 27, 8, 0, tzinfo=utc))        # Friday, 09:00 CET
    assert is_open(datetime(2026, 3, 27, 16, 59, tzinfo=utc))      # Friday, 17:59 CET
    assert not is_open(datetime(2026, 3, 27, 17, 0, tzinfo=utc))   # Friday, 18:00 CET
    assert is_open(datetime(2026, 3, 30, 7, 0, tzinfo=utc))        # Monday, 09:00 CEST
    assert not is_open(datetime(2026, 3, 30, 16, 0, tzinfo=utc))   # Monday, 18:00 CEST
    assert is_open(datetime(2026, 10, 23, 7, 0, tzinfo=utc))       # Friday, 09:00 CEST
    assert not is_open(datetime(2026, 10, 26, 7, 0, tzinfo=utc))   # Monday, 08:00 CET
    assert is_open(datetime(2026, 10, 26, 8, 0, tzinfo=utc))       # Monday, 09:00 CET
    assert not is_open(datetime(2026, 10, 24, 10, 0, tzinfo=utc))  # Saturday
    # Every quarter of an hour of three years, one of them a leap year, and one far ahead.
    berlin = ZoneInfo("Europe/Berlin")
    checked = 0
    for start in (datetime(2026, 1, 1, tzinfo=utc), datetime(2044, 1, 1, tzinfo=utc)):
        t = start
        while t < start.replace(year=start.year + (3 if start.year == 2026 else 1)):
            local = t.astimezone(berlin)
            expected = local.weekday() < 5 and 9 <= local.hour < 18
            assert is_open(t) == expected, (t, local)
            checked += 1
            t += timedelta(minutes=15)
    assert checked > 4 * 365 * 96


@pytest.mark.parametrize("zone, weekdays, start, end, allowed", [
    # UTC evenings into the next UTC day; datetime's weekdays (Monday 0) by hand
    ("America/Los_Angeles", ("monday:friday",), "09:00", "18:00", {0, 1, 2, 3, 4}),
    # summer time across the new year, and a day that ends at midnight
    ("Australia/Sydney", ("sunday", "tuesday:thursday"), "07:30", "24:00", {6, 1, 2, 3}),
])
def test_utc_intervals_hold_exactly_when_the_zone_is_in_business_hours(zone, weekdays, start, end, allowed) -> None:
    from generator.targets.utc_hours import utc_intervals

    hours = utc_intervals(zone, weekdays, start, end)
    lo = int(start[:2]) * 60 + int(start[3:])
    hi = int(end[:2]) * 60 + int(end[3:])
    local_zone, utc = ZoneInfo(zone), timezone.utc
    t = datetime(2027, 1, 1, tzinfo=utc)
    while t < datetime(2028, 1, 1, tzinfo=utc):
        local = t.astimezone(local_zone)
        expected = local.weekday() in allowed and lo <= local.hour * 60 + local.minute < hi
        assert any(_in_interval(ti, t) for ti in hours) == expected, (t, local)
        t += timedelta(minutes=15)


def test_business_hours_become_a_time_interval_the_ticket_route_uses(everywhere: Path) -> None:
    doc = _load(everywhere / "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml")
    assert doc["spec"]["muteTimeIntervals"][0]["name"] == "business-hours"
    tickets = [r for r in doc["spec"]["route"]["routes"]
               if {"name": "severity", "value": "warning", "matchType": "="} in r["matchers"]]
    assert [r.get("activeTimeIntervals") for r in tickets] == [["business-hours"]]


def test_the_root_config_holds_the_root_route_and_its_receivers_only(out_dir: Path) -> None:
    # specs/oncall/routing.yaml: fallback sre-catchall, heartbeat deadmans-switch.
    doc = _load(out_dir / ROOT_CONFIG)
    route = doc["spec"]["route"]
    assert route["receiver"] == "sre-catchall"
    assert "matchers" not in route and "continue" not in route, "the operator refuses both on the root route"
    # The heartbeat, and the alerting pipeline's own alerts (to the fallback: spec.pipeline names no receiver).
    assert [(r["receiver"], r["matchers"]) for r in route["routes"]] == [
        ("deadmans-switch", [{"name": "alertname", "value": "AIWatchdog", "matchType": "="}]),
        ("sre-catchall", [{"name": "signal", "value": "alerting_pipeline", "matchType": "="}])]
    assert sorted(r["name"] for r in doc["spec"]["receivers"]) == ["deadmans-switch", "sre-catchall"]
    assert doc["spec"]["receivers"][1]["slackConfigs"][0]["apiURL"] == {"name": "slack-sre-webhook", "key": "api_url"}
    assert doc["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "oncallgen"}


@pytest.fixture(scope="session")
def merged_config(everywhere: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root and every team's AlertmanagerConfig, as the plain configuration the operator would make of them."""
    path = tmp_path_factory.mktemp("operator") / "alertmanager.yml"
    config = operator_emulation.configuration(_load(everywhere / ROOT_CONFIG), _team_configs(everywhere))
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_amtool_accepts_the_equivalent_plain_configuration(merged_config: Path) -> None:
    run = amtool.check_config(merged_config)
    assert run.ok, run.output
    assert "SUCCESS" in run.output


def test_every_routing_case_reaches_the_same_receivers_through_the_operator(everywhere: Path,
                                                                            merged_config: Path) -> None:
    """Every routing case of the plain configuration (each alert and tier, the Watchdog, an alert of no known team,
    one without severity), with the labels the generated PrometheusRules give it: each reaches exactly the receivers
    the plain configuration sends it to, renamed as the operator names them, once."""
    namespaces = {d["metadata"]["name"]: d["metadata"]["namespace"] for d in _team_configs(everywhere)}
    root_name = "platform"  # specs/oncall/routing.yaml
    cases = _load(everywhere / "alertmanager" / "routes.test.yml")["cases"]
    assert len(cases) > 50 and any(c["labels"].get("escalation") == "secondary" for c in cases)
    assert any(c["receivers"][0].startswith(f"{root_name}/") for c in cases)

    def operator_name(receiver: str) -> str:
        owner, name = receiver.split("/", 1)
        return f"monitoring/oncallgen-root/{name}" if owner == root_name else f"{namespaces[owner]}/{owner}/{name}"

    # The namespace an alert carries is the one its PrometheusRule gives it (none for the shared rules).
    static = {(r["labels"]["service"], r["alert"]): r["labels"].get("namespace")
              for p in everywhere.glob("kubernetes/*/*.prometheusrule.yaml")
              for g in _load(p)["spec"]["groups"] for r in g["rules"] if "alert" in r}

    def route(case: dict) -> tuple[dict, amtool.Run]:
        labels = dict(case["labels"])
        namespace = static.get((labels.get("service"), labels["alertname"]))
        if labels["alertname"] == "HandWritten" and labels.get("team") in namespaces:
            namespace = namespaces[labels["team"]]  # a user's own alert for a team must carry it too (README)
        if namespace:
            labels["namespace"] = namespace
        return case, amtool.route(merged_config, labels, [operator_name(r) for r in case["receivers"]])

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        failed = [(c["name"], run.output) for c, run in pool.map(route, cases) if not run.ok]
    assert not failed, failed[:3]


def test_a_team_page_reaches_the_team_through_the_operators_namespace_matcher(everywhere: Path,
                                                                              merged_config: Path) -> None:
    """A page exactly as support-assistant's PrometheusRule labels it (its `sum by` keeps service, team and provider)
    reaches ml-platform's PagerDuty receiver through the route the operator scopes to `namespace="ml-platform"`;
    without the static namespace label it would fall to the root's fallback receiver."""
    rule = next(r for g in _load(everywhere / "kubernetes/ml-platform/support-assistant.prometheusrule.yaml")["spec"]
                ["groups"] for r in g["rules"] if r.get("alert") == "AIProviderDown")
    labels = {"alertname": "AIProviderDown", "provider": "openai", **rule["labels"]}
    assert labels["namespace"] == "ml-platform" and labels["severity"] == "critical"
    merged = _load(merged_config)
    team_route = next(r for r in merged["route"]["routes"] if r["receiver"].startswith("ml-platform/ml-platform/"))
    assert team_route["matchers"][-1] == 'namespace="ml-platform"' and team_route["continue"] is True
    # specs/oncall/ml-platform.yaml: primary pagerduty-primary; specs/oncall/routing.yaml: fallback sre-catchall.
    page = amtool.route(merged_config, labels, ["ml-platform/ml-platform/pagerduty-primary"])
    assert page.ok, page.output
    without = {k: v for k, v in labels.items() if k != "namespace"}
    fallback = amtool.route(merged_config, without, ["monitoring/oncallgen-root/sre-catchall"])
    assert fallback.ok, fallback.output


def test_without_the_namespace_label_a_page_falls_to_the_root(everywhere: Path, merged_config: Path) -> None:
    """The route check can fail: the operator's namespace matcher is real, so a page without it is not the team's."""
    case = next(c for c in _load(everywhere / "alertmanager" / "routes.test.yml")["cases"]
                if c["labels"].get("severity") == "critical" and "service" in c["labels"])
    assert not amtool.route(merged_config, case["labels"], [f"ml-platform/{case['receivers'][0]}"]).ok
    assert amtool.route(merged_config, case["labels"], ["monitoring/oncallgen-root/sre-catchall"]).ok


def test_inhibitions_mute_exactly_what_the_plain_configuration_mutes(everywhere: Path, merged_config: Path) -> None:
    """amtool's route test ignores inhibitions: evaluate them (tests/test_alertmanager.py's evaluator) for every
    pair of alerts of a team, with the providers a ProviderDown names, under both configurations."""
    from tests.test_alertmanager import muted

    namespaces = {d["metadata"]["name"]: d["metadata"]["namespace"] for d in _team_configs(everywhere)}
    plain = _load(everywhere / "alertmanager" / "alertmanager.yml")["inhibit_rules"]
    merged = _load(merged_config)["inhibit_rules"]
    providers = {"support-assistant": ["anthropic", "openai"], "search-answers": ["gemini", "bedrock"],
                 "contract-review": ["openai", "anthropic"], "internal-chat": ["vllm-pool"]}
    alerts = []
    for case in _load(everywhere / "alertmanager" / "routes.test.yml")["cases"]:
        labels = case["labels"]
        if "service" not in labels or labels.get("team") not in namespaces:  # pipeline alerts are the root's
            continue
        for provider in providers[labels["service"]] if labels["alertname"] == "AIProviderDown" else [None]:
            alerts.append({**labels, **({"provider": provider} if provider else {})})
    pairs = differ = mutes = 0
    for source in alerts:
        for target in alerts:
            if source["team"] != target["team"] or source is target:
                continue
            ns = {"namespace": namespaces[source["team"]]}
            before, after = muted(plain, source, target), muted(merged, {**source, **ns}, {**target, **ns})
            pairs += 1
            mutes += before
            differ += before != after
    assert pairs > 1000 and mutes > 20, (pairs, mutes)
    assert differ == 0


# ---- prometheus-operator: enforcedNamespaceLabel --------------------------------------------------------------

def test_enforcing_the_namespace_label_rewrites_every_selector_as_the_operator_does() -> None:
    """prom-label-proxy's enforcer (the operator's): a matcher on the label is replaced, bare names get one, label
    lists and strings stay."""
    expr = ('sum by (namespace) (rate(x{a="1", namespace="other"}[5m] offset 1d)) / on (a) group_left y unless '
            'max_over_time(w[1h:5m]) and label_replace(z{le=~"10(\\\\.0*)?"}, "dst", "$1", "src", "(.*)")')
    assert operator_emulation.enforce_selectors(expr, "namespace", "search-prod") == (
        'sum by (namespace) (rate(x{a="1", namespace="search-prod"}[5m] offset 1d)) / on (a) group_left '
        'y{namespace="search-prod"} unless max_over_time(w{namespace="search-prod"}[1h:5m]) and '
        'label_replace(z{le=~"10(\\\\.0*)?", namespace="search-prod"}, "dst", "$1", "src", "(.*)")')


def _selectors_namespaces(expr: str) -> list[list[str]]:
    """The values of the namespace matchers of every selector of `expr`, read by promql-parser."""
    import promql_parser

    found: list[list[str]] = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            found.append([m.value for m in node.matchers.matchers if m.name == "namespace"])
    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return found


# The signals whose tests run under enforcement (their default scrape interval only: promtool takes minutes on all).
ENFORCED_SIGNALS = ("provider_down", "latency", "traffic_stopped", "failover", "slo", "cost_anomaly", "model_routing")


def _enforced_unit_tests(tree: Path, base: Path, service: str, series_namespace: str, silent: bool) -> list[Path]:
    """The service's generated promtool unit tests, against its PrometheusRule as a Prometheus with
    `enforcedNamespaceLabel: namespace` loads it, with the input series in `series_namespace` (series that have
    a namespace of their own, Kubernetes objects', keep it). Alerts expect the rule's namespace label; `silent`:
    every alert expected not to fire. The recorded-sample checks are left out (recorded series gain the label)."""
    [path] = tree.glob(f"kubernetes/*/{service}.prometheusrule.yaml")
    rule = operator_emulation.enforce_namespace_label(_load(path))
    namespace = rule["metadata"]["namespace"]
    for r in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        assert all(values == [namespace] for values in _selectors_namespaces(r["expr"])), r["expr"]
    enforced = {g["name"]: g for g in rule["spec"]["groups"]}
    shutil.copytree(tree / "rules", base / "rules")
    for plain in tree.glob(f"rules/{service}.*.rules.yml"):
        groups = [enforced[g["name"]] for g in _load(plain)["groups"]]
        (base / "rules" / plain.name).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    out = []
    (base / "tests" / service).mkdir(parents=True)
    for source in sorted((tree / "tests" / service).glob("*.test.yml")):
        if source.name.split(".")[0] not in ENFORCED_SIGNALS or source.name.count(".") > 2:
            continue
        doc = _load(source)
        for test in doc["tests"]:
            for series in test["input_series"]:
                text = series["series"]
                if 'namespace="' not in text:
                    label = f'namespace="{series_namespace}"'
                    text = text[:-1] + f", {label}}}" if text.endswith("}") else f"{text}{{{label}}}"
                    series["series"] = text.replace("{, ", "{")
            for check in test.get("alert_rule_test", []):
                for alert in check.get("exp_alerts", []):
                    alert["exp_labels"] = {**alert["exp_labels"], "namespace": namespace}
                if silent:
                    check["exp_alerts"] = []
            test.pop("promql_expr_test", None)
        target = base / "tests" / service / source.name
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out.append(target)
    return out


def test_enforced_namespace_label_with_series_of_the_rules_namespace(out_dir: Path, tmp_path: Path) -> None:
    """search-answers' PrometheusRule in search-prod, its series labelled namespace="search-prod": every selector
    still matches, and the provider, failover, traffic, SLO and cost tests pass. The latency and model-routing
    alerts do not: the operator labels recorded series with the namespace, `sum by (...)` drops it, and the alert
    joins the two with a plain `and` (matching on every label), so it never fires. Documented in the README."""
    runs = {f.name: promtool.test_rules(f) for f in _enforced_unit_tests(out_dir, tmp_path, "search-answers",
                                                                          "search-prod", silent=False)}
    assert sorted(runs) == sorted(f"{s}.test.yml" for s in ENFORCED_SIGNALS)
    assert sorted(name for name, run in runs.items() if not run.ok) == ["latency.test.yml", "model_routing.test.yml"], \
        {n: r.output[:400] for n, r in runs.items() if not r.ok}
    failure = runs["latency.test.yml"].output
    assert "alertname: AILatencyP95High" in failure and "got:[]" in failure
    assert "alertname: AIModelDegraded" in runs["model_routing.test.yml"].output


def test_enforced_namespace_label_silences_a_service_reading_a_shared_proxy(out_dir: Path, tmp_path: Path) -> None:
    """search-answers reads the shared LiteLLM proxy (`job="litellm-proxy"`), whose series carry the proxy's
    namespace: once every selector asks for search-prod, each test passes only when told to expect silence, so
    every alert the tests expect to fire is lost, without an error."""
    expected_firing = sum(len(c.get("exp_alerts", [])) for f in (out_dir / "tests" / "search-answers").glob("*.test.yml")
                          if f.name.split(".")[0] in ENFORCED_SIGNALS and f.name.count(".") == 2
                          for t in _load(f)["tests"] for c in t.get("alert_rule_test", []))
    assert expected_firing > 10
    silent = _enforced_unit_tests(out_dir, tmp_path, "search-answers", "litellm", silent=True)
    failed = [(f.name, run.output) for f in silent if not (run := promtool.test_rules(f)).ok]
    assert not failed, failed[:2]


# ---- Mimir ----------------------------------------------------------------------------------------------------

def test_mimir_namespace_files_match_the_schema_and_pass_promtool(tree: Path, tmp_path: Path) -> None:
    validator = _schema("mimir-namespace")
    extracted = []
    for path in sorted(p for p in tree.glob("mimir/*/*.yaml") if p.name != "alertmanager.yaml"):
        doc = _load(path)
        assert not _errors(validator, doc), (path, _errors(validator, doc))
        assert doc["namespace"] == path.stem
        names = [g["name"] for g in doc["groups"]]
        assert len(names) == len(set(names)), f"{path}: Mimir refuses two groups of one name in a namespace"
        if doc["namespace"] != "oncallgen":
            plain = _plain_groups(tree, doc["namespace"])  # the same rules, split pieces joined again
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
    return {name: [yaml.safe_dump(r) for r in g["rules"]] for name, g in _plain_groups(tree, service).items()}


def test_no_mimir_group_exceeds_mimirs_limit_and_rules_that_read_each_other_stay_together(tree: Path) -> None:
    """Mimir's default limit, 20 rules per group: contract-review's SLI group (30 rules) is split in two; every
    piece holds at most 20, every rule is in exactly one piece, and with this limit no rule reads a series
    recorded in another piece of its group (so nothing lags). legal-ai: contract-review's 13 groups, one more for
    the split, and the tenant's own (Watchdog, on-call health): 15, written as its runtime overrides."""
    for path in sorted(p for p in tree.glob("mimir/*/*.yaml") if p.name not in ("alertmanager.yaml",)):
        doc = _load(path)
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
    legal = _load(tree / "mimir/legal-ai/contract-review.yaml")
    assert [(g["name"], len(g["rules"])) for g in legal["groups"] if "-sli" in g["name"]] == [
        ("oncallgen-contract-review-sli", 20), ("oncallgen-contract-review-sli-part2", 10)]
    overrides = _load(tree / "mimir/runtime-overrides.yaml")["overrides"]
    assert overrides["legal-ai"] == {"ruler_max_rule_groups_per_tenant": 15, "ruler_max_rules_per_rule_group": 20}


def test_a_tenant_above_mimirs_group_limit_is_told_to_set_the_override() -> None:
    from generator.targets.mimir import Tenant

    groups = tuple({"name": f"g{i}", "rules": [{"record": "x", "expr": "1"}] * (1 + i % 3)} for i in range(71))
    tenant = Tenant("team-a", 20, (("svc", "specs/svc.yaml", groups),), ())
    assert tenant.report() == ("mimir tenant team-a: 71 rule groups (above Mimir's default of 70: set the override in "
                               "mimir/runtime-overrides.yaml), the largest 3 rules (limit 20)")
    assert "above" not in Tenant("team-a", 20, (("svc", "specs/svc.yaml", groups[:70]),), ()).report()


def test_a_smaller_limit_splits_further_and_states_the_lag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _generate(tmp_path, monkeypatch, ("contract-review.yaml", "    tenant: legal-ai",
                                               "    tenant: legal-ai\n    rules_per_group: 5"))
    assert result.exit_code == 0, result.output
    line = next(l for l in result.output.splitlines() if l.startswith("mimir tenant legal-ai:"))
    assert re.fullmatch(r"mimir tenant legal-ai: [0-9]+ rule groups, the largest 5 rules \(limit 5\); [0-9]+ reads "
                        r"across split groups lag \(see mimir/runtime-overrides.yaml\)", line), line
    groups = _load(tmp_path / "out/mimir/legal-ai/contract-review.yaml")["groups"]
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


def test_each_mimir_tenant_routes_its_teams_alerts_as_the_plain_configuration_does(everywhere: Path,
                                                                                     tmp_path: Path) -> None:
    """Every routing case of a team whose services are in the tenant (and the Watchdog and pipeline cases of the
    root) reaches, through the tenant's configuration with its placeholders filled, exactly the receivers the plain
    configuration sends it to. anonymous holds ml-platform's and search's services, legal-ai legal-ai's."""
    cases = _load(everywhere / "alertmanager" / "routes.test.yml")["cases"]
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
        doc = _load(path)
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


def test_mimir_pipeline_alerts_fire_on_the_series_mimir_exposes(out_dir: Path, tmp_path: Path) -> None:
    """Mimir's own series (names and labels from its ruler and Alertmanager metrics), as a meta-monitoring
    Prometheus scrapes them: a failed PagerDuty notification of tenant legal-ai pages, another tenant's does not;
    a failed rule evaluation pages after 5m; a rejected rules reload opens a ticket after 10m. Times by hand."""
    rules = _load(out_dir / "mimir" / "oncallgen.meta-monitoring.rules.yml")
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


# ---- Thanos ---------------------------------------------------------------------------------------------------

def test_thanos_rule_files_match_the_schema_and_pass_promtool_without_the_thanos_field(tree: Path,
                                                                                       tmp_path: Path) -> None:
    validator = _schema("thanos-rules")
    stripped = []
    for path in sorted(tree.glob("thanos/*.thanos.yml")):
        doc = _load(path)
        assert not _errors(validator, doc), (path, _errors(validator, doc))
        plain_name = path.name.replace(".thanos.yml", ".rules.yml")
        plain = _load(tree / "rules" / plain_name)
        for group in doc["groups"]:
            group.pop("partial_response_strategy", None)
        assert doc == plain, f"{path}: anything but partial_response_strategy differs from rules/{plain_name}"
        target = tmp_path / plain_name
        target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        stripped.append(target)
    assert stripped
    run = promtool.check_rules(stripped)
    assert run.ok, run.output


def test_partial_response_strategy_only_where_the_spec_asks(out_dir: Path) -> None:
    strategies = {(path.name, g.get("partial_response_strategy")) for path in out_dir.glob("thanos/*.thanos.yml")
                  for g in _load(path)["groups"]}
    assert {s for name, s in strategies if name.startswith("search-answers.")} == {"warn"}
    assert {s for name, s in strategies if name.startswith("oncallgen.")} == {None}


# ---- what a spec cannot ask of a target ---------------------------------------------------------------------

def _generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str, str], *args: str):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    path, old, new = edit
    spec = tmp_path / "specs" / path
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["generate", "specs", "-o", "out", *args])


@pytest.mark.parametrize("edit, args, message", [
    # Morocco's summer time follows Ramadan: no (month, day, weekday) rule holds every year.
    (("oncall/ml-platform.yaml", "location: Europe/Berlin", "location: Africa/Casablanca"), ("--target", "operator"),
     "error: specs/oncall/ml-platform.yaml:39:5: spec.business_hours.location: the operator's AlertmanagerConfig "
     "(v1alpha1) has no time-zone location, and the business hours of \"Africa/Casablanca\" are not the same UTC "
     "hours on every date of a month, day and weekday ("),
    (("oncall/search.yaml", "/etc/alertmanager/secrets/search-opsgenie", "/run/secrets/opsgenie"), (),
     "error: specs/oncall/search.yaml:10:18: spec.receivers.opsgenie.opsgenie.api_key_file: the operator target needs "
     "secrets as Kubernetes secret keys: expected a path like \"/etc/alertmanager/secrets/<secret>/<key>\" or "
     "\"/etc/alertmanager/secrets/<secret>\", got \"/run/secrets/opsgenie\""),
])
def test_what_the_operator_cannot_express_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              edit, args, message) -> None:
    result = _generate(tmp_path, monkeypatch, edit, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr
    assert not (tmp_path / "out").exists()


def test_two_secret_files_that_would_share_a_mimir_placeholder_are_refused(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = _generate(tmp_path, monkeypatch, ("oncall/legal-ai.yaml", "secrets/sre-pd}", "secrets/legal_ai-pd}"))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "error: specs/oncall/legal-ai.yaml:12:19: spec.receivers.pd-sre.pagerduty.routing_key_file: Mimir takes "
        "secrets as values, written as ${SECRET_LEGAL_AI_PD} placeholders, and \"/etc/alertmanager/secrets/legal_ai-pd\" "
        "would share ${SECRET_LEGAL_AI_PD} with \"/etc/alertmanager/secrets/legal-ai-pd\" "
        "(specs/oncall/legal-ai.yaml:10:19): rename one of the files"), result.stderr
    assert not (tmp_path / "out").exists()


def test_services_of_one_team_on_the_operator_share_a_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    second = (ROOT / "specs" / "search-answers.yaml").read_text(encoding="utf-8")
    second = second.replace("name: search-answers", "name: search-suggest").replace("namespace: search-prod",
                                                                                     "namespace: suggest")
    (tmp_path / "specs" / "search-suggest.yaml").write_text(second, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in (["validate", "specs"], ["generate", "specs", "-o", "out"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        line = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
        assert line.startswith("error: specs/search-suggest.yaml:")
        assert (': spec.deploy.namespace: services of team "search" on the operator target share one '
                'AlertmanagerConfig, so they need the same namespace as "search-answers" (specs/search-answers.yaml)'
                in line), line
    assert not (tmp_path / "out").exists()


def test_the_shared_prometheusrule_keeps_every_label_a_service_declares(everywhere: Path) -> None:
    """Every service on the operator, one of them (search-answers) with `deploy.labels`: the shared object keeps
    `release`, so a `release=` ruleSelector still loads the Watchdog, the pipeline alerts and on-call health."""
    doc = _load(everywhere / "kubernetes/monitoring/oncallgen.prometheusrule.yaml")
    assert doc["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "oncallgen",
                                         "release": "kube-prometheus-stack"}


def test_two_values_of_a_shared_label_are_refused_with_both_spec_lines(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    result = _generate(tmp_path, monkeypatch, ("support-assistant.yaml", "  runbooks:\n",
                                               "  deploy: {targets: [operator], labels: {release: prom-b}}\n"
                                               "  runbooks:\n"))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        'error: specs/support-assistant.yaml:38:42: spec.deploy.labels.release: '
        'kubernetes/monitoring/oncallgen.prometheusrule.yaml, shared by every service on the operator target, '
        'carries every label they declare, and "search-answers" declares release: "kube-prometheus-stack" '
        '(specs/search-answers.yaml:44:14): give one value'), result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_diff_reports_a_dropped_shared_label_and_a_moved_tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`oncallgen diff` against the committed output: search-answers loses its `deploy.labels`, contract-review
    moves to tenant `legal`. No rule changes, yet what loads the rules does: exit 4, each object named."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    for name, old, new in (("search-answers.yaml", "    labels: {release: kube-prometheus-stack}\n", ""),
                           ("contract-review.yaml", "    tenant: legal-ai", "    tenant: legal")):
        spec = tmp_path / "specs" / name
        text = spec.read_text(encoding="utf-8")
        assert old in text
        spec.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["diff", "specs", "--base-dir", str(ROOT / "output")])
    assert result.exit_code == 4, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("packaged")]
    assert lines == [
        "packaged  AlertmanagerConfig search: label release: kube-prometheus-stack -> (none)",
        "packaged  Mimir namespace contract-review: tenant: legal-ai -> legal",
        "packaged  Mimir namespace oncallgen (legal) added",
        "packaged  Mimir namespace oncallgen (legal-ai) removed",
        "packaged  PrometheusRule oncallgen: label release: kube-prometheus-stack -> (none)",
        "packaged  PrometheusRule search-answers: label release: kube-prometheus-stack -> (none)",
    ], result.stdout
    assert result.stdout.splitlines()[0].endswith("; 6 packaged objects changed."), result.stdout
    unchanged = CliRunner().invoke(main, ["diff", str(ROOT / "specs"), "--base-dir", str(ROOT / "output")])
    assert unchanged.exit_code == 0 and "packaged" not in unchanged.stdout, unchanged.stdout


@pytest.mark.parametrize("old, new, message", [
    ("labels: {release: kube-prometheus-stack}", 'labels: {release: "kube prometheus"}',
     "error: specs/search-answers.yaml:44:14: spec.deploy.labels.release: expected a value matching"),
    ("targets: [operator, thanos]", "targets: [operator, kubernetes]",
     'error: specs/search-answers.yaml:42:25: spec.deploy.targets[1]: expected one of "operator", "mimir", "thanos", '
     'got "kubernetes"'),
    ("    namespace: search-prod\n    labels", "    namespace: " + "n" * 64 + "\n    labels",
     "error: specs/search-answers.yaml:43:5: spec.deploy.namespace: expected at most 63 characters"),
])
def test_deploy_settings_are_checked_where_they_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            old: str, new: str, message: str) -> None:
    result = _generate(tmp_path, monkeypatch, ("search-answers.yaml", old, new))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr
    assert not (tmp_path / "out").exists()
