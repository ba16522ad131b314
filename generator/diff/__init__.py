"""`oncallgen diff`: what a change to the specs does to alerting, for a pull request or a terminal.

state.py reads a compiled state from an output folder's files; compare.py compares two states; report.py writes
the result; sources.py reads the files (a folder, or a folder at a git ref).
"""
from __future__ import annotations

from .compare import Changes, compare
from .state import read_state


def diff_files(before: dict[str, str], after: dict[str, str], base: str = "") -> Changes:
    """What changes between two output trees (path relative to the output folder -> text); `base` names the
    before tree's files in messages (see sources.where)."""
    return compare(read_state(before, base), read_state(after))
