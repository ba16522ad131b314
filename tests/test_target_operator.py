"""prometheus-operator, as it behaves: the PrometheusRules (our JSON Schema, the real promtool, the tested plain
groups plus the namespace label of alerts) and the AlertmanagerConfigs, turned into the plain configuration the
operator builds (tests/operator_emulation.py, from its amcfg.go) for the real amtool; business hours as UTC
intervals; what `enforcedNamespaceLabel` does to the rules, through the generated promtool tests; the shared
object's labels; what the operator cannot express, as one-line errors.
"""
from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from generator import amtool, promtool
from generator.cli import main
from tests import operator_emulation
from tests.targets_support import ROOT, errors, generate, load, plain_groups, schema


# ---- prometheus-operator: PrometheusRule --------------------------------------------------------------------

@pytest.mark.proof
def test_prometheusrules_match_the_schema_and_their_groups_pass_promtool(tree: Path, tmp_path: Path) -> None:
    validator = schema("prometheusrule")
    extracted = []
    for path in sorted(tree.glob("kubernetes/*/*.prometheusrule.yaml")):
        doc = load(path)
        assert not errors(validator, doc), (path, errors(validator, doc))
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
        doc = load(path)
        service, namespace = doc["metadata"]["name"], doc["metadata"]["namespace"]
        expected = plain_groups(tree, service)
        if service != "oncallgen":
            for group in expected.values():
                for rule in group["rules"]:
                    if "alert" in rule:
                        assert "namespace" not in rule["labels"]
                        rule["labels"]["namespace"] = namespace
        assert {g["name"]: g for g in doc["spec"]["groups"]} == expected, path


def test_every_alert_of_a_service_carries_its_alertmanagerconfigs_namespace(out_dir: Path) -> None:
    # specs/search-answers.yaml: deploy.namespace search-prod; the search team's AlertmanagerConfig lives there.
    doc = load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    alerts = [r for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r]
    records = [r for g in doc["spec"]["groups"] for r in g["rules"] if "record" in r]
    assert len(alerts) > 10 and records
    assert {r["labels"]["namespace"] for r in alerts} == {"search-prod"}
    assert not any("namespace" in r.get("labels", {}) for r in records), "recorded series keep their labels"
    assert load(out_dir / "kubernetes/search-prod/search.alertmanagerconfig.yaml")["metadata"]["namespace"] == \
        "search-prod"


def test_prometheusrule_metadata_carries_the_selector_labels(out_dir: Path) -> None:
    doc = load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    assert doc["apiVersion"] == "monitoring.coreos.com/v1" and doc["kind"] == "PrometheusRule"
    assert doc["metadata"] == {"name": "search-answers", "namespace": "search-prod",
                               "labels": {"app.kubernetes.io/managed-by": "oncallgen",
                                          "release": "kube-prometheus-stack"}}


def test_the_schema_refuses_what_the_operator_would(out_dir: Path) -> None:
    """The schema can fail: an unknown field, a bad duration and a rule that is both alert and record."""
    validator = schema("prometheusrule")
    doc = load(out_dir / "kubernetes/search-prod/search-answers.prometheusrule.yaml")
    assert not errors(validator, doc)
    doc["spec"]["groups"][0]["evaluation_interval"] = "1m"
    alert = next(r for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r)
    alert["for"] = "ten minutes"
    alert["record"] = "x:y:z"
    problems = errors(validator, doc)
    assert len(problems) == 3, problems
    assert any("evaluation_interval" in p for p in problems) and any("ten minutes" in p for p in problems)


# ---- prometheus-operator: AlertmanagerConfig ----------------------------------------------------------------

ROOT_CONFIG = "kubernetes/monitoring/oncallgen-root.alertmanagerconfig.yaml"


def _configs(tree: Path) -> list[dict]:
    """Every AlertmanagerConfig: the teams' and the root."""
    return [load(p) for p in sorted(tree.glob("kubernetes/*/*.alertmanagerconfig.yaml"))]


def _team_configs(tree: Path) -> list[dict]:
    return [d for d in _configs(tree) if d["metadata"]["name"] != "oncallgen-root"]


