"""`oncallgen diff`: a semantic diff of alerting behaviour between the committed output and the edited specs.

Each case is run for real: a throwaway git repository in tmp_path holding tests/diff_cases/specs and the output
generated from them, committed; then one edit to the specs, and `oncallgen diff` against HEAD. The Markdown
reports are compared with the reviewed files tests/diff_cases/<case>.md (`make golden` rewrites them after an
intended change); the facts each case is about are also asserted by hand.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import EXIT_CHANGED, main
from generator.diff import diff_files
from generator.diff.compare import FieldChange, expression_change
from generator.diff.sources import folder_files
from generator.diff.state import Delivery, read_state

CASES = Path(__file__).resolve().parent / "diff_cases"
ROOT = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

LATENCY = "    latency: {page_at: 2x, ticket_at: 1x}\n"
PRIMARY = "    primary: pd-primary\n"
ESCALATING = "    secondary: pd-secondary\n    ticket: slack\n  escalation: {secondary_after: 20m}\n"
PAGING_TOOL = "    ticket: slack\n  escalation: {mode: paging_tool}\n"
# Each case: the file under specs/ to edit, the text to replace, and its replacement.
EDITS = {
    "threshold": ("chat.yaml", LATENCY, "    latency: {page_at: 4x, ticket_at: 1x}\n"),
    "receiver": ("oncall.yaml", PRIMARY, "    primary: pd-secondary\n"),
    "runbook-only": ("chat.yaml", "  slo: {latency_p95: 5120ms}\n",
                     "  slo: {latency_p95: 5120ms}\n  runbooks:\n    notes:\n      AILatencyP95High:\n"
                     "        notes: Check the model router's queue first.\n"),
    "nothing": ("chat.yaml", "", ""),
    "channel": ("oncall.yaml", 'channel: "#assistants"', 'channel: "#assistants-oncall"'),
    # The team's paging tool escalates from now on: Prometheus' secondary tier goes, and pd-secondary with it.
    "secondary-removed": ("oncall.yaml", ESCALATING, PAGING_TOOL),
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with the case specs and their output committed; the working directory."""
    shutil.copytree(CASES / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["generate", "specs", "-o", "output"]).exit_code == 0
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def edit(repo: Path, case: str) -> None:
    name, old, new = EDITS[case]
    spec = repo / "specs" / name
    text = spec.read_text(encoding="utf-8")
    assert old in text, (case, old)
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_diff(*args: str):
    return CliRunner().invoke(main, ["diff", "specs", *args])


@pytest.mark.parametrize("case", sorted(EDITS))
def test_markdown_report_matches_the_reviewed_golden(repo: Path, case: str) -> None:
    edit(repo, case)
    result = run_diff("--format", "markdown")
    assert result.exit_code in (0, EXIT_CHANGED), (result.output, result.exception)
    golden = CASES / f"{case}.md"
    if UPDATE:
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8"), \
        f"the report differs from {golden.relative_to(ROOT)} (if intended, run `make golden` and review it)"


def test_one_threshold_edit_is_exactly_one_changed_alert_with_old_and_new_threshold(repo: Path) -> None:
    edit(repo, "threshold")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED == 4
    changes = diff_files(folder_files(repo / "output"), _compiled(repo))
    assert [(a.service, a.alertname, a.kind) for a in changes.alerts] == [("chat", "AILatencyP95High", "changed")]
    rows = [(r.wheres, ch) for r in changes.alerts[0].rules for ch in r.changes]
    # 2x the 5.12s objective was 10.24 seconds; 4x is 20.48. Both tiers of the page share the threshold.
    assert (("primary", "secondary"), FieldChange("threshold", "10.24", "20.48")) in rows
    assert [ch.what for _, ch in rows] == ["threshold", "annotation description", "annotation description"]
    assert not changes.routes and not changes.inhibitions_added and not changes.inhibitions_removed
    assert not changes.recordings
    assert "changed   chat AILatencyP95High [primary, secondary]: threshold: 10.24 -> 20.48\n" in result.stdout
    assert result.stderr == "", "the case specs are clean: no warnings"


