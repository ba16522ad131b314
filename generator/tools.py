"""Running the real Prometheus tools: find the binary, run it, keep what it said."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One run of a tool: did it succeed, and its stdout and stderr together."""

    ok: bool
    output: str


def run(tool: str, package: str, args: list[str], cwd: Path | None = None, timeout: float = 600) -> Run:
    """Run `tool` with `args`; raise FileNotFoundError naming the Debian package when it is missing."""
    found = shutil.which(tool)
    if not found:
        raise FileNotFoundError(f"{tool} not found: install Debian's {package} package (make test does)")
    proc = subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode == 0, proc.stdout + proc.stderr)
