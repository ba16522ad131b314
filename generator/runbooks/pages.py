"""What is on each runbook page, rendered with the jinja2 templates in `templates/` (`collect.py` says which pages
exist). The signal that owns the alert wrote the meaning, impact and decision tree (carried by the plan); this
module assembles each page from the sections every page has: thresholds from the spec (`thresholds.py`), receivers
and escalation from the team (`escalation_path.py`), remediation (`remediation.py`), provider accounting
(`provider.py`), and dashboards, kubectl lines, notes and the changelog (`page_context.py`).
"""
from __future__ import annotations

import posixpath
from typing import Iterator

from ..content import markdown as md
from .collect import INDEX, Page, decision_tree
from .environment import template
from .escalation_path import escalation_lines, pipeline_receivers, receivers_of
from ..content.links import graph_url
from ..content.markdown import Markdown
from .page_context import (changelog_rows, content_view, dashboards, kubectl_lines, page_header, query_view,
                           relative_link, steps_view)
from .provider import provider_view
from .remediation import remediation_view
from .thresholds import threshold_rows
from .. import conventions as c
from ..alertmanager.receivers import full_name
from ..plan import Plan
from ..spec.model import Specs
from ..spec.units import format_duration

_code = md.code


def _test_file(plan: Plan, rule_file: str) -> str | None:
    return plan.test_file_of.get(rule_file)


def _service_views(plan: Plan, service) -> dict:
    """What every page of a service shows alike, computed once for its two dozen pages."""
    return {"team": plan.specs.team_of(service), "provider": provider_view(service), "dashboards": dashboards(service),
            "kubectl": kubectl_lines(service), "changelog": changelog_rows(service), "thresholds": {}}


def _alert_page(plan: Plan, page: Page, shared: dict) -> str:
    service = page.service
    team = shared["team"]
    thresholds = shared["thresholds"]
    if page.signal not in thresholds:
        thresholds[page.signal] = threshold_rows(plan, service, page.signal)
    content = page.content
    receivers = receivers_of(team, page.alerts)
    notes = service.runbooks.notes.get(page.alertname)
    steps = decision_tree(page)
    added = len(steps) - len(notes.steps) + 1 if notes else len(steps) + 1
    prom = service.runbooks.prometheus_url
    test_file = _test_file(plan, page.rule_file)
    extra = ("reason", c.REMEDIATION)
    rules = [{"expr": a.expr, "link": graph_url(prom, a.expr), "for": format_duration(a.for_seconds),
              "labels": ", ".join(f'{k}="{a.label_map[k]}"' for k in extra if k in a.label_map)} for a in page.alerts]
    context = {
        "header": page_header(service.location.file, f"runbook of {page.alertname}" + (" (secondary tier)" if page.tier else "")),
        "alertname": page.alertname, "service": service, "tier": page.tier,
        "severity": page.severity, "kind": {c.PAGE: "Page", c.TICKET: "Ticket", c.INFO: "Information"}[page.severity],
        "signal": page.signal, "receivers": receivers,
        "summary": page.alerts[0].annotation_map["summary"],
        "primary_page": f"{c.slug(page.alertname)}.md",
        "content": content_view(content), "rules": rules,
        "outage": Markdown(f"While an outage of {', '.join(str(md.code(p)) for p in service.traffic_providers)} is "
                           f"under way, or ended less than {format_duration(content.outage_quiet)} ago, this alert does "
                           "not start: its windows still hold the outage, whose own page covers it.")
        if content.outage_quiet else "",
        "thresholds": thresholds[page.signal],
        "steps": steps_view(steps, prom, added),
        "escalation": escalation_lines(page, team, receivers),
        "remediation": remediation_view(plan, page, team),
        "provider": shared["provider"] if content.provider_outage else None,
        "queries": [query_view(q, service) for q in content.queries],
        "dashboards": shared["dashboards"], "kubectl": shared["kubectl"],
        "generated_dashboard": posixpath.relpath(c.dashboard_path(service.name), posixpath.dirname(page.path)),
        "kube": service.runbooks.kubernetes,
        "notes": md.paragraphs(notes.notes) if notes else "",
        "changelog": shared["changelog"],
        "links": {"rules": relative_link(page, page.rule_file),
                  "tests": relative_link(page, test_file) if test_file else None,
                  "index": relative_link(page, INDEX)},
        "source": service.location.file,
    }
    return template("alert.md.j2").render(context)


