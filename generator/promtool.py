"""Thin wrappers around the real promtool."""
from __future__ import annotations

from pathlib import Path

from .tools import Run, run


def check_rules(files: list[Path]) -> Run:
    """`promtool check rules --lint=all --lint-fatal` over `files`."""
    return run("promtool", "prometheus", ["check", "rules", "--lint=all", "--lint-fatal", *map(str, files)])


def test_rules(test_file: Path) -> Run:
    """`promtool test rules` on one unit-test file (rule files resolve relative to it)."""
    return run("promtool", "prometheus", ["test", "rules", test_file.name], cwd=test_file.parent)


test_rules.__test__ = False  # not a pytest test, despite its name
