"""What is on each runbook page, rendered with the jinja2 templates in `templates/` (`collect.py` says which pages
exist). The signal that owns the alert wrote the meaning, impact and decision tree (carried by the plan); this
module adds what every page has: thresholds from the spec, receivers and escalation from the team, dashboards,
kubectl lines, notes and the changelog.
"""
from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Iterator

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .. import conventions as c
from .. import alerting_pipeline, outage
from ..alertmanager.config import expected_pipeline_receivers, expected_receivers
from ..alertmanager.receivers import full_name
from ..compile import Plan
from ..escalation import SECONDARY, tier_slug
from ..rules import Alert
from ..spec.model import Service, Specs, Team
from ..spec.units import format_duration, format_number
from . import markdown as md
from .collect import INDEX, STEP_REF, Page, decision_tree
from .content import Query, RunbookContent, Step
from .markdown import Markdown
from .links import dashboard_url, graph_url, is_on, kubectl, percent, sibling, silence, times

# ---- view models: plain values the templates print ----


_code = md.code


def _numbers(steps: tuple[Step, ...]) -> dict[str, int]:
    return {s.key: i for i, s in enumerate(steps, start=1) if s.key}


def _steps_view(steps: tuple[Step, ...], prometheus_url: str, first_added: int, start: int = 1,
                numbers: dict[str, int] | None = None) -> list[dict]:
    """Steps as the templates print them, `step:<key>` references turned into step numbers."""
    numbers = _numbers(steps) if numbers is None else numbers

    def resolve(text: str) -> str:
        def one(m: re.Match) -> str:
            # A key the tree lacks can only come from a spec that replaced the built-in steps.
            return f"step {numbers[m.group(1)]}" if m.group(1) in numbers else "the decision tree above"
        return STEP_REF.sub(one, text)

    out = []
    for i, step in enumerate(steps, start=start):
        branches = []
        for condition, action in step.branches:
            condition, action = resolve(condition), resolve(action)
            branches.append(Markdown(f"**If** {condition} {action}" if action.startswith("→")
                                     else f"**If** {condition}: {action}"))
        # Steps of signals are Markdown they wrote; the spec's added steps were escaped in decision_tree.
        out.append({"number": i, "check": Markdown(step.check), "query": step.query,
                    "link": graph_url(prometheus_url, step.query) if step.query else None,
                    "command": step.command, "branches": branches, "added": i >= first_added})
    return out


def _setting(kind: str, value: object) -> str:
    """A signal setting as the spec writes it: 5m, 50%, 3x, 10pp."""
    if value is None:
        return "not set"
    if kind == "duration":
        return format_duration(value)
    if kind == "ratio":
        return percent(value)
    if kind == "factor":
        return times(value)
    if kind == "points":
        return format_number(value * 100) + "pp"
    if kind == "seconds":
        return f"{format_number(value)}s"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


def _thresholds(plan: Plan, service: Service, signal: str) -> list[dict]:
    return [{"field": row.field, "value": md.cell(_setting(row.unit, row.value)), "meaning": md.cell(Markdown(row.meaning))}
            for row in plan.runbooks[(service.name, signal)].thresholds]


def _receivers(team: Team | None, alerts: tuple[Alert, ...]) -> list[str]:
    if team is None:
        return []
    seen: dict[str, None] = {}
    for alert in alerts:
        for r in expected_receivers(team, {"alertname": alert.alert, **alert.label_map}):
            seen.setdefault(r, None)
    return list(seen)


def _contact(value: str | None, field: str, team: Team) -> str:
    return md.text(value) if value else f"nobody is on record (set `spec.escalation.{field}` in {_code(team.location.file)})"