def _watchdog_page(plan: Plan, page: Page) -> str:
    routing = plan.specs.routing
    urls = sorted({s.runbooks.prometheus_url for s in plan.services})
    steps = steps_view(decision_tree(page), urls[0], len(page.content.steps) + 1)
    context = {
        "header": page_header("all specs", f"runbook of {page.alertname}"), "alertname": page.alertname,
        "content": content_view(page.content), "steps": steps, "other_prometheus": urls[1:],
        "rule": {"expr": page.alerts[0].expr, "file": relative_link(page, page.rule_file)},
        "heartbeat": full_name(routing.name, routing.heartbeat) if routing else None,
        "fallback": full_name(routing.name, routing.fallback) if routing else None,
        "index": relative_link(page, INDEX),
    }
    return template("watchdog.md.j2").render(context)


def _pipeline_page(plan: Plan, page: Page) -> str:
    routing = plan.specs.routing
    urls = sorted({s.runbooks.prometheus_url for s in plan.services})
    alert = page.alerts[0]
    receivers = pipeline_receivers(plan.specs, alert)
    if routing is None:
        first = Markdown("No AlertRouting spec: no route is generated. Route `signal=\"alerting_pipeline\"` to whoever "
                         "runs your Prometheus and Alertmanager.")
    elif routing.pipeline.team:
        first = Markdown(f"It goes to {_code(receivers[0])} and to team {_code(routing.pipeline.team)} "
                         "(`spec.pipeline.team`), whose on-call owns the pipeline and escalates as for its own pages.")
    else:
        first = Markdown(f"It goes to {_code(receivers[0])}; no team owns the pipeline (set `spec.pipeline.team` in "
                         f"{_code(routing.location.file)} so one is paged).")
    context = {
        "header": page_header("all specs", f"runbook of {page.alertname}"), "alertname": page.alertname,
        "summary": alert.annotation_map["summary"].rstrip("."), "severity": page.severity,
        "kind": {c.PAGE: "Page", c.TICKET: "Ticket"}.get(page.severity, "Information"),
        "for_": format_duration(alert.for_seconds) if alert.for_seconds else "",
        "receivers": Markdown(", ".join(_code(r) for r in receivers) or "your own Alertmanager routes"),
        "content": content_view(page.content),
        "steps": steps_view(decision_tree(page), urls[0], len(page.content.steps) + 1),
        "rule": {"expr": alert.expr, "file": relative_link(page, page.rule_file)},
        "first": first, "index": relative_link(page, INDEX),
    }
    return template("pipeline.md.j2").render(context)


def _index(plan: Plan, pages: tuple[Page, ...]) -> str:
    specs: Specs = plan.specs
    sections: dict[str, dict] = {}
    for page in pages:
        service = page.service
        key = service.name if service else ""
        if key not in sections:
            team = specs.team_of(service) if service else None
            sections[key] = {"service": service, "team": team, "rows": []}
        if service is None and page.signal == c.PIPELINE_SIGNAL:
            receivers = pipeline_receivers(specs, page.alerts[0])
        elif service is None:
            routing = specs.routing
            receivers = [full_name(routing.name, routing.heartbeat)] if routing else []
        else:
            receivers = receivers_of(specs.team_of(service), page.alerts)
        sections[key]["rows"].append({
            "alertname": page.alertname + (" (secondary tier)" if page.tier else ""), "severity": page.severity,
            "signal": page.signal, "receivers": receivers,
            "link": posixpath.relpath(page.path, posixpath.dirname(INDEX)),
        })
    ordered = [sections[k] for k in sorted(sections, key=lambda k: (k == "", k))]
    return template("index.md.j2").render({"header": page_header("all specs", "index of the runbooks"),
                                            "sections": ordered})


def render_index(plan: Plan, pages: tuple[Page, ...]) -> str:
    """The index of `pages` (their content is not read)."""
    return _index(plan, pages)


def render_pages(plan: Plan, pages: tuple[Page, ...]) -> Iterator[tuple[str, str]]:
    """The runbook pages of `pages` that have content, as (path, Markdown); `plan` holds at least their alerts'
    rule files, tests and runbook content (a service's part of the plan will do)."""
    shared: dict = {}  # the views of the service whose pages are being rendered (pages come service by service)
    for page in pages:
        if page.content is None:
            continue
        if page.service is not None:
            if shared.get("service") is not page.service:
                shared = {"service": page.service, **_service_views(plan, page.service)}
            yield page.path, _alert_page(plan, page, shared)
        elif page.signal == c.PIPELINE_SIGNAL:
            yield page.path, _pipeline_page(plan, page)
        else:
            yield page.path, _watchdog_page(plan, page)
