"""Write the rendered tree to the output folder all at once, or not at all.

Files are written into a sibling staging folder first; only when every file is written is the old
output swapped out. A failure at any point leaves the output folder exactly as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def differences(out_dir: Path, files: dict[str, str]) -> list[str]:
    """Relative paths that differ between `out_dir` and `files` (added, changed or stale)."""
    existing = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()} if out_dir.is_dir() else set()
    changed = [p for p, text in files.items() if p not in existing or (out_dir / p).read_bytes() != text.encode("utf-8")]
    return sorted(changed + [p for p in existing if p not in files])


def write_tree(out_dir: Path, files: dict[str, str]) -> None:
    """Replace `out_dir` with exactly `files`."""
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for rel, text in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        staging.chmod(0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / "tree")
            try:
                os.replace(staging, out_dir)
            except OSError:
                os.replace(old / "tree", out_dir)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
