"""Tests that do not come from the compiler: hand-written promtool tests, and the golden trees' generated ones.

Each `tests/handwritten/<case>/` holds a small `spec.yaml` and `*.test.yml` files whose input series and expected
alerts were written by reading the spec. The CLI compiles the spec; the tests run against those rules (from
`<output>/handwritten/`, so their `rule_files` read `../rules/...`). A hand-written test never sees the expression it
checks, so it is evidence the generated tests cannot be.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import proofs

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


def test_every_case_has_a_test_file() -> None:
    assert CASES
    for name in CASES:
        assert list((HANDWRITTEN / name).glob("*.test.yml")), name


@pytest.mark.proof
@pytest.mark.parametrize("case", CASES)
def test_handwritten_promtool_tests_pass(case: str, tmp_path: Path) -> None:
    files = sorted(compile_case(HANDWRITTEN / case, tmp_path / case).glob("*.test.yml"))
    assert files
    for f in files:
        run = proofs.promtool_test(f)
        assert run.ok, f"{case}/{f.name}:\n{run.output}"
        assert "SUCCESS" in run.output


@pytest.mark.proof
@pytest.mark.parametrize("test_file", GOLDEN_TESTS)
def test_golden_generated_tests_pass(test_file: str) -> None:
    """The golden trees' generated tests (test_golden.py proves each tree byte-identical to what its specs compile
    to, so this is the generated proof of the golden specs)."""
    run = proofs.promtool_test(ROOT / "golden" / test_file)
    assert run.ok, run.output
