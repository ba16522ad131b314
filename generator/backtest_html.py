"""`oncallgen backtest --format html`: the backtest's outcome (`backtest.outcome`, the same the Markdown prints) as one
self-contained page with inline SVG charts: pages per receiver (off hours at the start of each bar), and every
alert's episodes on a time axis over the window, shaded from first to last firing evaluation, the pages a person
would have received marked at their start, the known incidents shaded behind."""
from __future__ import annotations

from datetime import datetime, timezone

from .backtest import LIMITS, MISSING, Outcome, Trace, after, longest, when
from .content import html as h

# Tick spacings the time axis picks from: the smallest giving at most MAX_TICKS ticks.
TICKS = (3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)
MAX_TICKS = 10


def ticks(start: float, end: float) -> list[tuple[float, str]]:
    """Axis ticks at whole UTC hours or days within [start, end]."""
    every = next((t for t in TICKS if (end - start) / t <= MAX_TICKS), TICKS[-1])
    first = -(-start // every) * every
    out = []
    t = first
    while t <= end:
        moment = datetime.fromtimestamp(t, timezone.utc)
        out.append((t, moment.strftime("%d %b") if every >= 86400 else moment.strftime("%d %b %H:%M")))
        t += every
    return out


def _episodes(result: Outcome) -> h.Html:
    rows: dict[tuple[str, str, str], list] = {}
    for row in result.rows:
        e = row.fired.episode
        title = (f"{row.fired.alertname} of {row.service}" + (f" ({row.labels})" if row.labels else "")
                 + f": {when(e.start)} to {when(e.end)}"
                 + (f", paged {', '.join(row.receivers)}" if row.person else ""))
        rows.setdefault((row.fired.alertname, row.service, row.labels), []).append(
            (e.start, e.end, row.person, title))
    lines = [(f"{a} of {s}" + (f" ({labels})" if labels else ""), spans)
             for (a, s, labels), spans in sorted(rows.items())]
    bands = [(d.incident.start, d.incident.end, f"incident: {d.incident.name}") for d in result.detections or ()]
    return h.span_chart(lines, result.start, result.end, ticks(result.start, result.end), bands)


def _trace(result: Outcome, trace: Trace) -> list[h.Html]:
    spans = [(r.fired.episode.start, r.fired.episode.end, r.person) for r in result.rows
             if r.fired.alertname == trace.alertname and trace.covers(r.fired.episode)]
    labels = ", ".join(f"{k}={v}" for k, v in trace.labels)
    return [h.element("h3", h.Html(f"{h.code(trace.alertname)} ({h.text(labels)}): {h.code(trace.expr)} "
                                   f"{h.text(trace.op)} {trace.threshold:g}")),
            h.line_chart(trace.points, trace.threshold, result.start, result.end, ticks(result.start, result.end),
                         spans, f"trace-{trace.alertname}-{labels}")]


def html(result: Outcome) -> str:
    """The backtest as one HTML page."""
    title = f"Backtest: {when(result.start)} to {when(result.end)} UTC ({result.days:g} days)"
    body: list[object] = [h.element("h1", title), h.element("h2", "What people would have received")]
    if result.received:
        body += [h.hbar_chart([(r.receiver, r.pages, r.off_hours) for r in result.received], "receivers"),
                 h.legend(((h.BAR, "pages in working hours"), (h.OFF_HOURS, "pages off hours")))]
    body.append(h.table(("receiver", "pages", "per week", "off hours", "longest firing"),
                        [(h.code(r.receiver), r.pages, f"{w:.1f}", r.off_hours, longest(r.longest))
                         for r, w in zip(result.received, result.per_week)] or [("nobody", 0, 0, 0, "-")],
                        (False, True, True, True, True)))
    body += [h.element("p", f"Pages muted by the generated inhibitions: {result.muted}. Remediation requests sent "
                            f"to automation: {result.remediations}."),
             h.element("h2", "Episodes")]
    if result.rows:
        body += [_episodes(result),
                 h.legend(((h.SPAN, "firing"), (h.PAGE, "a page a person received"))
                          + (((h.INCIDENT, "known incident"),) if result.detections else ()))]
    if result.traces:
        body += [h.element("h2", "Each paging alert's first condition against its threshold"),
                 h.element("p", "Each point is the lowest (for <) or highest value of its step, so a dip shorter than "
                                "a step still shows; the threshold dashed, the alert's episodes shaded.")]
        for trace in result.traces:
            body += _trace(result, trace)
    body.append(h.table(("alert", "service", "labels", "severity", "from", "to"),
                        [(h.code(r.fired.alertname), h.code(r.service), r.labels, r.severity,
                          when(r.fired.episode.start), when(r.fired.episode.end)) for r in result.rows]))
    if result.detections is not None:
        body += [h.element("h2", "Known incidents"),
                 h.element("p", f"{len(result.detections) - result.missed} of {len(result.detections)} detected, "
                                f"{result.missed} missed."),
                 h.table(("incident", "service", "from", "to", "should page", "first page", "after"),
                         [(d.incident.name, h.code(d.incident.service), when(d.incident.start), when(d.incident.end),
                           h.join((h.code(a) for a in d.incident.pages), ", ") or "any page",
                           h.Html("<strong>missed</strong>") if d.first is None else h.code(d.first.alertname),
                           after(d)) for d in result.detections], (False,) * 6 + (True,))]
    body += [h.element("h2", "Where this differs from live evaluation"),
             h.element("ul", h.join(h.element("li", x) for x in LIMITS + (
                 (h.Html(h.text(MISSING) + h.join((h.code(n) for n in result.missing), ", ") + "."),)
                 if result.missing else ())))]
    return h.page(title, body)