def test_a_receiver_change_is_reported_per_alert_and_tier(repo: Path) -> None:
    edit(repo, "receiver")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED
    changes = diff_files(folder_files(repo / "output"), _compiled(repo))
    assert not changes.alerts, "no rule changed: only where the pages go"
    moved = {(r.alertname, r.where): ([str(d) for d in r.before], [str(d) for d in r.after]) for r in changes.routes}
    # The primary tier of every page moves from pd-primary to pd-secondary; the secondary tier and the ticket stay.
    assert moved == {
        ("AIProviderDown", "primary"): (["assistants/pd-primary"], ["assistants/pd-secondary"]),
        ("AITrafficStopped", "primary"): (["assistants/pd-primary"], ["assistants/pd-secondary"]),
        ("AILatencyP95High", "primary"): (["assistants/pd-primary"], ["assistants/pd-secondary"]),
    }
    assert ("routing   chat AIProviderDown [primary]: assistants/pd-primary -> assistants/pd-secondary\n"
            in result.stdout)


def test_a_receiver_setting_change_is_a_behaviour_change(repo: Path) -> None:
    edit(repo, "channel")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED
    changes = diff_files(folder_files(repo / "output"), _compiled(repo))
    assert not changes.alerts and not changes.routes, "the same receiver, configured differently"
    assert [(r.name, r.kind, r.settings) for r in changes.receivers] == [
        ("assistants/slack", "changed", (FieldChange("slack_configs[0].channel", "#assistants", "#assistants-oncall"),))]
    assert "receiver  assistants/slack: slack_configs[0].channel: #assistants -> #assistants-oncall\n" in result.stdout


def test_runbook_only_changes_do_not_change_behaviour(repo: Path) -> None:
    edit(repo, "runbook-only")
    result = run_diff()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("No change in alerting behaviour: ")
    assert "runbook   runbooks/chat/ai-latency-p95-high.md changed: Notes from the service spec\n" in result.stdout
    assert "changed   " not in result.stdout and "routing   " not in result.stdout


# The pages of tests/diff_cases/specs/chat.yaml, by hand: provider_down, traffic_stopped (on by default) and the
# latency page (page_at 2x); the latency ticket (ticket_at 1x) has no tier of its own.
PAGES = ("AILatencyP95High", "AIProviderDown", "AITrafficStopped")


def test_a_team_losing_its_secondary_says_whose_pager_stops_getting_the_tier(repo: Path) -> None:
    edit(repo, "secondary-removed")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED
    for page in PAGES:
        assert f"changed   chat {page} [secondary]: rule: present -> removed\n" in result.stdout
        assert f"routing   chat {page} [secondary]: assistants/pd-secondary -> (tier removed)\n" in result.stdout
    assert result.stdout.count("routing   ") == 3, "the primary tier still reaches pd-primary: no line for it"
    assert "routing changed for 3 alerts;" in result.stdout


def test_a_team_gaining_a_secondary_says_whose_pager_each_new_tier_reaches(repo: Path) -> None:
    """The base is the team on its paging tool's escalation (one tier); the specs give it Prometheus' second tier."""
    spec = repo / "specs" / "oncall.yaml"
    original = spec.read_text(encoding="utf-8")
    edit(repo, "secondary-removed")
    assert CliRunner().invoke(main, ["generate", "specs", "-o", "output"]).exit_code == 0
    git(repo, "commit", "-q", "-am", "paging tool escalates")
    spec.write_text(original, encoding="utf-8")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED
    routing = [line for line in result.stdout.splitlines() if line.startswith("routing ")]
    assert routing == [
        "routing   chat AILatencyP95High [secondary]: (new tier) -> assistants/pd-secondary",
        "routing   chat AIProviderDown [secondary]: (new tier) -> assistants/pd-secondary",
        "routing   chat AITrafficStopped [secondary]: (new tier) -> assistants/pd-secondary",
    ]
    changes = diff_files(folder_files(repo / "output"), _compiled(repo))
    assert [(r.alertname, r.where, r.kind, r.before, r.after) for r in changes.routes] == [
        (page, "secondary", "added", (), (Delivery("assistants/pd-secondary"),)) for page in PAGES]
    markdown = run_diff("--format", "markdown").stdout
    assert "| `AIProviderDown` | chat | secondary | (new tier) | assistants/pd-secondary |\n" in markdown


def test_a_signal_that_starts_paging_says_where_each_tier_of_its_pages_goes(repo: Path) -> None:
    spec = repo / "specs" / "chat.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("    error_spike: {enabled: false}\n",
                                                             "    error_spike: {}\n"), encoding="utf-8")
    result = run_diff()
    assert result.exit_code == EXIT_CHANGED
    assert "added     chat AIErrorRateSpike [primary, secondary]\n" in result.stdout
    # tests/diff_cases/specs/oncall.yaml: primary pd-primary, secondary pd-secondary.
    for page in ("AIErrorRateSpike", "AIErrorRateSpikeGrowing"):
        assert f"routing   chat {page} [primary]: (new tier) -> assistants/pd-primary\n" in result.stdout
        assert f"routing   chat {page} [secondary]: (new tier) -> assistants/pd-secondary\n" in result.stdout
    assert result.stdout.count("routing   ") == 4