def test_alertmanagerconfigs_match_the_schema(tree: Path) -> None:
    validator = schema("alertmanagerconfig")
    docs = _configs(tree)
    assert docs
    for doc in docs:
        assert not errors(validator, doc), errors(validator, doc)
        text = yaml.safe_dump(doc)
        assert "_file" not in text and "/etc/alertmanager/secrets" not in text, "secrets only as secret key references"


def test_secrets_are_secret_key_references_named_after_the_mounted_files(out_dir: Path) -> None:
    # specs/oncall/search.yaml: api_key_file: /etc/alertmanager/secrets/search-opsgenie,
    #                           auth_password_file: /etc/alertmanager/secrets/smtp-password
    doc = load(out_dir / "kubernetes/search-prod/search.alertmanagerconfig.yaml")
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


@pytest.mark.slow
def test_business_hours_in_berlin_are_the_same_utc_instants_on_the_operator(everywhere: Path) -> None:
    """specs/oncall/ml-platform.yaml: Europe/Berlin, monday:friday, 09:00-18:00. v1alpha1 intervals have no
    location; the UTC intervals written instead hold at exactly the instants Berlin is in business hours."""
    doc = load(everywhere / "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml")
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


@pytest.mark.slow
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
    doc = load(everywhere / "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml")
    assert doc["spec"]["muteTimeIntervals"][0]["name"] == "business-hours"
    tickets = [r for r in doc["spec"]["route"]["routes"]
               if {"name": "severity", "value": "warning", "matchType": "="} in r["matchers"]]
    assert [r.get("activeTimeIntervals") for r in tickets] == [["business-hours"]]


def test_the_root_config_holds_the_root_route_and_its_receivers_only(out_dir: Path) -> None:
    # specs/oncall/routing.yaml: fallback sre-catchall, heartbeat deadmans-switch.
    doc = load(out_dir / ROOT_CONFIG)
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
    config = operator_emulation.configuration(load(everywhere / ROOT_CONFIG), _team_configs(everywhere))
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.proof
def test_amtool_accepts_the_equivalent_plain_configuration(merged_config: Path) -> None:
    run = amtool.check_config(merged_config)
    assert run.ok, run.output
    assert "SUCCESS" in run.output


ROOT_NAME = "platform"  # specs/oncall/routing.yaml


def _operator_names(tree: Path):
    """Plain receiver names -> as the operator names them: `<namespace>/<object>/<receiver>`."""
    namespaces = {d["metadata"]["name"]: d["metadata"]["namespace"] for d in _team_configs(tree)}

    def operator_name(receiver: str) -> str:
        owner, name = receiver.split("/", 1)
        return f"monitoring/oncallgen-root/{name}" if owner == ROOT_NAME else f"{namespaces[owner]}/{owner}/{name}"
    return operator_name


def _route_every_case(tree: Path, merged_config: Path) -> list[dict]:
    """Every routing case of the plain configuration of `tree`, routed by the real amtool through the configuration
    the operator builds, with the labels the generated PrometheusRules give it; the cases that failed."""
    namespaces = {d["metadata"]["name"]: d["metadata"]["namespace"] for d in _team_configs(tree)}
    operator_name = _operator_names(tree)
    cases = load(tree / "alertmanager" / "routes.test.yml")["cases"]
    assert len(cases) > 50 and any(c["labels"].get("escalation") == "secondary" for c in cases)
    assert any(c["receivers"][0].startswith(f"{ROOT_NAME}/") for c in cases)

    # The namespace an alert carries is the one its PrometheusRule gives it (none for the shared rules, but for the
    # alerts of the pipeline team with spec.pipeline.team).
    static = {(r["labels"]["service"], r["alert"]): r["labels"].get("namespace")
              for p in tree.glob("kubernetes/*/*.prometheusrule.yaml")
              for g in load(p)["spec"]["groups"] for r in g["rules"] if "alert" in r}

    def route(case: dict) -> tuple[dict, amtool.Run]:
        labels = dict(case["labels"])
        namespace = static.get((labels.get("service"), labels["alertname"]))
        if labels["alertname"] == "HandWritten" and labels.get("team") in namespaces:
            namespace = namespaces[labels["team"]]  # a user's own alert for a team must carry it too (docs/targets.md)
        if namespace:
            labels["namespace"] = namespace
        # The operator puts the teams' routes in front of the root's: a pipeline alert a team owns reaches the
        # team's receiver first, then the root's pipeline receiver. The same receivers, each notified on its own.
        plain = [r for r in case["receivers"] if not r.startswith(f"{ROOT_NAME}/")] + \
                [r for r in case["receivers"] if r.startswith(f"{ROOT_NAME}/")]
        receivers = [operator_name(r) for r in plain]
        return case, amtool.route(merged_config, labels, receivers)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return [{"case": c["name"], "output": run.output} for c, run in pool.map(route, cases) if not run.ok]


