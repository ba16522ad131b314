"""Thin wrappers around the real amtool."""
from __future__ import annotations

from pathlib import Path

from .tools import Run, run


def check_config(path: Path) -> Run:
    """`amtool check-config`."""
    return run("amtool", "prometheus-alertmanager", ["check-config", str(path)], timeout=60)


def route(path: Path, labels: dict[str, str], receivers: list[str]) -> Run:
    """`amtool config routes test --verify.receivers=...`: ok when `labels` reach exactly `receivers`, in order."""
    return run("amtool", "prometheus-alertmanager",
               ["config", "routes", "test", f"--config.file={path}", f"--verify.receivers={','.join(receivers)}",
                *(f"{k}={v}" for k, v in sorted(labels.items()))], timeout=60)
