"""The targets' files: which each run writes (targets asked per spec, or for the run), the Thanos Ruler files,
the deploy settings checked where they are written, and `oncallgen diff` on packaged objects. The operator's and
Mimir's behaviour: test_target_operator.py, test_target_mimir.py.

Two trees (conftest.py): the committed examples (targets asked per spec: search-answers on the operator and
Thanos, contract-review on Mimir) and every service on every target (`--target` for the run, as `make generate
TARGETS="operator mimir thanos"`).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator import promtool
from generator.cli import main
from tests.targets_support import ROOT, errors, generate, load, schema


# ---- which files each target writes -------------------------------------------------------------------------

def test_targets_asked_per_spec_write_only_those_services(out_dir: Path) -> None:
    written = sorted(p.relative_to(out_dir).as_posix() for d in ("kubernetes", "mimir") for p in (out_dir / d).rglob("*")
                     if p.is_file())
    assert written == [
        "kubernetes/monitoring/oncallgen-dashboard-search-answers.configmap.yaml",
        "kubernetes/monitoring/oncallgen-dashboard-team-search.configmap.yaml",
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


# ---- Thanos ---------------------------------------------------------------------------------------------------

@pytest.mark.proof
def test_thanos_rule_files_match_the_schema_and_pass_promtool_without_the_thanos_field(tree: Path,
                                                                                       tmp_path: Path) -> None:
    validator = schema("thanos-rules")
    stripped = []
    for path in sorted(tree.glob("thanos/*.thanos.yml")):
        doc = load(path)
        assert not errors(validator, doc), (path, errors(validator, doc))
        plain_name = path.name.replace(".thanos.yml", ".rules.yml")
        plain = load(tree / "rules" / plain_name)
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
                  for g in load(path)["groups"]}
    assert {s for name, s in strategies if name.startswith("search-answers.")} == {"warn"}
    assert {s for name, s in strategies if name.startswith("oncallgen.")} == {None}


# ---- what a spec cannot ask of a target, and diff ----------------------------------------------------

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
    result = generate(tmp_path, monkeypatch, ("search-answers.yaml", old, new))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith(message), result.stderr
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
