"""The pre-commit hooks other repositories use run real commands, and pass on this repository's specs."""
from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def test_the_hooks_are_validate_and_check() -> None:
    assert [h["id"] for h in HOOKS] == ["oncallgen-validate", "oncallgen-check"]
    for hook in HOOKS:
        assert {"id", "name", "entry", "language"} <= set(hook)
        assert hook["language"] == "python"  # pre-commit installs this repository's package (pyproject.toml)
        assert hook["pass_filenames"] is False, "validation needs every spec, not just the changed ones"


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_each_hook_entry_runs_and_passes_here(hook: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    program, *args = shlex.split(hook["entry"])
    assert program in SCRIPTS
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def test_the_check_hook_fails_on_a_stale_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = next(h for h in HOOKS if h["id"] == "oncallgen-check")
    _, *args = shlex.split(hook["entry"])
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, [*args, "specs", "-o", str(tmp_path / "empty")])
    assert result.exit_code == 3
