"""Tests that do not come from the compiler: hand-written promtool tests, and the golden trees' generated ones.

Each `tests/handwritten/<case>/` holds a small `spec.yaml` and `*.test.yml` files whose input series and expected
alerts were written by reading the spec. The CLI compiles the spec; the tests run against those rules (from
`<output>/handwritten/`, so their `rule_files` read `../rules/...`). A hand-written test never sees the expression it
checks, so it is evidence the generated tests cannot be.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator import promtool

ROOT = Path(__file__).resolve().parent
HANDWRITTEN = ROOT / "handwritten"
CASES = sorted(p.name for p in HANDWRITTEN.iterdir() if (p / "spec.yaml").is_file())
GOLDEN_TESTS = sorted(p.relative_to(ROOT / "golden").as_posix()
                      for p in (ROOT / "golden").glob("*/expected/tests/**/*.test.yml"))


def compile_case(case: Path, dest: Path) -> Path:
    """Compile `case/spec.yaml` with the CLI into `dest`; copy the case's tests into `dest/handwritten/`."""
    run = subprocess.run([sys.executable, "-m", "generator", "generate", str(case / "spec.yaml"), "-o", str(dest)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    (dest / "handwritten").mkdir()
    for test in sorted(case.glob("*.test.yml")):
        shutil.copy(test, dest / "handwritten" / test.name)
    return dest / "handwritten"


@pytest.fixture(scope="session")
def handwritten_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, promtool.Run]:
    """Every hand-written test file run through promtool, in parallel."""
    files = []
    for name in CASES:
        folder = compile_case(HANDWRITTEN / name, tmp_path_factory.mktemp("handwritten") / name)
        files += sorted(folder.glob("*.test.yml"))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = list(pool.map(promtool.test_rules, files))
    return {f"{f.parent.parent.name}/{f.name}": r for f, r in zip(files, runs)}


def test_every_case_has_a_test_file() -> None:
    assert CASES
    for name in CASES:
        assert list((HANDWRITTEN / name).glob("*.test.yml")), name


@pytest.mark.parametrize("case", CASES)
def test_handwritten_promtool_tests_pass(handwritten_runs: dict, case: str) -> None:
    runs = {k: r for k, r in handwritten_runs.items() if k.startswith(f"{case}/")}
    assert runs
    for name, run in runs.items():
        assert run.ok, f"{name}:\n{run.output}"
        assert "SUCCESS" in run.output


@pytest.mark.parametrize("test_file", GOLDEN_TESTS)
def test_golden_generated_tests_pass(test_file: str) -> None:
    run = promtool.test_rules(ROOT / "golden" / test_file)
    assert run.ok, run.output