@pytest.mark.proof
def test_every_routing_case_reaches_the_same_receivers_through_the_operator(everywhere: Path,
                                                                            merged_config: Path) -> None:
    """Every routing case of the plain configuration (each alert and tier, the Watchdog, an alert of no known team,
    one without severity), with the labels the generated PrometheusRules give it: each reaches exactly the receivers
    the plain configuration sends it to, renamed as the operator names them, once."""
    failed = _route_every_case(everywhere, merged_config)
    assert not failed, failed[:3]


@pytest.mark.proof
def test_a_team_page_reaches_the_team_through_the_operators_namespace_matcher(everywhere: Path,
                                                                              merged_config: Path) -> None:
    """A page exactly as support-assistant's PrometheusRule labels it (its `sum by` keeps service, team and provider)
    reaches ml-platform's PagerDuty receiver through the route the operator scopes to `namespace="ml-platform"`;
    without the static namespace label it would fall to the root's fallback receiver."""
    rule = next(r for g in load(everywhere / "kubernetes/ml-platform/support-assistant.prometheusrule.yaml")["spec"]
                ["groups"] for r in g["rules"] if r.get("alert") == "AIProviderDown")
    labels = {"alertname": "AIProviderDown", "provider": "openai", **rule["labels"]}
    assert labels["namespace"] == "ml-platform" and labels["severity"] == "critical"
    merged = load(merged_config)
    team_route = next(r for r in merged["route"]["routes"] if r["receiver"].startswith("ml-platform/ml-platform/"))
    assert team_route["matchers"][-1] == 'namespace="ml-platform"' and team_route["continue"] is True
    # specs/oncall/ml-platform.yaml: primary pagerduty-primary; specs/oncall/routing.yaml: fallback sre-catchall.
    page = amtool.route(merged_config, labels, ["ml-platform/ml-platform/pagerduty-primary"])
    assert page.ok, page.output
    without = {k: v for k, v in labels.items() if k != "namespace"}
    fallback = amtool.route(merged_config, without, ["monitoring/oncallgen-root/sre-catchall"])
    assert fallback.ok, fallback.output


@pytest.mark.proof
def test_without_the_namespace_label_a_page_falls_to_the_root(everywhere: Path, merged_config: Path) -> None:
    """The route check can fail: the operator's namespace matcher is real, so a page without it is not the team's."""
    case = next(c for c in load(everywhere / "alertmanager" / "routes.test.yml")["cases"]
                if c["labels"].get("severity") == "critical" and "service" in c["labels"])
    assert not amtool.route(merged_config, case["labels"], [f"ml-platform/{case['receivers'][0]}"]).ok
    assert amtool.route(merged_config, case["labels"], ["monitoring/oncallgen-root/sre-catchall"]).ok


# ---- prometheus-operator: the alerting pipeline owned by a team (spec.pipeline.team) ---------------------------