def _escalation(page: Page, team: Team | None, receivers: list[str]) -> list[str]:
    """The escalation path of a page, or where a ticket or information goes, one line each."""
    service = page.service
    if team is None:
        return [Markdown(f"No OnCallTeam spec names team `{service.team}`, so oncallgen writes no Alertmanager routing for it: "
                f"this alert goes wherever your own Alertmanager sends `team=\"{service.team}\"`, and escalates by "
                "your team's usual policy. Add an OnCallTeam spec to have the path written here.")]
    if page.severity != c.PAGE:
        kind = "a ticket" if page.severity == c.TICKET else "information"
        when = (f" in business hours ({team.business_hours.location}, {team.business_hours.start} to "
                f"{team.business_hours.end})" if page.severity == c.TICKET and team.business_hours else "")
        return [Markdown(f"Not a page: {kind} for {', '.join(_code(r) for r in receivers)}{md.text(when)}. Nobody is "
                         "woken; handle it in working hours.")]
    esc = team.escalation
    primary, secondary = full_name(team.name, team.primary), full_name(team.name, team.secondary or "")
    first = page.alerts[0]
    lines = []
    timed: list[tuple[float, str]] = []
    if page.tier:
        lines.append(f"**Now**: you are the secondary on-call. `{secondary}` is paged because the page to "
                     f"`{primary}` kept firing for {format_duration(esc.secondary_after)} "
                     f"({sibling(page.alertname, 'primary runbook')}).")
    else:
        lines.append(f"**Now**: `{primary}` is paged once the condition has held for "
                     f"{format_duration(first.for_seconds)}.")
        if esc.tiers:
            timed.append((esc.secondary_after,
                          f"the secondary tier pages `{secondary}` automatically "
                          f"([secondary runbook]({tier_slug(page.alertname)}.md))."))
        else:
            timed.append((-1, f"**Unanswered**: the paging tool's escalation policy behind `{primary}` pages the next "
                              "responder (escalation mode `paging_tool`: no secondary tier in Prometheus)."))
    if esc.tiers:
        lines.append("**Acknowledge** by silencing the alert without the `escalation` label, which silences both "
                     f"tiers: `{silence(page.alertname, service.name, '1h', '<your name>: investigating')}`. "
                     "An acknowledgement in the paging tool does not stop the secondary tier.")
    timed.append((esc.senior_after, f"wake the senior engineer: {_contact(esc.senior_contact, 'senior_contact', team)}."))
    where = (f"in {_code(esc.incident_channel)}" if esc.incident_channel else
             f"(no channel is on record: set `spec.escalation.incident_channel` in {_code(team.location.file)})")
    timed.append((esc.incident_after, f"declare an incident {where}, sooner if customers are affected and no fix "
                                      "is in sight."))
    for delay, text in sorted(timed, key=lambda t: t[0]):
        lines.append(text if delay < 0 else f"**+{format_duration(delay)}** after the page, still firing: {text}")
    lines.append("**Executive**: once an incident is declared and customers are affected, page the executive "
                 f"contact: {_contact(esc.executive_contact, 'executive_contact', team)}.")
    return [Markdown(line) for line in lines]


def _remediation(plan: Plan, page: Page, team: Team | None) -> dict | None:
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
                          and a.label_map.get(c.ESCALATION) != SECONDARY)
        pages = (f"It pages as {sibling(r.pages)} when the problem outlasts the automation: after "
                 f"{format_duration(page_alert.for_seconds)} of the same condition.")
    else:
        pages = "It never pages: automation handles it, and the team sees it as " + page.severity + " only."
    return {"did": Markdown(r.did), "action": action, "receiver": receiver, "endpoint": endpoint,
            "rollback": [Markdown(line) for line in r.rollback], "pages": Markdown(pages),
            "verify": _steps_view((r.verify,), page.service.runbooks.prometheus_url, 2,
                                  numbers=_numbers(decision_tree(page)))[0]}


def _provider(service: Service) -> dict:
    w = c.window(service.slo.window)
    own = c.selector(service=service.name)
    providers = [{"name": p.name, "role": p.role, "models": md.cell(", ".join(p.models) or "-"),
                  "status": md.cell(Markdown(f"<{md.url(p.status_page)}>") if p.status_page else "none in the spec"),
                  "sla": percent(p.sla) if p.sla is not None else "none in the spec"} for p in service.providers]
    queries = []
    if is_on(service, "slo"):
        queries = [Query(f"Error budget left over {w} (1 = untouched, below 0 = SLO missed)",
                         f"service:ai_error_budget:remaining_{w}{own}"),
                   Query(f"Share of the {w} error budget burned by provider failures",
                         f"service:ai_error_budget:burned_by_provider_{w}{own}")]
    availability = (f"1 - sum by ({c.PROVIDER}) (sum_over_time(service_provider_model:ai_provider_errors:rate1h{own}[{w}]))"
                    f" / sum by ({c.PROVIDER}) (sum_over_time(service_provider_model:ai_requests:rate1h{own}[{w}]))")
    secondary = service.provider("secondary")
    return {
        "providers": providers,
        "objective": percent(service.slo.availability), "window": w, "slo_on": is_on(service, "slo"),
        "queries": [_query_view(q, service) for q in queries],
        "availability": _query_view(Query(f"Availability of each provider as we saw it over {w}", availability), service),
        "with_sla": [{"name": p.name, "sla": percent(p.sla)} for p in service.providers if p.sla is not None],
        "backup": secondary.name if secondary else None,
    }


def _query_view(q: Query, service: Service) -> dict:
    return {"title": Markdown(q.title), "expr": q.expr, "link": graph_url(service.runbooks.prometheus_url, q.expr)}


