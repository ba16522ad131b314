"""Runbooks: one page per alert type, reached from the alert, with real thresholds, queries and receivers.

The first tests read the committed output/ as a responder would (test_staleness proves it is what specs/
compile to): follow an alert's runbook_url, land on a page whose first step says what to check and gives
the query. The rest break one thing in a small spec and expect one precise error line, as
test_spec_errors does, or read a page for what the spec says it must contain.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import promql_parser
import pytest
import yaml

from generator.alertmanager.receivers import expected_receivers
from generator.pipeline import Result, build
from generator.runbooks.checks import check_all as check_runbooks
from generator.content.runbook import RunbookContent, Step
from generator.content.links import dashboard_url, graph_expr, graph_url, runbook_file
from generator.signals import SIGNALS
from generator.spec.errors import SpecError
from tests.test_spec_errors import (BASE, ERROR_LINE, assert_failed_cleanly, edit, invoke, snapshot,  # noqa: F401
                                    workdir, write_files)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
GRAPH_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]*/graph\?g0\.expr=[^)\s]*)\)\n\n```promql\n(.*?)\n```", re.S)
ANY_GRAPH_LINK = re.compile(r"\]\(([^)\s]*/graph\?[^)\s]*)\)")


def _base_urls(compiled: Result) -> dict[str, str]:
    return {s.name: s.runbooks.base_url for s in compiled.services}


def _local(url: str, service: str | None, compiled: Result) -> str:
    """Where a runbook_url leads inside output/ (asserting it leads there at all)."""
    path = runbook_file(url, _base_urls(compiled).get(service or "", ""))
    assert path is not None, f"{url} leads outside the generated runbooks"
    return path


def _rule_alerts() -> list[tuple[str, dict]]:
    """(rule file, rule) for every alerting rule in output/rules."""
    out = []
    for f in sorted(OUTPUT.glob("rules/*.rules.yml")):
        for group in yaml.safe_load(f.read_text())["groups"]:
            out += [(f.relative_to(OUTPUT).as_posix(), r) for r in group["rules"] if "alert" in r]
    return out


def _step(text: str, n: int) -> str:
    """The section of decision-tree step `n` of a page."""
    m = re.search(rf"^### Step {n}\. .*?(?=^#{{2,3}} )", text, re.S | re.M)
    assert m, f"no step {n}"
    return m.group(0)


# ---- Done when: every alert reaches a runbook, every runbook is reached ----


def test_every_alert_in_output_has_a_runbook_url_that_resolves(compiled: Result) -> None:
    alerts = _rule_alerts()
    assert len(alerts) >= 60
    for path, rule in alerts:
        target = _local(rule["annotations"]["runbook_url"], rule["labels"].get("service"), compiled)
        assert (OUTPUT / target).is_file(), f"{path}: {rule['alert']} -> {target} does not exist"


def test_every_runbook_is_reached_from_an_alert(compiled: Result) -> None:
    reached = {_local(r["annotations"]["runbook_url"], r["labels"].get("service"), compiled) for _, r in _rule_alerts()}
    pages = {p.relative_to(OUTPUT).as_posix() for p in OUTPUT.glob("runbooks/**/*.md")}
    assert pages - {"runbooks/README.md"} == reached
    assert "runbooks/watchdog.md" in reached


def test_the_index_lists_every_page_with_its_receivers(compiled: Result) -> None:
    index = (OUTPUT / "runbooks" / "README.md").read_text()
    rows = re.findall(r"^\| (AI\w+)( \(secondary tier\))? \| (\w+) \| (\w+) \| (.*?) \| \[.*?\]\((.*?)\) \|$", index, re.M)
    pages = {p.relative_to(OUTPUT / "runbooks").as_posix() for p in OUTPUT.glob("runbooks/**/*.md")} - {"README.md"}
    assert {r[5] for r in rows} == pages
    specs = compiled.plan.specs
    for service in compiled.services:
        team = specs.team_of(service)
        for group in compiled.plan.groups:
            for alert in group.alerts:
                if alert.label_map.get("service") != service.name:
                    continue
                tier = " (secondary tier)" if alert.label_map.get("escalation") else ""
                row = next(r for r in rows if r[0] == alert.alert and r[1] == tier
                           and r[5].startswith(service.name + "/"))
                want = expected_receivers(team, {"alertname": alert.alert, **alert.label_map})
                assert row[2] == alert.severity and row[3] == alert.signal
                assert set(re.findall(r"`([^`]+)`", row[4])) >= set(want), (alert.alert, row, want)


# ---- Done when: decoding any graph link gives back the exact PromQL ----


def test_graph_links_escape_as_go_url_query_escape() -> None:
    expr = 'sum by (provider) (rate(x{a="b c", d=~"e|f"}[5m])) / 2 + 1'
    url = graph_url("https://prometheus.example.com/", expr)
    # What Go's url.QueryEscape gives: space as +, everything outside [A-Za-z0-9_.~-] percent-encoded.
    assert url == ("https://prometheus.example.com/graph?g0.expr=sum+by+%28provider%29+%28rate%28x%7Ba%3D%22b+c%22%2C+"
                   "d%3D~%22e%7Cf%22%7D%5B5m%5D%29%29+%2F+2+%2B+1&g0.tab=0")
    assert graph_expr(url) == expr


def test_every_graph_link_decodes_to_the_promql_shown_under_it() -> None:
    seen = 0
    for page in sorted(OUTPUT.glob("runbooks/**/*.md")):
        text = page.read_text()
        paired = GRAPH_LINK.findall(text)
        assert len(paired) == len(ANY_GRAPH_LINK.findall(text)), f"{page}: a graph link without its query under it"
        for url, shown in paired:
            decoded = graph_expr(url)
            assert decoded == shown, f"{page}: {url} decodes to {decoded!r}, the page shows {shown!r}"
            promql_parser.parse(decoded)
            seen += 1
    assert seen > 300


# ---- Done when: from a firing alert in a promtool test, the runbook's first step says what to check ----


def _firing_alerts() -> list[tuple[str, str, dict]]:
    """(test file, alertname, expected alert) for every alert a promtool test sees firing."""
    out = []
    for f in sorted(OUTPUT.glob("tests/**/*.test.yml")):
        for test in yaml.safe_load(f.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                out += [(f.relative_to(OUTPUT).as_posix(), case["alertname"], a) for a in case["exp_alerts"]]
    return out


def _assert_first_step_says_what_to_check(text: str, alertname: str, where: str) -> None:
    assert re.search(rf"^# {alertname}\b", text, re.M), f"{where}: the page is not about {alertname}"
    first = _step(text, 1)
    check = first.splitlines()[0].removeprefix("### Step 1. ")
    assert len(check) > 15, f"{where}: step 1 says nothing to check"
    [(url, query)] = GRAPH_LINK.findall(first)
    assert graph_expr(url) == query, where
    promql_parser.parse(query)
    assert "**If**" in first, f"{where}: step 1 gives no branches"


# Secondary tiers of pages whose firing checks cannot last (`Check.lasts=False`): escalation.add_tiers adds no
# tier check for them, so no promtool test sees them fire. Their pages are followed from the rules instead.
NEVER_FIRING_IN_TESTS: set = set()


def test_a_new_user_follows_a_firing_alert_to_a_first_step_with_its_query(compiled: Result) -> None:
    followed = set()
    for test_file, alertname, alert in _firing_alerts():
        labels = alert["exp_labels"]
        target = _local(alert["exp_annotations"]["runbook_url"], labels.get("service"), compiled)
        _assert_first_step_says_what_to_check((OUTPUT / target).read_text(), alertname,
                                              f"{test_file}: {alertname} -> {target}")
        followed.add((labels.get("service"), alertname, labels.get("escalation")))
    every = {(a.label_map.get("service"), a.alert, a.label_map.get("escalation"))
             for g in compiled.plan.groups for a in g.alerts}
    missing = {(name, tier) for _, name, tier in every - followed}
    assert missing <= NEVER_FIRING_IN_TESTS, f"alert types never seen firing: {sorted(missing, key=str)}"


def test_every_alert_type_in_the_rules_leads_to_a_first_step_with_its_query(compiled: Result) -> None:
    for path, rule in _rule_alerts():
        target = _local(rule["annotations"]["runbook_url"], rule["labels"].get("service"), compiled)
        _assert_first_step_says_what_to_check((OUTPUT / target).read_text(), rule["alert"],
                                              f"{path}: {rule['alert']} -> {target}")


def test_every_relative_link_in_the_runbooks_resolves() -> None:
    for page in OUTPUT.glob("runbooks/**/*.md"):
        text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if not re.match(r"^[a-z]+:", target):
                assert (page.parent / target).resolve().is_file(), f"{page}: {target}"


# ---- What the pages say: the spec's real numbers, series and receivers ----


def _page(compiled: Result, path: str) -> str:
    return compiled.files[f"runbooks/{path}"]


def test_error_spike_page_names_its_thresholds_series_and_receivers(compiled: Result) -> None:
    text = _page(compiled, "support-assistant/ai-error-rate-spike.md")
    assert ("above 3x its hourly ratio at this time of day (the same hour on the previous days, up to a week; "
            "averaged over 1d while no previous day has the hour), and above 2%") in text
    assert ('service_provider_model:ai_errors:rate5m{service="support-assistant"} / '
            'service_provider_model:ai_requests:rate5m{service="support-assistant"}') in _step(text, 1)
    assert "goes to `ml-platform/pagerduty-primary`" in text
    assert "**+20m** after the page, still firing: the secondary tier pages `ml-platform/pagerduty-secondary`" in text
    assert "**+45m** after the page, still firing: wake the senior engineer: ML platform staff engineer" in text
    assert "**+1h30m** after the page" in text and "`#inc-ml-platform`" in text
    assert "VP Engineering (via PagerDuty service exec-escalation)" in text
    assert "kubectl -n support rollout undo deployment/support-assistant" in text
    assert ("https://grafana.example.com/d/ai-support/support-assistant?var-service=support-assistant"
            "&var-provider=anthropic&var-model=claude-sonnet-4-5") in text


def test_paging_tool_teams_get_the_paging_tools_escalation(compiled: Result) -> None:
    text = _page(compiled, "search-answers/ai-error-rate-spike.md")
    assert "the paging tool's escalation policy behind `search/opsgenie`" in text
    assert "no secondary tier in Prometheus" in text and "-secondary.md" not in text
    assert "Search tech lead (Opsgenie schedule search-leads)" in text
    assert "nobody is on record (set `spec.escalation.executive_contact` in `specs/oncall/search.yaml`)" in text
    assert "kubectl -n search-prod rollout history deployment/answer-box" in text


def test_a_service_without_an_oncall_team_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path, {"specs/demo.yaml": BASE})
    monkeypatch.chdir(tmp_path)
    text = build([Path("specs")]).files["runbooks/demo/ai-error-rate-spike.md"]
    assert "No OnCallTeam spec names team `ml-platform`" in text
    assert "kubectl -n ml-platform rollout status deployment/demo" in text  # the defaults: team and service name


def test_provider_pages_carry_status_pages_communication_slo_and_sla(compiled: Result) -> None:
    text = _page(compiled, "support-assistant/ai-provider-down.md")
    assert "| anthropic | primary | claude-sonnet-4-5 | <https://status.anthropic.com> | 99.9% |" in text
    assert "Status page, while it lasts:" in text and "Proactive email to affected customers:" in text
    assert "the disruption is ours to own" in text
    assert 'service:ai_error_budget:burned_by_provider_30d{service="support-assistant"}' in text
    assert "anthropic promises 99.9%" in text
    assert "## Provider down" in _page(compiled, "support-assistant/ai-provider-failover-ineffective.md")


def test_remediation_pages_say_what_was_done_how_to_check_undo_and_when_it_pages(compiled: Result) -> None:
    text = _page(compiled, "support-assistant/ai-provider-failover.md")
    assert "Remediation receiver: `ml-platform/remediator` (http://ai-remediator.ml-platform.svc:8080/v1/alerts)" in text
    assert "**Did it work?**" in text and "**Roll it back:**" in text
    assert "amtool silence add alertname=AIProviderFailover service=support-assistant" in text
    assert "It pages as [AIProviderFailoverIneffective](ai-provider-failover-ineffective.md)" in text
    assert "after 11m of the same condition" in text  # for (1m) + remediation_window (10m)
    assert "It never pages" in _page(compiled, "support-assistant/ai-cache-warming-needed.md")


def test_spec_notes_and_changelog_appear_on_the_page(compiled: Result) -> None:
    text = _page(compiled, "support-assistant/ai-provider-down.md")
    added = [s for s in re.findall(r"^### Step \d+\. .*$", text, re.M) if s.endswith("*(from the service spec)*")]
    assert len(added) == 2 and "Are unanswered tickets piling up?" in added[0]
    assert 'sum(rate(helpdesk_tickets_escalated_total{queue="ai-fallback"}[5m]))' in text
    assert "we are answering by hand" in text
    assert "| 14 Mar 2025 | Probe Anthropic synthetically" in text
    assert text.index("| 2 Jun 2025 |") < text.index("| 14 Mar 2025 |"), "newest first"
    assert "*(from the service spec)*" not in _page(compiled, "support-assistant/ai-latency-p95-high.md")


def test_secondary_tier_pages_start_with_who_is_on_it(compiled: Result) -> None:
    text = _page(compiled, "support-assistant/ai-provider-down-secondary.md")
    assert 'ALERTS{alertname="AIProviderDown", service="support-assistant", alertstate="firing"}' in _step(text, 1)
    assert "`ml-platform/pagerduty-secondary` is paged" in text
    # The primary's steps follow, renumbered, and their cross-references follow them.
    assert "success_ratio_rate2m" in _step(text, 2)
    assert "→ step 4" in _step(text, 2)  # "status" is step 3 on the primary page


def test_the_runbook_changes_when_the_spec_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path, {"specs/demo.yaml": edit(BASE, "factor: 3x", "factor: 5x")})
    monkeypatch.chdir(tmp_path)
    text = build([Path("specs")]).files["runbooks/demo/ai-error-rate-spike.md"]
    assert "above 5x its hourly ratio" in text
    assert "| `spec.signals.error_spike.factor` | 5x |" in text


def test_dashboard_links_keep_an_existing_query() -> None:
    assert dashboard_url("https://g/d/x?orgId=1", "svc", "p", "m") == \
        "https://g/d/x?orgId=1&var-service=svc&var-provider=p&var-model=m"


# ---- The checks: one precise line, exit status 1, output untouched ----

RUNBOOKS_BLOCK = "  runbooks:\n    notes:\n"   # lines 21 and 22 of the spec; the notes start on line 23


def _with_notes(notes: str) -> str:
    return BASE + RUNBOOKS_BLOCK + notes


def _fails(workdir: Path, text: str) -> re.Match:
    write_files(workdir, {"specs/demo.yaml": text})
    before = snapshot(workdir / "out")
    line = assert_failed_cleanly(invoke("generate", "specs", "-o", "out"))
    assert snapshot(workdir / "out") == before, "a failed run must not touch the output folder"
    assert assert_failed_cleanly(invoke("validate", "specs")) == line
    m = ERROR_LINE.match(line)
    assert m, line
    return m


def test_a_notes_key_naming_no_alert_is_a_runbook_no_alert_points_to(workdir: Path) -> None:
    m = _fails(workdir, _with_notes("      AIProviderDwn:\n        steps: [\"check it\"]\n"))
    assert (m["file"], m["line"], m["col"], m["field"]) == ("specs/demo.yaml", "23", "7", "spec.runbooks.notes.AIProviderDwn")
    assert 'no alert "AIProviderDwn" for service "demo"' in m["msg"]
    assert 'did you mean "AIProviderDown"?' in m["msg"]


def test_notes_for_an_alert_the_service_does_not_have(workdir: Path) -> None:
    # Failover needs a primary and a secondary provider; the demo has one provider, so no failover alerts.
    m = _fails(workdir, _with_notes("      AIProviderFailover:\n        notes: hold it\n"))
    assert (m["line"], m["field"]) == ("23", "spec.runbooks.notes.AIProviderFailover")


def test_a_paging_alert_whose_decision_tree_is_empty(workdir: Path) -> None:
    m = _fails(workdir, _with_notes("      AIErrorRateSpike:\n        replace: true\n"))
    assert (m["line"], m["field"]) == ("23", "spec.runbooks.notes.AIErrorRateSpike.steps")
    assert "AIErrorRateSpike pages, so its runbook needs a decision tree" in m["msg"]


def test_an_information_alert_may_have_no_decision_tree(workdir: Path) -> None:
    write_files(workdir, {"specs/demo.yaml": _with_notes("      AIUsageNewModel:\n        replace: true\n")})
    result = invoke("generate", "specs", "-o", "fresh")  # out/ holds hand-written files generate will not replace
    assert result.exit_code == 0, result.output
    assert "### Step" not in (workdir / "fresh/runbooks/demo/ai-usage-new-model.md").read_text()


def test_a_relative_link_to_a_missing_file(workdir: Path) -> None:
    notes = ("      AIErrorRateSpike:\n        steps:\n"
             "          - \"See [the rate limit page](ai-rate-limit-engaged.md).\"\n"
             "          - \"See [the old page](ai-error-spike-old.md).\"\n")
    m = _fails(workdir, _with_notes(notes))
    assert (m["line"], m["col"], m["field"]) == ("26", "13", "spec.runbooks.notes.AIErrorRateSpike.steps[1]")
    assert "links to ai-error-spike-old.md, which is not a generated file" in m["msg"]


def test_relative_links_in_notes_that_resolve_are_fine(workdir: Path) -> None:
    notes = ("      AIErrorRateSpike:\n        steps:\n"
             "          - \"See [the rate limit page](ai-rate-limit-engaged.md) and [the rules](../../rules/demo.sli.rules.yml).\"\n")
    write_files(workdir, {"specs/demo.yaml": _with_notes(notes)})
    result = invoke("generate", "specs", "-o", "fresh")
    assert result.exit_code == 0, result.output


def test_a_notes_query_that_is_not_promql(workdir: Path) -> None:
    notes = "      AIErrorRateSpike:\n        steps:\n          - check: look\n            query: 'sum(rate(x[5m])'\n"
    m = _fails(workdir, _with_notes(notes))
    assert (m["line"], m["field"]) == ("26", "spec.runbooks.notes.AIErrorRateSpike.steps[0].query")
    assert "invalid PromQL" in m["msg"]


@pytest.mark.parametrize("date, message", [
    ("2025-03-14", 'expected a quoted date like "2025-03-14", got 2025-03-14'),   # unquoted: YAML reads a date
    ('"14/03/2025"', 'expected a quoted date like "2025-03-14", got "14/03/2025"'),
    ('"2025-02-30"', 'expected a real day, got "2025-02-30"'),
])
def test_changelog_dates(workdir: Path, date: str, message: str) -> None:
    text = BASE + f"  runbooks:\n    changelog:\n      - date: {date}\n        change: x\n"
    m = _fails(workdir, text)
    assert (m["line"], m["col"], m["field"]) == ("23", "9", "spec.runbooks.changelog[0].date")
    assert message in m["msg"]


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    write_files(tmp_path, {"specs/demo.yaml": BASE})
    monkeypatch.chdir(tmp_path)
    return build([Path("specs")])


def test_an_alert_without_a_runbook(demo: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SIGNALS["usage_pattern"], "runbook", lambda service, cfg, alert: None)
    with pytest.raises(SpecError) as err:
        build([Path("specs")])
    assert str(err.value).startswith("specs/demo.yaml:")
    assert "spec.signals.usage_pattern: alert AIUsageNewModel has no runbook" in str(err.value)
    assert 'signal "usage_pattern" writes no runbook content' in str(err.value)


def test_a_signal_that_gives_a_page_no_decision_tree(demo: Result, monkeypatch: pytest.MonkeyPatch) -> None:
    real = SIGNALS["error_spike"].runbook
    monkeypatch.setattr(SIGNALS["error_spike"], "runbook",
                        lambda service, cfg, alert: replace(real(service, cfg, alert), steps=()))
    with pytest.raises(SpecError, match='AIErrorRateSpike pages, but signal "error_spike" gives its runbook no decision tree'):
        build([Path("specs")])


def test_a_runbook_no_alert_reaches(demo: Result) -> None:
    files = dict(demo.files, **{"runbooks/demo/ai-forgotten.md": "# Generated by oncallgen\n"})
    with pytest.raises(SpecError, match="runbook runbooks/demo/ai-forgotten.md is reached from no alert"):
        check_runbooks(demo.plan, files)


def test_a_generated_link_to_a_missing_file(demo: Result) -> None:
    files = {p: t for p, t in demo.files.items() if p != "tests/demo/error_spike.test.yml"}
    with pytest.raises(SpecError, match=r"links to \.\./\.\./tests/demo/error_spike\.test\.yml, which is not a generated"):
        check_runbooks(demo.plan, files)


def test_content_types_are_plain_frozen_data() -> None:
    step = Step("check", "up", branches=(("a", "b"),))
    content = RunbookContent("m", "i", (step,))
    with pytest.raises(AttributeError):
        content.meaning = "x"  # type: ignore[misc]


def test_no_step_reference_is_left_unresolved() -> None:
    """`step:<key>` in a condition or an action always becomes a step number."""
    pages = list((ROOT / "output" / "runbooks").rglob("*.md"))
    assert pages
    for page in pages:
        assert not re.search(r"\bstep:[a-z_]+", page.read_text()), page