# A team that owns the pipeline and no service, as an SRE team would: its AlertmanagerConfig exists only for that.
SRE_TEAM = """apiVersion: oncallgen/v1
kind: OnCallTeam
metadata: {name: sre}
spec:
  receivers:
    sre-pager: {pagerduty: {routing_key_file: /etc/alertmanager/secrets/sre-pager}}
    sre-tickets: {slack: {api_url_file: /etc/alertmanager/secrets/sre-slack, channel: "#sre-tickets"}}
  routes: {primary: sre-pager, ticket: sre-tickets}
  escalation: {mode: paging_tool}
"""
# The pipeline's checks by hand (generator/alerting_pipeline.py's table): two pages, two tickets, no secondary tier
# (tiers are a service's).
PIPELINE_PAGES = ("AIAlertmanagerNotificationsFailing", "AIRuleEvaluationFailing")
PIPELINE_TICKETS = ("AIAlertmanagerConfigReloadFailed", "AIPrometheusConfigReloadFailed")
# Per owner, by hand from its spec: the namespace of its AlertmanagerConfig (ml-platform's services declare none, so
# the team's name; sre has no service, so the team's name too) and its primary and ticket receivers, plain and as
# the operator names them. specs/oncall/routing.yaml names no pipeline receiver: the fallback, sre-catchall.
PIPELINE_OWNERS = {
    "ml-platform": ("ml-platform", {"page": "ml-platform/pagerduty-primary", "ticket": "ml-platform/slack-tickets"}),
    "sre": ("sre", {"page": "sre/sre-pager", "ticket": "sre/sre-tickets"}),
}
PLAIN_PIPELINE_RECEIVER = "platform/sre-catchall"
OPERATOR_PIPELINE_RECEIVER = "monitoring/oncallgen-root/sre-catchall"


@pytest.fixture(scope="module", params=sorted(PIPELINE_OWNERS))
def pipeline_owned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """The example specs with `spec.pipeline.team` (ml-platform, whose services are on the operator; or sre, a team
    with no service), every service on the operator: the owner, the output tree, and the plain configuration the
    operator makes of its AlertmanagerConfigs."""
    from generator.pipeline import build
    from generator.targets.files import write_tree

    owner = request.param
    base = tmp_path_factory.mktemp(f"pipeline-{owner}")
    shutil.copytree(ROOT / "specs", base / "specs")
    routing = base / "specs" / "oncall" / "routing.yaml"
    routing.write_text(routing.read_text(encoding="utf-8") + f"  pipeline: {{team: {owner}}}\n", encoding="utf-8")
    if owner == "sre":
        (base / "specs" / "oncall" / "sre.yaml").write_text(SRE_TEAM, encoding="utf-8")
    old = os.getcwd()
    os.chdir(base)
    try:
        result = build([Path("specs")], ("operator",))
    finally:
        os.chdir(old)
    write_tree(base / "output", result.files)
    tree = base / "output"
    merged = base / "operator-alertmanager.yml"
    config = operator_emulation.configuration(load(tree / ROOT_CONFIG), _team_configs(tree))
    merged.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return owner, tree, merged


def _pipeline_alerts(tree: Path) -> dict[str, dict]:
    """The pipeline's alerts in the shared PrometheusRule, by name, with their labels."""
    doc = load(tree / "kubernetes/monitoring/oncallgen.prometheusrule.yaml")
    return {r["alert"]: r["labels"] for g in doc["spec"]["groups"] for r in g["rules"]
            if "alert" in r and r["labels"].get("signal") == "alerting_pipeline"}


def test_the_pipeline_teams_alerts_carry_its_alertmanagerconfigs_namespace(pipeline_owned) -> None:
    """In the shared PrometheusRule the pipeline's alerts carry the owner's namespace and nothing else changes (the
    Watchdog, the recording rules and every expression are the tested plain groups); the owner has an
    AlertmanagerConfig in that namespace, with the shared object's labels when none of its services gives any."""
    owner, tree, _ = pipeline_owned
    namespace, _ = PIPELINE_OWNERS[owner]
    alerts = _pipeline_alerts(tree)
    assert sorted(alerts) == sorted(PIPELINE_PAGES + PIPELINE_TICKETS)
    assert {(a["team"], a["namespace"]) for a in alerts.values()} == {(owner, namespace)}
    doc = load(tree / "kubernetes/monitoring/oncallgen.prometheusrule.yaml")
    expected = plain_groups(tree, "oncallgen")
    for group in expected.values():
        for rule in group["rules"]:
            if rule.get("alert") in alerts:
                rule["labels"]["namespace"] = namespace
    assert {g["name"]: g for g in doc["spec"]["groups"]} == expected
    watchdog = next(r for g in doc["spec"]["groups"] for r in g["rules"] if r.get("alert") == "AIWatchdog")
    assert "namespace" not in watchdog["labels"], "the Watchdog is the root's heartbeat, in no team's namespace"
    config = load(tree / f"kubernetes/{namespace}/{owner}.alertmanagerconfig.yaml")
    assert config["metadata"]["namespace"] == namespace
    if owner == "sre":  # search-answers declares release: kube-prometheus-stack (specs/search-answers.yaml)
        assert config["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "oncallgen",
                                                "release": "kube-prometheus-stack"}
        assert sorted(r["name"] for r in config["spec"]["receivers"]) == ["sre-pager", "sre-tickets"]