def test_no_edit_no_change(repo: Path) -> None:
    result = run_diff()
    assert result.exit_code == 0
    assert result.stdout == "No change in alerting behaviour, routing or runbooks.\n"


def test_removing_a_signal_removes_its_alerts_and_base_dir_works_too(repo: Path, tmp_path: Path) -> None:
    spec = repo / "specs" / "chat.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(LATENCY, "    latency: {enabled: false}\n"),
                    encoding="utf-8")
    shutil.copytree(repo / "output", tmp_path / "base-copy")
    for args in ((), ("--base-dir", str(tmp_path / "base-copy"))):
        result = run_diff(*args)
        assert result.exit_code == EXIT_CHANGED
        assert "removed   chat AILatencyP95High [primary, secondary]\n" in result.stdout
        assert "removed   chat AILatencyP95AboveSLO [primary]\n" in result.stdout


def test_an_output_folder_absent_at_the_base_makes_every_alert_new(repo: Path) -> None:
    result = run_diff("-o", "elsewhere")
    assert result.exit_code == EXIT_CHANGED
    assert "added     chat AIProviderDown [primary, secondary]\n" in result.stdout


def test_a_bad_ref_is_a_one_line_usage_error(repo: Path) -> None:
    result = run_diff("--base", "no-such-branch")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith('error: unknown git ref "no-such-branch" in ') and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_outside_a_git_repository_is_a_one_line_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(CASES / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = run_diff()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: git ") and result.stderr.count("\n") == 1


def _compiled(repo: Path) -> dict[str, str]:
    from generator.pipeline import build
    return build([Path("specs")]).files


# ---- the parts, on their own ----------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, expected", [
    ('a{x="1"} > 12 and b > 0.05', 'a{x="1"} > 16 and b > 0.05', FieldChange("threshold", "12", "16")),
    ("a > bool 1e3", "a > bool 2e3", FieldChange("threshold", "1e3", "2e3")),
    ("histogram_quantile(0.95, x) > 2", "histogram_quantile(0.99, x) > 2", FieldChange("number", "0.95", "0.99")),
    ("rate(x[5m]) > 1", "rate(x[10m]) > 1", FieldChange("expression", "rate(x[5m]) > 1", "rate(x[10m]) > 1")),
    ('x{code="500"} > 1', 'x{code="501"} > 1', FieldChange("expression", 'x{code="500"} > 1', 'x{code="501"} > 1')),
    ("a > 1", "a > 1.0", None),
    ("a > 1", "a > 1", None),
])
def test_expression_changes(before: str, after: str, expected) -> None:
    change = expression_change(before, after)
    if expected is None and before != after:
        # 1 and 1.0 are the same threshold written twice; still an edit of the expression, not of a number.
        assert change == FieldChange("expression", before, after)
    else:
        assert change == expected


def test_the_route_walk_agrees_with_the_amtool_checked_routing_cases(out_dir: Path) -> None:
    """Every alert of the example output, routed by the diff's own tree walk, reaches the receivers that the
    routing cases (checked by the real amtool in test_amtool.py) say, in order."""
    state = read_state(folder_files(out_dir))
    cases = yaml.safe_load((out_dir / "alertmanager" / "routes.test.yml").read_text(encoding="utf-8"))["cases"]
    expected = {(c["labels"]["service"], c["labels"]["alertname"], c["labels"].get("escalation", "primary"),
                 c["labels"].get("reason", "")): c["receivers"] for c in cases if "service" in c["labels"]}
    seen = 0
    for key, alert in state.alerts.items():
        if alert.alertname == "AIWatchdog" or not alert.service:  # global alerts have no routing case per service
            continue
        want = expected[(alert.service, alert.alertname, alert.tier, dict(alert.variant).get("reason", ""))]
        assert [d.receiver for d in state.routes[key]] == want, key
        seen += 1
    assert seen > 60
    tickets = [state.routes[k] for k, a in state.alerts.items()
               if a.service == "support-assistant" and a.labels.get("severity") == "warning"
               and "remediation" not in a.labels]
    assert tickets and all(d == (Delivery("ml-platform/slack-tickets", ("ml-platform/business-hours",)),)
                           for d in tickets)
