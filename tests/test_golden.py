"""Golden files: small spec sets compiled and compared, whole output tree, byte for byte.

Each case is a folder `tests/golden/<case>/` with `specs/*.yaml` and `expected/` (the output tree they compile
to). The case folder is the working directory while compiling, so headers read `specs/<file>.yaml`.

When the generator's output changes on purpose, regenerate the expected trees with `make golden`
(`UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py`) and review the diff before committing it.

Cases:
- minimal-otel: the smallest valid otel-genai spec (one provider, no latency objective, everything defaulted);
  shows what the defaults produce.
- custom-preset: the custom preset with a spend counter (no price table) and an eval-results mapping whose
  label names differ from the convention.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from generator.pipeline import build
from generator.targets.files import write_tree

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "specs").is_dir())
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
DIFF_LINES = 80  # the unified diff shown in a failure is cut after this many lines
LISTED = 20      # and each list of file names after this many


def _read_tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _names(paths: list[str]) -> str:
    shown = ", ".join(paths[:LISTED])
    return shown + (f", ... ({len(paths) - LISTED} more)" if len(paths) > LISTED else "")


def _diff(path: str, expected: bytes, actual: bytes) -> str:
    lines = list(difflib.unified_diff(expected.decode("utf-8", "replace").splitlines(keepends=True),
                                      actual.decode("utf-8", "replace").splitlines(keepends=True),
                                      f"expected/{path}", f"generated/{path}"))
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... diff truncated ({len(lines) - DIFF_LINES} more lines)\n"]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def compare(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """A readable account of how two trees differ; empty when they are identical."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p])
    parts = []
    if missing:
        parts.append(f"{len(missing)} expected files not generated: {_names(missing)}")
    if extra:
        parts.append(f"{len(extra)} generated files not in expected/: {_names(extra)}")
    if changed:
        parts.append(f"{len(changed)} files differ: {_names(changed)}\n"
                     f"first difference:\n{_diff(changed[0], expected[changed[0]], actual[changed[0]])}")
    return "\n".join(parts)


def test_there_are_golden_cases() -> None:
    assert {"minimal-otel", "custom-preset"} <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = GOLDEN / case
    monkeypatch.chdir(root)
    result = build([Path("specs")])
    if UPDATE:
        write_tree(root / "expected", result.files)
    actual = {path: text.encode("utf-8") for path, text in result.files.items()}
    problems = compare(_read_tree(root / "expected"), actual)
    if problems:
        pytest.fail(f"golden case {case!r}: the output differs from tests/golden/{case}/expected/ "
                    f"(if the change is intended, run `make golden` and review the diff)\n{problems}", pytrace=False)


def test_compare_reports_missing_extra_and_changed_files() -> None:
    expected = {"a.yml": b"x: 1\n", "b.yml": b"y: 1\n", "same.yml": b"s\n"}
    actual = {"b.yml": b"y: 2\n", "c.yml": b"z\n", "same.yml": b"s\n"}
    report = compare(expected, actual)
    assert "1 expected files not generated: a.yml" in report
    assert "1 generated files not in expected/: c.yml" in report
    assert "1 files differ: b.yml" in report
    assert "-y: 1\n+y: 2\n" in report
    assert compare(expected, dict(expected)) == ""
