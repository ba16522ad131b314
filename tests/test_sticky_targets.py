"""A folder remembers the targets it was generated with, and there is a version to pin (issue: the pre-commit
`oncallgen-check` hook failed once a run used `--target`, and `make generate` without TARGETS deleted the targets'
files; there was no `rev:` to pin).

Every run is the real CLI (or the real Makefile) on a copy of the example specs; every expectation is written here by
hand: the example specs put search-answers on operator and thanos and contract-review on mimir (`spec.deploy.targets`),
so `--target operator` adds the PrometheusRules of internal-chat and support-assistant (team ml-platform, namespace
ml-platform) and of contract-review (legal-ai).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOOKS = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
CHECK_ARGS = shlex.split(HOOKS["oncallgen-check"]["entry"])[1:]      # what the pre-commit hook runs: generate --check
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

# Files only `--target operator` writes (the example specs do not ask for operator for these services).
OPERATOR_ONLY = ("kubernetes/ml-platform/support-assistant.prometheusrule.yaml",
                 "kubernetes/ml-platform/internal-chat.prometheusrule.yaml",
                 "kubernetes/ml-platform/ml-platform.alertmanagerconfig.yaml",
                 "kubernetes/legal-ai/contract-review.prometheusrule.yaml")
# Written in every run: search-answers asks for operator in its spec.
BY_SPEC = "kubernetes/search-prod/search-answers.prometheusrule.yaml"
MANIFEST = ".oncallgen-manifest"
LATENCY_LINE = "    latency: {page_at: 3x, ticket_at: 1x}\n"   # in specs/support-assistant.yaml


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example specs, as the current folder (where the pre-commit hook runs)."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def errors(result) -> str:
    """stderr without the example specs' warnings (latency thresholds between histogram buckets)."""
    return "".join(line for line in result.stderr.splitlines(keepends=True) if not line.startswith("warning: "))


def recorded_lines(out: Path) -> list[str]:
    return [line for line in (out / MANIFEST).read_text(encoding="utf-8").splitlines() if line.startswith("# targets")]


