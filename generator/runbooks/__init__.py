"""Runbooks: one Markdown page per alert type, compiled from the same spec as the alert.

`render_runbooks(plan)` gives the pages (path under the output folder -> text); `check_runbooks(plan, files)`
raises SpecError when an alert has no runbook, a runbook has no alert, a page's decision tree is empty or
a relative link leads nowhere. Both are pure.
"""
from __future__ import annotations


def render_runbooks(plan) -> dict[str, str]:
    """Every runbook page and the index, by path relative to the output folder."""
    from .pages import render_all  # signals import this package's content types: resolve them when called

    return render_all(plan)


def check_runbooks(plan, files: dict[str, str]) -> None:
    """Raise SpecError, pointing at the spec line to fix, when the runbooks in `files` do not match the alerts."""
    from .checks import check_all

    check_all(plan, files)