@pytest.mark.proof
def test_pipeline_alerts_reach_the_pipeline_team_through_the_operator_as_on_plain_alertmanager(pipeline_owned) -> None:
    """Each pipeline alert, with the labels the shared PrometheusRule gives it: on plain Alertmanager it reaches the
    root's pipeline receiver, then the owner's primary (pages) or ticket receiver; through the operator the same two
    receivers (the owner's first: the operator puts the teams' routes in front of the root's). Without the
    namespace label the operator's matcher keeps it from the owner: the root's receiver only, which was the bug."""
    owner, tree, merged = pipeline_owned
    namespace, receivers = PIPELINE_OWNERS[owner]
    plain_config = tree / "alertmanager" / "alertmanager.yml"

    def checks(alertname: str, labels: dict) -> list[tuple[str, amtool.Run]]:
        role = "page" if alertname in PIPELINE_PAGES else "ticket"
        team_name, name = receivers[role].split("/", 1)
        labels = {"alertname": alertname, **labels}
        without = {k: v for k, v in labels.items() if k != "namespace"}  # also what plain Alertmanager sees
        return [
            ("plain", amtool.route(plain_config, without, [PLAIN_PIPELINE_RECEIVER, receivers[role]])),
            ("operator", amtool.route(merged, labels, [f"{namespace}/{team_name}/{name}",
                                                       OPERATOR_PIPELINE_RECEIVER])),
            ("operator, no namespace", amtool.route(merged, without, [OPERATOR_PIPELINE_RECEIVER])),
        ]

    alerts = _pipeline_alerts(tree)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = [(name, what, run) for name, found in zip(alerts, pool.map(lambda a: checks(*a), alerts.items()))
                for what, run in found]
    assert len(runs) == 12
    failed = [(name, what, run.output) for name, what, run in runs if not run.ok]
    assert not failed, failed[:3]


@pytest.mark.proof
def test_every_routing_case_reaches_the_same_receivers_through_the_operator_with_a_pipeline_team(
        pipeline_owned) -> None:
    """As above, on the specs with `spec.pipeline.team`: every service's alerts and tiers, and the pipeline's alerts,
    which now reach the owner as well as the root's pipeline receiver."""
    owner, tree, merged = pipeline_owned
    cases = load(tree / "alertmanager" / "routes.test.yml")["cases"]
    pipeline = [c for c in cases if c["labels"].get("signal") == "alerting_pipeline"]
    assert len(pipeline) == 4 and all(len(c["receivers"]) == 2 for c in pipeline)
    failed = _route_every_case(tree, merged)
    assert not failed, failed[:3]


