"""Thin wrappers around the real amtool: run it, return what it said."""
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
    found = shutil.which("amtool")
    if not found:
        raise FileNotFoundError("amtool not found: install Debian's prometheus-alertmanager package (make test does)")
    return found


def check_config(path: Path) -> Run:
    """`amtool check-config`."""
    proc = subprocess.run([binary(), "check-config", str(path)], capture_output=True, text=True, timeout=60)
    return Run(proc.returncode == 0, proc.stdout + proc.stderr)


def route(path: Path, labels: dict[str, str], receivers: list[str]) -> Run:
    """`amtool config routes test --verify.receivers=...`: ok when `labels` reach exactly `receivers`, in order."""
    args = [binary(), "config", "routes", "test", f"--config.file={path}",
            f"--verify.receivers={','.join(receivers)}", *(f"{k}={v}" for k, v in sorted(labels.items()))]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return Run(proc.returncode == 0, proc.stdout + proc.stderr)
