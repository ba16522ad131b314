"""The changes as a reviewer reads them: Markdown for a pull-request comment, plain text for a terminal."""
from __future__ import annotations

from ..printable import printable
from ..content import markdown as md
from .compare import ADDED, CHANGED, REMOVED, Changes, FieldChange, RouteChange

TITLE = "oncallgen: what changes in alerting"
LONG = 120  # longer values (expressions, descriptions) go in a code block rather than a table cell


GLOBAL = "(no service)"  # the Watchdog and the alerting pipeline's alerts belong to no service


def _who(service: str) -> str:
    return service or GLOBAL


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(changes: Changes) -> str:
    """One line: how many alerts changed, were added or removed; routing, inhibitions, recording rules, runbooks."""
    if not changes.behaviour_changed and not changes.runbooks:
        return "No change in alerting behaviour, routing or runbooks."
    count = {k: sum(a.kind == k for a in changes.alerts) for k in (CHANGED, ADDED, REMOVED)}
    routed = {(r.service, r.alertname) for r in changes.routes}
    parts = [f"{_plural(count[CHANGED], 'alert')} changed, {count[ADDED]} added, {count[REMOVED]} removed",
             f"routing changed for {_plural(len(routed), 'alert')}",
             f"{len(changes.inhibitions_added)} inhibitions added, {len(changes.inhibitions_removed)} removed",
             f"{_plural(len(changes.receivers), 'receiver')} changed",
             f"{_plural(len(changes.recordings), 'recording rule')} changed",
             f"{_plural(len(changes.runbooks), 'runbook page')} changed"]
    if changes.packaged:  # said only when there are some: the plain layout's reports stay as they were
        parts.append(f"{_plural(len(changes.packaged), 'packaged object')} changed")
    verdict = "Alerting behaviour changes" if changes.behaviour_changed else "No change in alerting behaviour"
    return f"{verdict}: " + "; ".join(parts) + "."


# What a tier that exists on one side only is on the other: not "nothing is notified", there is no such rule.
NO_TIER = {ADDED: "(new tier)", REMOVED: "(tier removed)"}


def _receivers(deliveries) -> str:
    return ", ".join(str(d) for d in deliveries) or "(nothing: no Alertmanager configuration)"


def _before(r: RouteChange) -> str:
    return NO_TIER[ADDED] if r.kind == ADDED else _receivers(r.before)


def _after(r: RouteChange) -> str:
    return NO_TIER[REMOVED] if r.kind == REMOVED else _receivers(r.after)


def _inhibition(rule: dict) -> str:
    return (f"{', '.join(rule.get('source_matchers') or [])} mutes {', '.join(rule.get('target_matchers') or [])} "
            f"(equal: {', '.join(rule.get('equal') or [])})")


# ---- Markdown ----------------------------------------------------------------------------------------------------
# Every value comes from a spec or a base tree: shown with hidden characters as escapes (printable), then escaped
# by the runbooks' Markdown rules, so a suite name or a channel cannot end a code span, open a fence or a link.

def _code(value: str) -> str:
    return md.code(printable(value))


def _cell(value: str) -> str:
    return md.cell(_code(value))  # a code span in a table: its pipes escaped too


def _text(value: str) -> str:
    return md.text(printable(value))


def _or_none(value: str, show=_cell) -> str:
    return show(value) if value else "(none)"


def _md_change(wheres: str, change: FieldChange, blocks: list[str]) -> str:
    if len(change.before) > LONG or len(change.after) > LONG:
        body = f"- {printable(change.before)}\n+ {printable(change.after)}"
        blocks.append(f"{_text(change.what)} ({wheres}):\n\n{md.fence(body, 'diff')}")
        return f"| {wheres} | {_text(change.what)} | see below | |"
    return f"| {wheres} | {_text(change.what)} | {_or_none(change.before)} | {_or_none(change.after)} |"