def _generate_with_pipeline_team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, owner: str, *edits):
    """`generate` on the example specs as committed (search-answers alone on the operator), the pipeline owned by
    `owner`, after `edits` (file, old, new)."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    for name, old, new in (("oncall/routing.yaml", "  heartbeat: deadmans-switch\n",
                            f"  heartbeat: deadmans-switch\n  pipeline: {{team: {owner}}}\n"), *edits):
        spec = tmp_path / "specs" / name
        text = spec.read_text(encoding="utf-8")
        assert old in text, (name, old)
        spec.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["generate", "specs", "-o", "out"])


SUPPORT_AI = ("support-assistant.yaml", "  runbooks:\n", "  deploy: {namespace: support-ai}\n  runbooks:\n")
INTERNAL_AI = ("internal-chat.yaml", "  runbooks:\n", "  deploy: {namespace: support-ai}\n  runbooks:\n")


@pytest.mark.proof
def test_a_pipeline_team_with_no_service_on_the_operator_still_gets_the_pipeline_alerts_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ml-platform owns the pipeline; its services stay on plain Prometheus (both declare namespace support-ai),
    search-answers alone is on the operator. The operator's Prometheus evaluates the pipeline
    alerts too, so ml-platform gets an AlertmanagerConfig in support-ai, with the shared object's labels, and the
    pipeline alerts reach it there, after the root's receiver as on plain Alertmanager."""
    result = _generate_with_pipeline_team(tmp_path, monkeypatch, "ml-platform", SUPPORT_AI, INTERNAL_AI)
    assert result.exit_code == 0, result.output
    tree = tmp_path / "out"
    assert sorted(p.relative_to(tree / "kubernetes").as_posix() for p in tree.glob("kubernetes/*/*.yaml")
                  if not p.name.endswith(".configmap.yaml")) == [
        "monitoring/oncallgen-root.alertmanagerconfig.yaml", "monitoring/oncallgen.prometheusrule.yaml",
        "search-prod/search-answers.prometheusrule.yaml", "search-prod/search.alertmanagerconfig.yaml",
        "support-ai/ml-platform.alertmanagerconfig.yaml"]
    config = load(tree / "kubernetes/support-ai/ml-platform.alertmanagerconfig.yaml")
    assert config["metadata"] == {"name": "ml-platform", "namespace": "support-ai", "labels": {
        "app.kubernetes.io/managed-by": "oncallgen", "release": "kube-prometheus-stack"}}
    alerts = _pipeline_alerts(tree)
    assert sorted(alerts) == sorted(PIPELINE_PAGES + PIPELINE_TICKETS)
    assert {a["namespace"] for a in alerts.values()} == {"support-ai"}
    merged = tmp_path / "operator-alertmanager.yml"
    merged.write_text(yaml.safe_dump(operator_emulation.configuration(load(tree / ROOT_CONFIG), _team_configs(tree)),
                                     sort_keys=False), encoding="utf-8")
    # specs/oncall/ml-platform.yaml: primary pagerduty-primary, ticket slack-tickets.
    for alertname, labels in alerts.items():
        team = "pagerduty-primary" if alertname in PIPELINE_PAGES else "slack-tickets"
        run = amtool.route(merged, {"alertname": alertname, **labels},
                           [f"support-ai/ml-platform/{team}", OPERATOR_PIPELINE_RECEIVER])
        assert run.ok, (alertname, run.output)


def test_the_pipeline_teams_services_must_agree_on_its_namespace(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Off the operator a team's services may declare different namespaces; the pipeline's owner gets one
    AlertmanagerConfig on the operator, so its services must agree: one line at the key (column 12 of
    `  deploy: {namespace: ...}`), naming the other."""
    result = _generate_with_pipeline_team(tmp_path, monkeypatch, "ml-platform", SUPPORT_AI)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        'error: specs/support-assistant.yaml:38:12: spec.deploy.namespace: team "ml-platform" owns the alerting '
        'pipeline (spec.pipeline.team), so the operator target gets its AlertmanagerConfig, in one namespace: its '
        'services need the same namespace as "internal-chat" (specs/internal-chat.yaml)'), result.stderr
    assert not (tmp_path / "out").exists()


def _inhibitions_differ(tree: Path, merged_config: Path) -> tuple[int, int, int, int]:
    """amtool's route test ignores inhibitions: evaluate them (tests/test_alertmanager.py's evaluator) for every
    pair of alerts of a team, with the providers a ProviderDown names, under the plain configuration and the
    operator's: (pairs, pairs muted on plain Alertmanager, pairs that differ, pipeline alerts among the alerts)."""
    from tests.test_alertmanager import muted

    namespaces = {d["metadata"]["name"]: d["metadata"]["namespace"] for d in _team_configs(tree)}
    plain = load(tree / "alertmanager" / "alertmanager.yml")["inhibit_rules"]
    merged = load(merged_config)["inhibit_rules"]
    providers = {"support-assistant": ["anthropic", "openai"], "search-answers": ["gemini", "bedrock"],
                 "contract-review": ["openai", "anthropic"], "internal-chat": ["vllm-pool"]}
    alerts = []
    for case in load(tree / "alertmanager" / "routes.test.yml")["cases"]:
        labels = case["labels"]
        # pipeline alerts are the root's, unless spec.pipeline.team gives them to a team
        if "service" not in labels or labels.get("team") not in namespaces:
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
    return pairs, mutes, differ, sum(a.get("signal") == "alerting_pipeline" for a in alerts)