def test_the_hook_passes_on_a_folder_generated_with_a_target_and_plain_generate_keeps_it(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    out = work / "output"
    assert recorded_lines(out) == ["# targets: operator"]
    assert all((out / p).is_file() for p in OPERATOR_ONLY + (BY_SPEC,))

    check = cli(*CHECK_ARGS)                  # exactly the hook's entry, no --target
    assert check.exit_code == 0, check.output
    assert "output/ is up to date" in check.output and "targets operator" in check.output

    before = snapshot(out)
    again = cli("generate")                   # `make generate` without TARGETS
    assert again.exit_code == 0, again.output
    assert "targets operator as recorded in output/.oncallgen-manifest" in again.output
    assert snapshot(out) == before            # byte for byte: nothing dropped, nothing rewritten differently


def test_target_none_drops_the_recorded_targets_and_their_files(work: Path) -> None:
    assert cli("generate", "--target", "operator", "--target", "mimir").exit_code == 0
    out = work / "output"
    assert recorded_lines(out) == ["# targets: mimir operator"]        # sorted, one line
    kept = (out / "kustomization.yaml")
    kept.write_text("resources: [kubernetes/]\n", encoding="utf-8")     # a team's file: never touched

    assert cli("generate", "--target", "mimir").exit_code == 0           # any --target replaces the set
    assert recorded_lines(out) == ["# targets: mimir"]
    assert not any((out / p).exists() for p in OPERATOR_ONLY)
    assert (out / BY_SPEC).is_file()

    dropped = cli("generate", "--target", "none")
    assert dropped.exit_code == 0, dropped.output
    assert recorded_lines(out) == []
    assert not (out / "mimir/ml-platform").exists()                      # ml-platform was on mimir by --target only
    assert (out / "mimir/legal-ai/contract-review.yaml").is_file()       # contract-review asks for mimir itself
    assert (out / BY_SPEC).is_file()
    assert kept.read_text(encoding="utf-8") == "resources: [kubernetes/]\n"
    assert cli(*CHECK_ARGS).exit_code == 0
    assert "targets" not in cli("generate").output                       # nothing recorded, nothing to say


def test_none_with_another_target_is_a_usage_error_that_writes_nothing(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    before = snapshot(work / "output")
    result = CliRunner().invoke(main, ["generate", "--target", "none", "--target", "mimir"])
    assert result.exit_code == 2
    assert errors(result) == "error: --target none drops every target: give it alone, or name the targets to keep\n"
    assert snapshot(work / "output") == before


def test_check_names_the_command_with_its_targets_after_a_spec_change(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    spec = work / "specs" / "support-assistant.yaml"
    text = spec.read_text(encoding="utf-8")
    assert LATENCY_LINE in text
    spec.write_text(text.replace(LATENCY_LINE, "    latency: {page_at: 6x, ticket_at: 1x}\n"), encoding="utf-8")
    before = snapshot(work / "output")

    result = CliRunner().invoke(main, CHECK_ARGS)
    assert result.exit_code == 3
    assert errors(result).startswith("error: output/ is out of date: ")
    assert "(run `oncallgen generate --target operator`):\n" in errors(result)
    assert "\n  rules/support-assistant.latency.rules.yml\n" in errors(result)
    assert "\n  kubernetes/ml-platform/support-assistant.prometheusrule.yaml\n" in errors(result)
    assert snapshot(work / "output") == before

    # Specs and folder named, and a check with targets the folder does not record: the command says them all.
    result = CliRunner().invoke(main, ["generate", "specs", "-o", "output", "--check",
                                                       "-t", "thanos", "-t", "mimir"])
    assert result.exit_code == 3
    assert "(run `oncallgen generate specs --target mimir --target thanos`)" in errors(result)
    result = CliRunner().invoke(main, ["generate", "specs", "-o", "my out", "--check"])
    assert "(run `oncallgen generate specs -o 'my out'`)" in errors(result)
    result = CliRunner().invoke(main, ["generate", "--check", "--target", "none"])
    assert "(run `oncallgen generate --target none`)" in errors(result)   # plain generate would keep operator

    # The named command is the one that brings the folder up to date.
    assert cli("generate", "--target", "operator").exit_code == 0
    assert cli(*CHECK_ARGS).exit_code == 0


def test_the_docs_say_how_to_pin_and_drop_targets() -> None:
    header = "".join(line for line in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines(True)
                     if line.startswith("#"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (header, readme):
        assert "args: [--target, operator" in text and "--target none" in text and ".oncallgen-manifest" in text
    assert "make generate TARGETS=none" in readme


def test_the_hook_can_pin_targets_in_its_args(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    assert cli(*CHECK_ARGS, "--target", "operator").exit_code == 0
    pinned_other = CliRunner().invoke(main, [*CHECK_ARGS, "--target", "thanos"])
    assert pinned_other.exit_code == 3
    assert "(run `oncallgen generate --target thanos`)" in errors(pinned_other)


@pytest.mark.parametrize("line, error", [
    # "# targets: operator " is 20 characters: the bad name starts at column 21.
    ("# targets: operator kubernetes", ':4:21: "kubernetes" is not a target (one of: mimir, operator, thanos): '
                                                 'fix the line, or give --target'),
    ("# targets: prometheus", ':4:12: "prometheus" is not a target (one of: mimir, operator, thanos): '
                                                 'fix the line, or give --target'),
])
def test_a_targets_line_someone_edited_is_one_located_line(work: Path, line: str, error: str) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    manifest = work / "output" / MANIFEST
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("# targets: operator\n", line + "\n"), encoding="utf-8")
    assert manifest.read_text(encoding="utf-8").splitlines()[3] == line      # line 4 of the manifest
    before = snapshot(work / "output")
    for args in (["generate"], CHECK_ARGS, ["diff", "--base-dir", "output"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert errors(result) == f"error: output/{MANIFEST}{error}\n"
    assert snapshot(work / "output") == before
    fixed = cli("generate", "--target", "operator")      # a run given --target does not read the line: it rewrites it
    assert fixed.exit_code == 0, fixed.output
    assert recorded_lines(work / "output") == ["# targets: operator"]


def test_two_targets_lines_from_a_merge_are_refused(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    manifest = work / "output" / MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8") + "# targets: mimir\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["generate"])
    assert result.exit_code == 1
    assert re.fullmatch(r"error: output/\.oncallgen-manifest:\d+:1: a second targets line \(the first is line 4\): "
                        r"keep one, or run generate with --target\n", errors(result)), result.stderr


def test_diff_without_target_compiles_for_the_recorded_targets(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    shutil.copytree(work / "output", work / "base")
    same = cli("diff", "--base-dir", "base")
    assert same.exit_code == 0, same.output          # without the recorded operator, its objects would be "removed"
    dropped = cli("diff", "--base-dir", "base", "--target", "none")
    assert dropped.exit_code == 4
    for name in ("support-assistant", "internal-chat", "contract-review"):
        assert f"\npackaged  PrometheusRule {name} removed\n" in dropped.output


def test_diff_against_a_git_base_reads_the_targets_of_the_output_folder(work: Path) -> None:
    assert cli("generate", "--target", "operator").exit_code == 0
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "generated with --target operator"]):
        subprocess.run(["git", *args], cwd=work, check=True, env=env, capture_output=True)
    result = cli("diff")
    assert result.exit_code == 0, result.output


def make(target: str, work: Path, *extra: str) -> subprocess.CompletedProcess:
    """The repository's Makefile on work/specs and work/output, with this interpreter's tools (as test_ownership)."""
    stamp = work / "stamp"
    stamp.touch()
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), target, f"SPECS={work / 'specs'}",
                           f"OUTPUT={work / 'output'}", f"BIN={Path(sys.executable).parent}", f"STAMP={stamp}", *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_make_generate_with_and_without_targets(work: Path) -> None:
    out = work / "output"
    assert make("generate", work, "TARGETS=operator mimir").returncode == 0
    assert recorded_lines(out) == ["# targets: mimir operator"]
    run = make("generate", work)                       # no TARGETS: the recorded ones
    assert run.returncode == 0, run.stderr
    assert all((out / p).is_file() for p in OPERATOR_ONLY)
    assert make("check", work).returncode == 0
    assert make("check", work, "TARGETS=operator mimir").returncode == 0
    run = make("check", work, "TARGETS=operator")
    assert run.returncode != 0 and "--target operator`" in run.stderr
    assert make("generate", work, "TARGETS=none").returncode == 0
    assert not any((out / p).exists() for p in OPERATOR_ONLY) and recorded_lines(out) == []
    assert make("check", work).returncode == 0


# ---- a version to pin ----

def test_version_is_pyprojects() -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output == f"oncallgen, version {VERSION}\n"


def test_the_rev_the_docs_pin_is_this_version() -> None:
    """The README's and the hooks file's `rev:` is the tag `make release` makes of this version."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    for text in (readme, hooks):
        assert re.findall(r"\brev: (\S+)", text) == [f"v{VERSION}"]
        assert "commit SHA" in text


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=60)


def test_make_release_tags_the_version_once_and_only_on_a_clean_tree(tmp_path: Path) -> None:
    """In a scratch repository holding the Makefile and pyproject.toml: never in this one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / "Makefile", repo / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    assert _git(repo, "commit", "-qm", "first").returncode == 0

    def release() -> subprocess.CompletedProcess:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        return subprocess.run(["make", "--no-print-directory", "release"], cwd=repo, capture_output=True, text=True,
                              env=env, timeout=60)

    (repo / "notes.txt").write_text("not committed\n", encoding="utf-8")
    dirty = release()
    assert dirty.returncode != 0 and "uncommitted changes" in dirty.stderr
    assert _git(repo, "tag").stdout == ""
    (repo / "notes.txt").unlink()

    done = release()
    assert done.returncode == 0, done.stderr
    assert _git(repo, "tag").stdout == f"v{VERSION}\n"
    assert f"git push origin v{VERSION}" in done.stdout
    assert _git(repo, "rev-parse", f"v{VERSION}^{{commit}}").stdout == _git(repo, "rev-parse", "HEAD").stdout

    again = release()
    assert again.returncode != 0 and f"tag v{VERSION} exists" in again.stderr
