"""Where the two sides of a diff come from: an output folder at a git ref, or a folder on disk.

Only the files a state is read from are loaded (rule files, the Alertmanager configuration, runbooks, the
targets' packaged objects).
"""
from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

from .state import ALERTMANAGER, KUBERNETES, MIMIR_NAMESPACE, RULES, RUNBOOK


class SourceError(Exception):
    """A side of the diff cannot be read: not a git repository, an unknown ref (the CLI makes it one line)."""


def wanted(path: str) -> bool:
    """Whether a state is read from this file (relative to the output folder)."""
    return bool(RULES.fullmatch(path) or RUNBOOK.fullmatch(path) or path == ALERTMANAGER
                or KUBERNETES.fullmatch(path) or MIMIR_NAMESPACE.fullmatch(path))


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise SourceError("git not found: install git, or compare with a folder (--base-dir)") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout


def folder_files(folder: Path) -> dict[str, str]:
    """The files of an output folder on disk (an absent folder is an empty state)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and wanted(rel):
            out[rel] = path.read_text(encoding="utf-8")
    return out


def git_files(ref: str, folder: Path) -> dict[str, str]:
    """The files of `folder` as committed at `ref` (empty when the folder did not exist there)."""
    start = folder if folder.is_dir() else Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], start).decode().strip())
    try:
        _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], top)
    except SourceError:
        raise SourceError(f'unknown git ref "{ref}" in {top}') from None
    rel = os.path.relpath(folder.resolve(), top.resolve()).replace(os.sep, "/")
    if rel.startswith(".."):
        raise SourceError(f"{folder} is not inside the git repository at {top}")
    listed = _git(["ls-tree", "-r", "-z", "--name-only", ref, "--", rel], top).split(b"\0")
    if not any(listed):
        return {}
    archive = _git(["archive", "--format=tar", ref, "--", rel], top)
    out = {}
    prefix = rel.rstrip("/") + "/"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith(prefix) and wanted(member.name[len(prefix):]):
                out[member.name[len(prefix):]] = tar.extractfile(member).read().decode("utf-8")
    return dict(sorted(out.items()))
