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

from ..spec.errors import Location, SpecError
from ..spec.loader import decode
from .state import ALERTMANAGER, KUBERNETES, MIMIR_NAMESPACE, RULES, RUNBOOK, THANOS_RULES

MAX_FILE_BYTES = 64 * 1024 * 1024  # a generated file of a large fleet is a few MiB; anything far beyond is not one


class SourceError(Exception):
    """A side of the diff cannot be read: not a git repository, an unknown ref (the CLI makes it one line)."""


def wanted(path: str) -> bool:
    """Whether a state is read from this file (relative to the output folder)."""
    return bool(RULES.fullmatch(path) or RUNBOOK.fullmatch(path) or path == ALERTMANAGER
                or KUBERNETES.fullmatch(path) or MIMIR_NAMESPACE.fullmatch(path)
                or THANOS_RULES.fullmatch(path))


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise SourceError("git not found: install git, or compare with a folder (--base-dir)") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout


def where(folder: Path, ref: str | None = None) -> str:
    """How messages name the base's files: `base/` or `REF:output/`, followed by the path in the folder."""
    return f"{ref}:{folder.as_posix()}/" if ref is not None else f"{folder.as_posix()}/"


def _text(name: str, data: bytes) -> str:
    """A base file's text: within the size limit and UTF-8, or a SpecError at the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(Location(name, 1, 1), "", f"over the limit of {MAX_FILE_BYTES} bytes (64 MiB) for a "
                                                  "generated file")
    return decode(name, data)


def folder_files(folder: Path) -> dict[str, str]:
    """The files of an output folder on disk (an absent folder is an empty state)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and wanted(rel):
            with open(path, "rb") as fh:
                out[rel] = _text(where(folder) + rel, fh.read(MAX_FILE_BYTES + 1))
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
                rel_name = member.name[len(prefix):]
                out[rel_name] = _text(where(folder, ref) + rel_name, tar.extractfile(member).read(MAX_FILE_BYTES + 1))
    return dict(sorted(out.items()))
