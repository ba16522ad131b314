"""The runbook checks `validate` and `generate` run before anything is written.

Each problem is one SpecError pointing at the spec line to change: an alert without a runbook, a runbook
no alert points to (a `notes` key naming no alert of the service, say), a paging alert whose decision tree
is empty, and a relative link in a runbook that leads to no generated file.
"""
from __future__ import annotations

import difflib
import posixpath
import re
from typing import Collection, Container, Iterable

from .. import conventions as c
from ..plan import Plan
from ..spec.errors import Location, SpecError
from ..spec.loader import format_path
from ..spec.model import Service
from ..content.links import RUNBOOKS
from .collect import INDEX, Page, alert_file, collect, decision_tree

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
EVERYWHERE = Location("all specs")


def _fail(service: Service | None, path: tuple, message: str) -> SpecError:
    if service is None:
        return SpecError(EVERYWHERE, "", message)
    return SpecError(service.locate(path), format_path(path), message)


def _service_alerts(plan: Plan, service: Service) -> list[str]:
    return list(dict.fromkeys(a.alert for a in plan.alerts_by_service.get(service.name, ())))


def check_notes(plan: Plan, services: Iterable[Service] | None = None) -> None:
    """Every `spec.runbooks.notes` key names an alert of its service (of `services`, default all the plan's):
    otherwise its page would have no alert."""
    for service in plan.services if services is None else services:
        names = _service_alerts(plan, service)
        for key in service.runbooks.notes:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f'did you mean "{close[0]}"?' if close else f"its alerts: {', '.join(names)}"
                raise _fail(service, ("spec", "runbooks", "notes", key),
                            f'no alert "{key}" for service "{service.name}", so no alert would point to this runbook; '
                            f"{hint}")


def check_alerts_have_runbooks(plan: Plan, pages: tuple[Page, ...], files: Container[str]) -> None:
    """Every alert's runbook_url names a generated page."""
    services = {s.name: s for s in plan.services}
    written = {p.path: p for p in pages}
    for group in plan.groups:
        for alert in group.alerts:
            path = alert_file(alert, services)
            if path is not None and path in files:
                continue
            service = services.get(alert.label_map.get(c.SERVICE, ""))
            why = ""
            if path in written and written[path].content is None:
                why = f' (signal "{alert.signal}" writes no runbook content)'
            raise _fail(service, ("spec", "signals", alert.signal),
                        f"alert {alert.alert} has no runbook: its runbook_url {alert.annotation_map['runbook_url']} "
                        f"names no generated page{why}")


def check_runbooks_have_alerts(plan: Plan, pages: tuple[Page, ...], files: Iterable[str]) -> None:
    """Every generated runbook page (the index aside) is where some alert's runbook_url leads."""
    services = {s.name: s for s in plan.services}
    reached = {p.path for p in pages}
    for path in files:
        if path.startswith(RUNBOOKS + "/") and path != INDEX and path not in reached:
            parts = path.split("/")
            service = services.get(parts[1]) if len(parts) > 2 else None
            raise _fail(service, ("spec", "runbooks"), f"runbook {path} is reached from no alert")


def check_decision_trees(pages: tuple[Page, ...]) -> None:
    """A page wakes someone up: its runbook must say what to check first."""
    for page in pages:
        if page.severity != c.PAGE or page.content is None or decision_tree(page):
            continue
        notes = page.service.runbooks.notes.get(page.alertname) if page.service else None
        if notes and notes.replace:
            raise _fail(page.service, ("spec", "runbooks", "notes", page.alertname, "steps"),
                        f"{page.alertname} pages, so its runbook needs a decision tree: `replace: true` with no "
                        "steps leaves it empty")
        raise _fail(page.service, ("spec", "signals", page.signal),
                    f'{page.alertname} pages, but signal "{page.signal}" gives its runbook no decision tree')


def _link_origin(page: Page | None, target: str) -> tuple:
    """Where in the spec a link came from: a note of the page's alert that contains it, or the signal."""
    if page is None or page.service is None:
        return ()
    notes = page.service.runbooks.notes.get(page.alertname)
    base = ("spec", "runbooks", "notes", page.alertname)
    if notes:
        for i, step in enumerate(notes.steps):
            if any(target in (text or "") for text in (step.check, step.command)):
                return base + ("steps", i)
        if target in notes.notes:
            return base + ("notes",)
    return ("spec", "signals", page.signal)


def page_links(path: str, text: str) -> list[tuple[str, str]]:
    """The relative links of the runbook at `path` whose text is `text`: (target as written, path it resolves to).
    Read from each page as it is rendered: the text is read once, and not kept."""
    if not (path.startswith(RUNBOOKS + "/") and path.endswith(".md")):
        return []
    out = []
    for target in LINK.findall(FENCED.sub("", text)):
        if SCHEME.match(target) or target.startswith(("#", "/")):
            continue  # external, or an anchor: not a file of ours
        out.append((target, posixpath.normpath(posixpath.join(posixpath.dirname(path), target.split("#")[0]))))
    return out


def link_error(path: str, page: Page | None, target: str, resolved: str) -> SpecError:
    """The error for a link of the runbook at `path` (of `page`) to `target`, which leads to no generated file."""
    return _fail(page.service if page else None, _link_origin(page, target),
                 f"{path} links to {target}, which is not a generated file ({resolved})")


def check_page_links(path: str, text: str, page: Page | None, paths: Container[str]) -> None:
    """Relative links inside the runbook at `path` (whose text is `text`) lead to files of the generated tree, whose
    paths are `paths`."""
    for target, resolved in page_links(path, text):
        if resolved not in paths:
            raise link_error(path, page, target, resolved)


def check_links(pages: tuple[Page, ...], files: dict[str, str]) -> None:
    """Relative links inside the runbooks lead to files of the generated tree."""
    by_path = {p.path: p for p in pages}
    for path, text in files.items():
        check_page_links(path, text, by_path.get(path), files)


def check_pages(plan: Plan, pages: tuple[Page, ...], paths: Collection[str],
                services: Iterable[Service] | None = None) -> None:
    """The checks that need no page's text, the ones that can name a precise spec line first: `pages` is
    `collect(plan)`, `paths` every generated path (runbook pages included); notes of `services` (default: all)."""
    check_notes(plan, services)
    check_alerts_have_runbooks(plan, pages, paths)
    check_runbooks_have_alerts(plan, pages, paths)
    check_decision_trees(pages)


def check_all(plan: Plan, files: dict[str, str]) -> None:
    """Every runbook check over a whole generated tree in memory, the ones that can name a precise spec line first."""
    pages = collect(plan)
    check_pages(plan, pages, files)
    check_links(pages, files)
