"""Hostile sizes: `oncallgen generate` returns within 10 seconds and 200 MB on each, in a fresh process.

Time and peak memory (the child's maximum resident set, from the kernel) are measured around a real
`oncallgen generate`, so the limits hold for what users run, start-up included.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .corpus import SERVICE, edit

pytestmark = pytest.mark.slow  # each input in a fresh interpreter, timed and measured

LIMIT_SECONDS = 10
LIMIT_MB = 200

_MEASURE = """
import resource, subprocess, sys, time
start = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print({"rc": proc.returncode, "seconds": time.monotonic() - start, "stderr": proc.stderr,
       "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}.__repr__())
"""


def _alias_bomb(levels: int) -> str:
    out = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for i in range(1, levels):
        out += f"l{i}: &l{i} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = f"l{i}"
    return out


INPUTS = {
    # 9^20 strings if expanded.
    "alias-bomb": (_alias_bomb(20), "aliases"),
    "recursive-alias": ("a: &a [*a, *a]\n", "aliases"),
    "5mb-spec": (SERVICE + "# " + "x" * 100 + "\n" * 1 + ("# padding " + "p" * 990 + "\n") * 5000, "over the limit"),
    "5mb-one-line": (SERVICE + "x: '" + "y" * 5_000_000 + "'\n", "over the limit"),
    "just-under-1mib-valid": (SERVICE + ("# padding " + "p" * 990 + "\n") * 1000, None),
    "100k-item-list": (edit(SERVICE, "models: [claude]", "models: [" + ",".join(f"m{i}" for i in range(100_000)) + "]"),
                       "more than 1000 entries"),
    "deep-flow-nesting": (SERVICE + "x: " + "[" * 900 + "]" * 900 + "\n", "nest"),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_generate_returns_within_10s_and_200mb(tmp_path: Path, name: str) -> None:
    text, message = INPUTS[name]
    spec = tmp_path / "specs" / "hostile.yaml"
    spec.parent.mkdir()
    spec.write_text(text)
    cli = [sys.executable, "-m", "generator", "generate", str(spec.parent), "-o", str(tmp_path / "out")]
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-c", _MEASURE, *cli], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parent.parent)
    took = time.monotonic() - started
    result = eval(run.stdout, {})  # noqa: S307 - the dict our own measuring script printed
    assert result["seconds"] < LIMIT_SECONDS and took < LIMIT_SECONDS + 5, json.dumps(result)[:300]
    assert result["max_rss_mb"] < LIMIT_MB, result["max_rss_mb"]
    if message is None:
        assert result["rc"] == 0, result["stderr"][:300]
    else:
        assert result["rc"] == 1, result["stderr"][:300]
        assert message in result["stderr"] and len(result["stderr"].splitlines()) == 1, result["stderr"][:300]
        assert not (tmp_path / "out").exists()
