"""Which runbook pages exist, which alerts share each, and the decision tree each shows.

One page per alert type: every alert whose `runbook_url` names the same file shares the page (a page and its
secondary tier are two types, with two pages). The content comes from the plan (what the owning signal wrote);
the spec's notes add to or replace the tree.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import conventions as c
from ..plan import GLOBAL, Plan
from ..rules import Alert
from ..spec.model import Service
from ..content import markdown as md
from ..content.runbook import RunbookContent, Step
from ..content.links import RUNBOOKS, runbook_file

INDEX = f"{RUNBOOKS}/README.md"


@dataclass(frozen=True)
class Page:
    """One runbook file and the alert rules that link to it."""

    path: str                       # relative to the output folder
    service: Service | None         # None: the global Watchdog
    alerts: tuple[Alert, ...]
    rule_file: str
    content: RunbookContent | None  # None: the owning signal wrote no runbook (an error the checks report)

    @property
    def alertname(self) -> str:
        return self.alerts[0].alert

    @property
    def severity(self) -> str:
        return self.alerts[0].severity

    @property
    def signal(self) -> str:
        return self.alerts[0].signal

    @property
    def tier(self) -> bool:
        return self.alerts[0].label_map.get(c.ESCALATION) == c.SECONDARY


def alert_file(alert: Alert, services: dict[str, Service]) -> str | None:
    """The runbook file inside the output folder that `alert` links to (None: a link elsewhere)."""
    service = services.get(alert.label_map.get(c.SERVICE, ""))
    return runbook_file(alert.annotation_map["runbook_url"], service.runbooks.base_url if service else "")


def collect(plan: Plan) -> tuple[Page, ...]:
    """Every page the alerts of `plan` link to, in rule order (services in name order, signals in registry order)."""
    services = {s.name: s for s in plan.services}
    found: dict[str, list[Alert]] = {}
    sources: dict[str, str] = {}
    for rule_file in plan.rule_files:
        for group in rule_file.groups:
            for alert in group.alerts:
                path = alert_file(alert, services)
                if path is not None:  # a runbook_url outside the output folder: the checks report it
                    found.setdefault(path, []).append(alert)
                    sources.setdefault(path, rule_file.path)
    pages = []
    for path, alerts in found.items():
        service = services.get(alerts[0].label_map.get(c.SERVICE, ""))
        written = plan.runbooks.get((service.name if service else GLOBAL, alerts[0].signal))
        content = written.content.get(alerts[0].alert) if written else None
        pages.append(Page(path, service, tuple(alerts), sources[path], content))
    return tuple(pages)


def decision_tree(page: Page) -> tuple[Step, ...]:
    """The page's steps: a secondary tier's own first step, the signal's steps (or the spec's), the spec's additions."""
    if page.content is None:
        return ()
    notes = page.service.runbooks.notes.get(page.alertname) if page.service else None
    steps = () if notes and notes.replace else page.content.steps
    if notes:
        steps += tuple(Step(md.text(n.check), n.query, n.command) for n in notes.steps)
    if page.tier and steps:
        steps = (_tier_step(page),) + steps
    return steps


def _tier_step(page: Page) -> Step:
    service = page.service.name
    return Step(
        "Is the page still firing, and is anyone on it? The alert's tiers, firing now.",
        f'ALERTS{{alertname="{page.alertname}", {c.SERVICE}="{c.escape(service)}", alertstate="firing"}}',
        branches=(("the primary on-call is on it (acknowledged in the paging tool, which does not stop this tier; a "
                   "silence would have)", "join them, take the part they hand you, and have the alert silenced so "
                   "neither tier pages again"),
                  ("nobody has answered", "you own it now: say so where the team talks, then continue with step 2"),
                  ("it has resolved", "nothing to do; check the primary was not left alone with a follow-up")),
    )
