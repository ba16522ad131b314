"""The remediation section of a runbook page: what the automation was asked to do, where the request went, how to check
and undo it, and when the problem pages a person instead."""
from __future__ import annotations

from .collect import Page, decision_tree
from ..content.links import sibling
from ..content.markdown import Markdown
from .page_context import step_numbers, steps_view
from .. import conventions as c
from ..alertmanager.receivers import full_name
from ..plan import Plan
from ..spec.model import Team
from ..spec.units import format_duration


def remediation_view(plan: Plan, page: Page, team: Team | None) -> dict | None:
    content = page.content
    if content.remediation is None:
        return None
    action = page.alerts[0].label_map.get(c.REMEDIATION)
    r = content.remediation
    receiver = endpoint = None
    if team is not None and action in team.remediation:
        receiver = full_name(team.name, team.remediation[action])
        spec = next((x for x in team.receivers if x.name == team.remediation[action]), None)
        endpoint = spec.integrations.get("webhook", {}).get("url") if spec else None
    if r.pages:
        page_alert = next(a for a in plan.alerts_by_service[page.service.name] if a.alert == r.pages
                          and a.label_map.get(c.ESCALATION) != c.SECONDARY)
        pages = (f"It pages as {sibling(r.pages)} when the problem outlasts the automation: after "
                 f"{format_duration(page_alert.for_seconds)} of the same condition.")
    else:
        pages = "It never pages: automation handles it, and the team sees it as " + page.severity + " only."
    return {"did": Markdown(r.did), "action": action, "receiver": receiver, "endpoint": endpoint,
            "rollback": [Markdown(line) for line in r.rollback], "pages": Markdown(pages),
            "verify": steps_view((r.verify,), page.service.runbooks.prometheus_url, 2,
                                  numbers=step_numbers(decision_tree(page)))[0]}
