"""The committed output/ folder is exactly what specs/ compile to, and `generate --check` says so.

When the first test fails, the specs (or the generator) changed without regenerating: run `make generate`
and commit output/ with the change.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import EXIT_STALE, main
from generator.pipeline import Result
from generator.targets.files import differences, write_tree

ROOT = Path(__file__).resolve().parent.parent


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder under `root` with its content and modification time, to prove nothing was written."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_committed_output_is_up_to_date(compiled: Result) -> None:
    stale = differences(ROOT / "output", compiled.files)
    shown = stale[:20] + ([f"... {len(stale) - 20} more"] if len(stale) > 20 else [])
    if stale:
        pytest.fail("output/ is not what specs/ compile to; run `make generate` and commit the result. "
                    f"{len(stale)} files differ (added, changed or removed):\n  " + "\n  ".join(shown), pytrace=False)


@pytest.fixture
def copy_of_output(compiled: Result, tmp_path: Path) -> Path:
    """An up-to-date output folder: output/ copied, then brought up to date with what specs/ compile to.

    The copy starts from the committed tree so it has its real shape; the refresh keeps the `--check` tests
    about the CLI even while output/ itself is stale (which the first test reports on its own).
    """
    dest = tmp_path / "output"
    shutil.copytree(ROOT / "output", dest)
    if differences(dest, compiled.files):
        write_tree(dest, compiled.files)
    assert differences(dest, compiled.files) == []
    return dest


def _check(out: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)  # header paths read specs/<file>.yaml, as in the committed output
    return CliRunner().invoke(main, ["generate", "specs", "-o", str(out), "--check"])


def test_check_passes_on_an_exact_copy_and_writes_nothing(copy_of_output: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    before = _snapshot(copy_of_output.parent)
    run = _check(copy_of_output, monkeypatch)
    assert run.exit_code == 0, run.output
    assert "up to date" in run.output
    assert _snapshot(copy_of_output.parent) == before


def test_check_exits_3_on_a_modified_file_and_writes_nothing(copy_of_output: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    victim = sorted(copy_of_output.rglob("*.rules.yml"))[0]
    victim.write_text(victim.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    before = _snapshot(copy_of_output.parent)
    run = _check(copy_of_output, monkeypatch)
    assert run.exit_code == EXIT_STALE == 3, run.output
    assert victim.relative_to(copy_of_output).as_posix() in run.output
    assert "make generate" in run.output
    assert _snapshot(copy_of_output.parent) == before


def test_check_exits_3_on_a_missing_and_on_an_extra_file(compiled: Result, copy_of_output: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    removed = sorted(copy_of_output.rglob("*.test.yml"))[0]
    rel = removed.relative_to(copy_of_output).as_posix()
    removed.unlink()
    run = _check(copy_of_output, monkeypatch)
    assert run.exit_code == 3, run.output
    assert not removed.exists(), "--check must not restore a missing file"

    assert rel in run.output
    removed.write_text(compiled.files[rel], encoding="utf-8")  # back up to date, then one file too many
    extra = copy_of_output / "rules" / "left-over.rules.yml"
    extra.write_text("groups: []\n", encoding="utf-8")
    run = _check(copy_of_output, monkeypatch)
    assert run.exit_code == 3, run.output
    assert extra.exists(), "--check must not delete a stale file"