def _dashboards(service: Service) -> list[dict]:
    base = service.runbooks.dashboard_url
    if not base:
        return []
    out = [{"title": "All providers and models", "url": dashboard_url(base, service.name)}]
    for p in service.providers:
        for m in p.models:
            out.append({"title": f"{p.name} / {m}", "url": dashboard_url(base, service.name, p.name, m)})
    return out


def _kubectl(service: Service) -> list[str]:
    k = kubectl(service)
    return [k.status(), k.history(), k.logs("error|exception|timeout"), k.undo(), k.restart()]


def _changelog(service: Service) -> list[dict]:
    rows = []
    for e in service.runbooks.changelog:
        postmortem = md.text(e.postmortem or "-")
        if e.postmortem and re.match(r"https?://", e.postmortem):
            postmortem = md.link("postmortem", e.postmortem)
        rows.append({"date": _day(e.date), "change": md.cell(e.change), "postmortem": md.cell(postmortem)})
    return rows


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(iso: str) -> str:
    # "14 Mar 2025" reads unambiguously everywhere, and is not mistaken for a generation timestamp.
    year, month, day = iso.split("-")
    return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"


def _header(source: str, what: str) -> Markdown:
    # An HTML comment: visible in the diff a reviewer reads, invisible on the rendered page. Spec file names
    # hold no ">" (the loader checks), so the comment cannot be closed early.
    return Markdown(f"<!-- Generated by oncallgen from {source}: {what}. Do not edit: change the spec and run "
                    "`make generate`. -->")


def _relative(page: Page, target: str) -> str:
    return _relpath(target, posixpath.dirname(page.path))


@lru_cache(maxsize=1024)
def _relpath(target: str, start: str) -> str:
    return posixpath.relpath(target, start)  # both relative to the output folder: the working directory plays no part


def _test_file(plan: Plan, rule_file: str) -> str | None:
    return plan.test_file_of.get(rule_file)


def _service_views(plan: Plan, service: Service) -> dict:
    """What every page of a service shows alike, computed once for its two dozen pages."""
    return {"team": plan.specs.team_of(service), "provider": _provider(service), "dashboards": _dashboards(service),
            "kubectl": _kubectl(service), "changelog": _changelog(service), "thresholds": {}}


def _alert_page(plan: Plan, page: Page, shared: dict) -> str:
    service = page.service
    team = shared["team"]
    thresholds = shared["thresholds"]
    if page.signal not in thresholds:
        thresholds[page.signal] = _thresholds(plan, service, page.signal)
    content = page.content
    receivers = _receivers(team, page.alerts)
    notes = service.runbooks.notes.get(page.alertname)
    steps = decision_tree(page)
    added = len(steps) - len(notes.steps) + 1 if notes else len(steps) + 1
    prom = service.runbooks.prometheus_url
    test_file = _test_file(plan, page.rule_file)
    extra = ("reason", c.REMEDIATION)
    rules = [{"expr": a.expr, "link": graph_url(prom, a.expr), "for": format_duration(a.for_seconds),
              "labels": ", ".join(f'{k}="{a.label_map[k]}"' for k in extra if k in a.label_map)} for a in page.alerts]
    context = {
        "header": _header(service.location.file, f"runbook of {page.alertname}" + (" (secondary tier)" if page.tier else "")),
        "alertname": page.alertname, "service": service, "tier": page.tier,
        "severity": page.severity, "kind": {c.PAGE: "Page", c.TICKET: "Ticket", c.INFO: "Information"}[page.severity],
        "signal": page.signal, "receivers": receivers,
        "summary": page.alerts[0].annotation_map["summary"],
        "primary_page": f"{c.slug(page.alertname)}.md",
        "content": _content_view(content), "rules": rules,
        "outage": Markdown(f"While an outage of {', '.join(str(md.code(p)) for p in service.traffic_providers)} is "
                           f"under way, or ended less than {format_duration(outage.QUIET_AFTER)} ago, this alert does "
                           "not start: its windows still hold the outage, whose own page covers it.")
        if any(outage.RECENT in a.expr for a in page.alerts) else "",
        "thresholds": thresholds[page.signal],
        "steps": _steps_view(steps, prom, added),
        "escalation": _escalation(page, team, receivers),
        "remediation": _remediation(plan, page, team),
        "provider": shared["provider"] if content.provider_outage else None,
        "queries": [_query_view(q, service) for q in content.queries],
        "dashboards": shared["dashboards"], "kubectl": shared["kubectl"],
        "kube": service.runbooks.kubernetes,
        "notes": md.paragraphs(notes.notes) if notes else "",
        "changelog": shared["changelog"],
        "links": {"rules": _relative(page, page.rule_file),
                  "tests": _relative(page, test_file) if test_file else None,
                  "index": _relative(page, INDEX)},
        "source": service.location.file,
    }
    return _template("alert.md.j2").render(context)