def test_inhibitions_mute_exactly_what_the_plain_configuration_mutes(everywhere: Path, merged_config: Path) -> None:
    pairs, mutes, differ, _ = _inhibitions_differ(everywhere, merged_config)
    assert pairs > 1000 and mutes > 20, (pairs, mutes)
    assert differ == 0


def test_inhibitions_of_the_pipeline_teams_alerts_are_the_plain_ones_on_the_operator(pipeline_owned) -> None:
    """The pipeline's alerts, now the owner's on the operator too, are muted (or not) by the owner's inhibitions
    exactly as on plain Alertmanager."""
    _, tree, merged = pipeline_owned
    pairs, mutes, differ, pipeline = _inhibitions_differ(tree, merged)
    assert pipeline == 4 and pairs > 1000 and mutes > 20, (pipeline, pairs, mutes)
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


# The signals whose tests run under enforcement: every signal of search-answers (their default scrape interval only:
# promtool takes minutes on all).
ENFORCED_SIGNALS = ("cache_warming", "cost_anomaly", "error_spike", "failover", "latency", "model_routing",
                    "provider_down", "rate_limit", "slo", "traffic_stopped", "usage_pattern")


def _enforced_unit_tests(tree: Path, base: Path, service: str, series_namespace: str | None, silent: bool,
                         signals: tuple[str, ...] = ENFORCED_SIGNALS) -> list[Path]:
    """The service's generated promtool unit tests, against its PrometheusRule as a Prometheus with
    `enforcedNamespaceLabel: namespace` loads it, with the input series in `series_namespace` (default: the rule's
    own; series that have
    a namespace of their own, Kubernetes objects', keep it). Alerts expect the rule's namespace label; `silent`:
    every alert expected not to fire. The recorded-sample checks are left out (recorded series gain the label)."""
    [path] = tree.glob(f"kubernetes/*/{service}.prometheusrule.yaml")
    rule = operator_emulation.enforce_namespace_label(load(path))
    namespace = rule["metadata"]["namespace"]
    series_namespace = series_namespace or namespace
    for r in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        assert all(values == [namespace] for values in _selectors_namespaces(r["expr"])), r["expr"]
    enforced = {g["name"]: g for g in rule["spec"]["groups"]}
    shutil.copytree(tree / "rules", base / "rules")
    for plain in tree.glob(f"rules/{service}.*.rules.yml"):
        groups = [enforced[g["name"]] for g in load(plain)["groups"]]
        (base / "rules" / plain.name).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    out = []
    (base / "tests" / service).mkdir(parents=True)
    for source in sorted((tree / "tests" / service).glob("*.test.yml")):
        if source.name.split(".")[0] not in signals or source.name.count(".") > 2:
            continue
        doc = load(source)
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


# Every signal once, on a service whose series all live in its rules' namespace (support-assistant's rollout gauge
# is in `support`: its cache warming is the shared-proxy case below).
IN_NAMESPACE = {"search-answers": ENFORCED_SIGNALS, "contract-review": ("eval_regression",),
                "support-assistant": ("first_token_latency",)}


@pytest.mark.proof
@pytest.mark.parametrize("service", sorted(IN_NAMESPACE))
def test_enforced_namespace_label_with_series_of_the_rules_namespace(everywhere: Path, tmp_path: Path,
                                                                     service: str) -> None:
    """The service's PrometheusRule as `enforcedNamespaceLabel: namespace` rewrites it, its series labelled with the
    rule's namespace: every selector still matches, and every signal's generated test passes on the rewritten rules,
    alerts carrying the namespace. The operator labels every recorded series with the namespace; the rules aggregate
    recorded series with `without (...)`, so the label survives into every join (`sum by (service, team)` dropped
    it, and the latency, model-routing, rate-limit and same-hour error-spike joins then matched nothing or
    collided)."""
    signals = IN_NAMESPACE[service]
    runs = {f.name: promtool.test_rules(f) for f in _enforced_unit_tests(everywhere, tmp_path, service, None,
                                                                          silent=False, signals=signals)}
    assert sorted(runs) == sorted(f"{s}.test.yml" for s in signals)
    assert not [name for name, run in runs.items() if not run.ok], \
        {n: r.output[:400] for n, r in runs.items() if not r.ok}


