"""Thin wrappers around the real promtool: run it, return what it said."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    ok: bool
    output: str


def binary() -> str:
    """The promtool on PATH; raises FileNotFoundError with the install hint when there is none."""
    found = shutil.which("promtool")
    if not found:
        raise FileNotFoundError("promtool not found: install Debian's prometheus package (make test does)")
    return found


def _run(args: list[str], cwd: Path | None = None, timeout: float = 600) -> Run:
    proc = subprocess.run([binary(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode == 0, proc.stdout + proc.stderr)


def check_rules(files: list[Path]) -> Run:
    """`promtool check rules --lint=all --lint-fatal` over `files`."""
    return _run(["check", "rules", "--lint=all", "--lint-fatal", *map(str, files)])


def test_rules(test_file: Path) -> Run:
    """`promtool test rules` on one unit-test file (rule files resolve relative to it)."""
    return _run(["test", "rules", test_file.name], cwd=test_file.parent)


test_rules.__test__ = False  # not a pytest test, despite its name