def _watchdog_page(plan: Plan, page: Page) -> str:
    routing = plan.specs.routing
    urls = sorted({s.runbooks.prometheus_url for s in plan.services})
    steps = _steps_view(decision_tree(page), urls[0], len(page.content.steps) + 1)
    context = {
        "header": _header("all specs", f"runbook of {page.alertname}"), "alertname": page.alertname,
        "content": _content_view(page.content), "steps": steps, "other_prometheus": urls[1:],
        "rule": {"expr": page.alerts[0].expr, "file": _relative(page, page.rule_file)},
        "heartbeat": full_name(routing.name, routing.heartbeat) if routing else None,
        "fallback": full_name(routing.name, routing.fallback) if routing else None,
        "index": _relative(page, INDEX),
    }
    return _template("watchdog.md.j2").render(context)


def pipeline_receivers(specs: Specs, alert: Alert) -> list[str]:
    return list(expected_pipeline_receivers(specs, {"alertname": alert.alert, **alert.label_map}))


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
        "header": _header("all specs", f"runbook of {page.alertname}"), "alertname": page.alertname,
        "summary": alert.annotation_map["summary"].rstrip("."), "severity": page.severity,
        "kind": {c.PAGE: "Page", c.TICKET: "Ticket"}.get(page.severity, "Information"),
        "for_": format_duration(alert.for_seconds) if alert.for_seconds else "",
        "receivers": Markdown(", ".join(_code(r) for r in receivers) or "your own Alertmanager routes"),
        "content": _content_view(page.content),
        "steps": _steps_view(decision_tree(page), urls[0], len(page.content.steps) + 1),
        "rule": {"expr": alert.expr, "file": _relative(page, page.rule_file)},
        "first": first, "index": _relative(page, INDEX),
    }
    return _template("pipeline.md.j2").render(context)


def _index(plan: Plan, pages: tuple[Page, ...]) -> str:
    specs: Specs = plan.specs
    sections: dict[str, dict] = {}
    for page in pages:
        service = page.service
        key = service.name if service else ""
        if key not in sections:
            team = specs.team_of(service) if service else None
            sections[key] = {"service": service, "team": team, "rows": []}
        if service is None and page.signal == alerting_pipeline.SIGNAL:
            receivers = pipeline_receivers(specs, page.alerts[0])
        elif service is None:
            routing = specs.routing
            receivers = [full_name(routing.name, routing.heartbeat)] if routing else []
        else:
            receivers = _receivers(specs.team_of(service), page.alerts)
        sections[key]["rows"].append({
            "alertname": page.alertname + (" (secondary tier)" if page.tier else ""), "severity": page.severity,
            "signal": page.signal, "receivers": receivers,
            "link": posixpath.relpath(page.path, posixpath.dirname(INDEX)),
        })
    ordered = [sections[k] for k in sorted(sections, key=lambda k: (k == "", k))]
    return _template("index.md.j2").render({"header": _header("all specs", "index of the runbooks"),
                                            "sections": ordered})


def _content_view(content: RunbookContent) -> dict:
    """A signal's runbook text: Markdown it wrote (escaping the spec values inside)."""
    return {"meaning": Markdown(content.meaning), "impact": Markdown(content.impact),
            "mitigation": [Markdown(line) for line in content.mitigation], "history": Markdown(content.history)}


@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    # Sandboxed and strict: templates can read the view, call nothing else, and print no missing value. Every
    # printed value is escaped unless it is Markdown already (md.finalize).
    env = ImmutableSandboxedEnvironment(loader=jinja2.PackageLoader("generator.runbooks", "templates"),
                                        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                        keep_trailing_newline=True, autoescape=False, finalize=md.finalize)
    env.filters.update(code=md.code, cell=md.cell, fence=md.fence, url=md.url, codes=md.codes, text=md.text,
                       macro_output=Markdown)  # a macro's output: the values inside it were escaped as printed
    return env


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


def render_all(plan: Plan, pages: tuple[Page, ...]) -> Iterator[tuple[str, str]]:
    """Every runbook page of `pages` (`collect(plan)`; pages whose signal wrote no content are left out), then the
    index, as (path, Markdown), each rendered when it is asked for."""
    yield from render_pages(plan, pages)
    yield INDEX, render_index(plan, pages)


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
        elif page.signal == alerting_pipeline.SIGNAL:
            yield page.path, _pipeline_page(plan, page)
        else:
            yield page.path, _watchdog_page(plan, page)