def markdown(changes: Changes) -> str:
    """A pull-request comment."""
    out = [f"### {TITLE}", "", f"**{summary(changes)}**"]
    changed = [a for a in changes.alerts if a.kind == CHANGED]
    if changed:
        out += ["", "#### Alerts changed"]
        for alert in changed:
            blocks: list[str] = []
            out += ["", f"**{_code(alert.alertname)}** · {_text(_who(alert.service))}", "",
                    "| tier | what | before | after |", "|---|---|---|---|"]
            for rule in alert.rules:
                out += [_md_change(_text(", ".join(rule.wheres)), ch, blocks) for ch in rule.changes]
            for block in blocks:
                out += ["", block]
    for kind in (ADDED, REMOVED):
        listed = [a for a in changes.alerts if a.kind == kind]
        if listed:
            out += ["", f"#### Alerts {kind}", ""]
            out += [f"- **{_code(a.alertname)}** · {_text(_who(a.service))} ({_text(', '.join(a.tiers))})"
                    for a in listed]
    if changes.routes:
        out += ["", "#### Routing", "", "| alert | service | tier | notified before | notified after |",
                "|---|---|---|---|---|"]
        out += [f"| {_cell(r.alertname)} | {_text(_who(r.service))} | {_text(r.where)} | {_text(_before(r))} | "
                f"{_text(_after(r))} |" for r in changes.routes]
    if changes.receivers:
        out += ["", "#### Receivers", ""]
        for r in changes.receivers:
            if r.kind != CHANGED:
                out.append(f"- {_code(r.name)} {r.kind}")
                continue
            out.append(f"- {_code(r.name)} changed:")
            out += [f"  - {_code(ch.what)}: {_or_none(ch.before, _code)} → {_or_none(ch.after, _code)}"
                    for ch in r.settings]
    if changes.packaged:
        out += ["", "#### Packaged objects (operator, Mimir, Thanos)", ""]
        for p in changes.packaged:
            if p.kind != CHANGED:
                out.append(f"- {_code(p.name)} {p.kind}")
                continue
            out.append(f"- {_code(p.name)} changed:")
            out += [f"  - {_text(ch.what)}: {_or_none(ch.before, _code)} → {_or_none(ch.after, _code)}"
                    for ch in p.settings]
    if changes.inhibitions_added or changes.inhibitions_removed:
        out += ["", "#### Inhibitions", ""]
        out += [f"- added: {_code(_inhibition(r))}" for r in changes.inhibitions_added]
        out += [f"- removed: {_code(_inhibition(r))}" for r in changes.inhibitions_removed]
    if changes.recordings:
        out += ["", "#### Recording rules", "", "| series | change | before | after |", "|---|---|---|---|"]
        for r in changes.recordings:
            before = _cell(r.before) if r.before and len(r.before) <= LONG else ("(long)" if r.before else "(none)")
            after = _cell(r.after) if r.after and len(r.after) <= LONG else ("(long)" if r.after else "(none)")
            out.append(f"| {_cell(r.record)} | {r.kind} | {before} | {after} |")
    if changes.runbooks:
        out += ["", "#### Runbooks", ""]
        for page in changes.runbooks:
            detail = f": {_text(', '.join(page.sections))}" if page.sections else ""
            out.append(f"- {_code(page.page)} {page.kind}{detail}")
    return "\n".join(out) + "\n"


# ---- plain text ---------------------------------------------------------------------------------------------

def _route_line(r: RouteChange) -> str:
    return f"routing   {_who(r.service)} {r.alertname} [{r.where}]: {_before(r)} -> {_after(r)}"


def text(changes: Changes) -> str:
    """For a terminal: one line per change."""
    out = [summary(changes)]
    for alert in changes.alerts:
        if alert.kind != CHANGED:
            out.append(f"{alert.kind:<9} {_who(alert.service)} {alert.alertname} [{', '.join(alert.tiers)}]")
            continue
        for rule in alert.rules:
            for ch in rule.changes:
                out.append(f"changed   {_who(alert.service)} {alert.alertname} [{', '.join(rule.wheres)}]: {ch.what}: "
                           f"{ch.before or '(none)'} -> {ch.after or '(none)'}")
    out += [_route_line(r) for r in changes.routes]
    for r in changes.receivers:
        if r.kind != CHANGED:
            out.append(f"receiver  {r.name} {r.kind}")
        out += [f"receiver  {r.name}: {ch.what}: {ch.before or '(none)'} -> {ch.after or '(none)'}" for ch in r.settings]
    for p in changes.packaged:
        if p.kind != CHANGED:
            out.append(f"packaged  {p.name} {p.kind}")
        out += [f"packaged  {p.name}: {ch.what}: {ch.before or '(none)'} -> {ch.after or '(none)'}" for ch in p.settings]
    out += [f"inhibit   added: {_inhibition(r)}" for r in changes.inhibitions_added]
    out += [f"inhibit   removed: {_inhibition(r)}" for r in changes.inhibitions_removed]
    out += [f"recording {r.kind}: {r.record}" for r in changes.recordings]
    out += [f"runbook   {p.page} {p.kind}" + (f": {', '.join(p.sections)}" if p.sections else "")
            for p in changes.runbooks]
    # Values from specs and base trees: a line break or a control character in one cannot forge a line.
    return "\n".join(printable(line) for line in out) + "\n"


FORMATS = {"text": text, "markdown": markdown}
