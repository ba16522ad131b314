"""`oncallgen report --format html`: the report's figures (`report.figures`, the same the Markdown prints) as one
self-contained page with inline SVG charts: per team, pages per shift over the reported shift and the ones before
(off-hours pages at the foot of each bar), the reported shift's table, and its noisiest alerts."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from . import conventions as c
from .content import html as h
from .report import (FORGOTTEN, NO_ACK_SOURCE, RISING, AckNote, Figures, TeamFigures, acked, duration, page_extra,
                     span, spread, when)


def _shift_label(r: TeamFigures, index: int) -> str:
    s = r.shifts[index]
    day = when(s.start, ZoneInfo(r.location)).rsplit(" ", 1)[0]      # `Mon 30 Nov`
    return day + ("\n" + s.primary if s.primary else "") + ("\n(this shift)" if index == len(r.shifts) - 1 else "")


def _acks(r: TeamFigures, acks: AckNote | None) -> h.Html:
    """Time to acknowledge and to mitigate: the shift's table, each page's row, the retention note."""
    tz = ZoneInfo(r.location)
    cur = r.current
    still = cur.still_firing
    ack_cells = (f"{cur.acked.count} of {len(cur.outcomes)}", *spread(cur.acked)) if acks else ("no source",) * 3
    out = [h.table(("acknowledged", "time to acknowledge, median", "worst", "mitigated", "time to mitigate, median",
                    "worst"), [(*ack_cells, f"{cur.mitigated.count} of {len(cur.outcomes)}"
                                + (f" ({still} still firing)" if still else ""), *spread(cur.mitigated))],
                   (True,) * 6)]
    if cur.outcomes:
        out.append(h.table(("started", "page", "acknowledged", "mitigated after"), [
            (when(datetime.fromtimestamp(o.page.start, timezone.utc), tz), _page_name(o.page.label_map),
             acked(o, acks), span(o.mitigated_after) if o.mitigated_after is not None else "still firing")
            for o in cur.outcomes], (False, False, False, True)))
    if r.forgotten_before is not None:
        out.append(h.element("p", FORGOTTEN.format(when(datetime.fromtimestamp(r.forgotten_before, timezone.utc),
                                                        tz))))
    return h.join(out)


def _page_name(labels: dict[str, str]) -> h.Html:
    extra = page_extra(labels)
    return h.Html(f"{h.code(labels.get('alertname', ''))} of {h.code(labels.get(c.SERVICE, ''))}"
                  + (f" ({h.text(extra)})" if extra else ""))


def _team(r: TeamFigures, acks: AckNote | None) -> list[h.Html]:
    tz = ZoneInfo(r.location)
    cur = r.current
    who = ", ".join(x for x in (f"primary {cur.primary}" if cur.primary else "",
                                f"secondary {cur.secondary}" if cur.secondary else "") if x)
    out = [h.element("h2", h.Html(f"Team {h.code(r.team)}")),
           h.element("p", f"Shift {when(cur.start, tz)} to {when(cur.end, tz)} ({r.location})"
                     + (f": {who}." if who else ".")),
           h.table(("pages", "escalated to the secondary", "off hours", "at night", "inhibited", "longest firing"),
                   [(cur.pages, cur.escalated, cur.off_hours, cur.night, cur.inhibited,
                     duration(cur.longest) if cur.longest is not None else "-")], (True,) * 6),
           _acks(r, acks),
           h.element("h3", f"Pages per shift, the {len(r.shifts) - 1} before and this one"),
           h.bar_chart([(_shift_label(r, i), s.pages, s.off_hours) for i, s in enumerate(r.shifts)],
                       f"pages-{r.team}"),
           h.legend(((h.BAR, "pages in working hours"), (h.OFF_HOURS, "pages off hours")))]
    if r.rising:
        out.append(h.element("p", h.Html(f"<strong>Pages are rising</strong>: {h.text(RISING)}"), class_="warn"))
    if r.noisy:
        out += [h.element("h3", "Noisiest alerts"),
                h.hbar_chart([(f"{n.alertname} of {n.service}", n.pages) for n in r.noisy], f"noisy-{r.team}")]
    return out


def html(report: Figures) -> str:
    """The report as one HTML page: a section per team."""
    source = (f"A page's acknowledgement is the first of: {report.acks.text}; created while the page fired."
              if report.acks else NO_ACK_SOURCE.replace("`", ""))
    body: list[object] = [h.element("h1", "On-call report"),
                          h.element("p", h.Html(f"From Prometheus' {h.code('ALERTS')} at a {duration(report.step)} "
                                                f"step, up to now; inhibitions as generated. {h.text(source)}"))]
    for r in report.teams:
        body += _team(r, report.acks)
    return h.page("On-call report", body)