@pytest.mark.proof
def test_enforced_namespace_label_silences_a_service_reading_a_shared_proxy(out_dir: Path, tmp_path: Path) -> None:
    """search-answers reads the shared LiteLLM proxy (`job="litellm-proxy"`), whose series carry the proxy's
    namespace: once every selector asks for search-prod, each test passes only when told to expect silence, so
    every alert the tests expect to fire is lost, without an error."""
    expected_firing = sum(len(c.get("exp_alerts", [])) for f in (out_dir / "tests" / "search-answers").glob("*.test.yml")
                          if f.name.split(".")[0] in ENFORCED_SIGNALS and f.name.count(".") == 2
                          for t in load(f)["tests"] for c in t.get("alert_rule_test", []))
    assert expected_firing > 10
    silent = _enforced_unit_tests(out_dir, tmp_path, "search-answers", "litellm", silent=True)
    failed = [(f.name, run.output) for f in silent if not (run := promtool.test_rules(f)).ok]
    assert not failed, failed[:2]


# ---- what the operator cannot express ---------------------------------------------------------------

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
    result = generate(tmp_path, monkeypatch, edit, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr
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
    doc = load(everywhere / "kubernetes/monitoring/oncallgen.prometheusrule.yaml")
    assert doc["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "oncallgen",
                                         "release": "kube-prometheus-stack"}


def test_two_values_of_a_shared_label_are_refused_with_both_spec_lines(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    result = generate(tmp_path, monkeypatch, ("support-assistant.yaml", "  runbooks:\n",
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


# ---- dashboards for Grafana's sidecar -----------------------------------------------------------------------------

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def test_each_dashboard_is_a_configmap_grafanas_sidecar_picks_up(everywhere: Path) -> None:
    """Every service on the operator and its team's overview: a ConfigMap in `monitoring` (where kube-prometheus-stack
    runs Grafana, whose sidecar watches its own namespace by default) labelled `grafana_dashboard: "1"` (the
    sidecar's default label), holding the plain dashboard file byte for byte under a key Kubernetes accepts."""
    maps = sorted((everywhere / "kubernetes" / "monitoring").glob("*.configmap.yaml"))
    owners = {"contract-review", "internal-chat", "search-answers", "support-assistant",
              "team-legal-ai", "team-ml-platform", "team-search"}
    assert sorted(p.name for p in maps) == sorted(f"oncallgen-dashboard-{o}.configmap.yaml" for o in owners)
    for path in maps:
        doc = load(path)
        owner = doc["metadata"]["name"].removeprefix("oncallgen-dashboard-")
        assert doc["apiVersion"] == "v1" and doc["kind"] == "ConfigMap"
        assert doc["metadata"]["namespace"] == "monitoring"
        assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert _DNS_SUBDOMAIN.fullmatch(doc["metadata"]["name"]) and len(doc["metadata"]["name"]) <= 253
        assert list(doc["data"]) == [f"{owner}.json"] and re.fullmatch(r"[-._a-zA-Z0-9]+", f"{owner}.json")
        assert doc["data"][f"{owner}.json"] == (everywhere / "dashboards" / f"{owner}.json").read_text(encoding="utf-8")


def test_the_committed_configmaps_hold_the_committed_dashboards() -> None:
    """The CLI streams services one at a time and keeps no runbook content for the whole plan: the committed output
    (written by `make generate`, kept current by test_staleness) still packages each dashboard whole."""
    out = ROOT / "output"
    maps = sorted((out / "kubernetes" / "monitoring").glob("oncallgen-dashboard-*.configmap.yaml"))
    assert [p.name for p in maps] == ["oncallgen-dashboard-search-answers.configmap.yaml",
                                      "oncallgen-dashboard-team-search.configmap.yaml"]
    for path in maps:
        (key, text), = load(path)["data"].items()
        assert text == (out / "dashboards" / key).read_text(encoding="utf-8")
