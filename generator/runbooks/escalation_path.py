"""Who receives an alert and how it escalates, as the runbook page says it: the receivers Alertmanager will route it
to (the same routing tree amtool checks), and the ladder of the team's escalation policy."""
from __future__ import annotations

from ..content import markdown as md
from .collect import Page
from .page_context import day
from ..content.markdown import Markdown
from ..content.links import silence, sibling
from .. import conventions as c
from ..alertmanager.receivers import expected_pipeline_receivers, expected_receivers, full_name
from ..rules import Alert
from ..spec.model import WEEKDAYS, Rotation, Specs, Team
from ..spec.units import format_duration

_code = md.code


def receivers_of(team: Team | None, alerts: tuple[Alert, ...]) -> list[str]:
    if team is None:
        return []
    seen: dict[str, None] = {}
    for alert in alerts:
        for r in expected_receivers(team, {"alertname": alert.alert, **alert.label_map}):
            seen.setdefault(r, None)
    return list(seen)


def pipeline_receivers(specs: Specs, alert: Alert) -> list[str]:
    return list(expected_pipeline_receivers(specs, {"alertname": alert.alert, **alert.label_map}))


def _contact(value: str | None, field: str, team: Team) -> str:
    return md.text(value) if value else f"nobody is on record (set `spec.escalation.{field}` in {_code(team.location.file)})"


def escalation_lines(page: Page, team: Team | None, receivers: list[str]) -> list[str]:
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
                          f"([secondary runbook]({c.tier_slug(page.alertname)}.md))."))
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
    if team.rotation is not None:
        lines.append(rotation_line(team.rotation))
    return [Markdown(line) for line in lines]


def rotation_line(r: Rotation) -> str:
    """Who is on call when, as the team's rotation says."""
    every = format_duration(r.length_days * 86400)
    handoff = (f"{WEEKDAYS[r.start.weekday()].capitalize()}s at {r.handoff_time}" if r.length_days % 7 == 0 else
               f"every {every} at {r.handoff_time}")
    people = (f"primary in turn {' → '.join(md.text(p) for p in r.primary)} (the first from {day(r.start.isoformat())})"
              if r.primary else "no people named (`spec.rotation.primary`)")
    backup = ("; secondary in turn " + " → ".join(md.text(p) for p in r.secondary) if r.secondary else
              "; the previous shift's primary is the secondary" if len(r.primary) > 1 else "")
    return f"**Rotation**: {every} shifts handing off {handoff} ({md.text(r.location)}); {people}{backup}."
