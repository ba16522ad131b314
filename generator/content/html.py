"""HTML pages and inline SVG charts that label values cannot change: the reports' one escaping place.

A report page is one file opened from disk: no script, stylesheet, font or image is fetched (the styles are inline,
the charts are SVG written here). Every value a caller passes is escaped with `html.escape` (quotes too, so a value
inside an attribute cannot close it); text oncallgen wrote itself is wrapped in `Html` to be kept as is. Coordinates
are rounded to one decimal, so the same figures give the same bytes.
"""
from __future__ import annotations

import html as _html
from typing import Iterable, Sequence

# Colours a test can count in a screenshot (tests/browser.py): the bars, the shaded spans, the pages, the
# incidents, a series' line.
BAR = "#3b6ea8"
OFF_HOURS = "#d9822b"
SPAN = "#8fb3d9"
PAGE = "#c0392b"
INCIDENT = "#f2e3b3"
LINE = "#1f3b5a"

_STYLE = """body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-top:1px solid #ddd;padding-top:16px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px}
td.n{text-align:right}p.warn{color:#8a1c1c;font-weight:bold}svg{display:block;margin:8px 0}
svg text{font-family:sans-serif;font-size:11px;fill:#333}.legend span{display:inline-block;width:10px;height:10px;
margin:0 4px 0 12px}code{background:#f3f3f3;padding:0 2px}"""


class Html(str):
    """Markup written by oncallgen, with every value inside it escaped."""


def text(value: object) -> Html:
    """`value` as HTML that shows exactly its text, in an element or inside a quoted attribute."""
    if isinstance(value, Html):
        return value
    return Html(_html.escape(str(value), quote=True))


def code(value: object) -> Html:
    return Html(f"<code>{text(value)}</code>")


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(sep.join(text(p) for p in parts))


def element(tag: str, body: object = "", **attributes: object) -> Html:
    """`<tag attr="value">body</tag>`; `class_` stands for `class`."""
    attrs = "".join(f' {k.rstrip("_").replace("_", "-")}="{text(v)}"' for k, v in attributes.items())
    return Html(f"<{tag}{attrs}>{text(body)}</{tag}>")


def table(head: Sequence[object], rows: Iterable[Sequence[object]], numeric: Sequence[bool] = ()) -> Html:
    """A table; a column flagged in `numeric` is right-aligned."""
    out = ["<table><tr>" + "".join(element("th", h) for h in head) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(element("td", cell, **({"class_": "n"} if i < len(numeric) and numeric[i]
                                                          else {})) for i, cell in enumerate(row)) + "</tr>")
    return Html("".join(out) + "</table>")


def page(title: object, body: Iterable[object]) -> Html:
    """One self-contained document."""
    return Html("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{text(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
                + "\n".join(text(b) for b in body) + "\n</body></html>\n")


def legend(items: Sequence[tuple[str, object]]) -> Html:
    return Html('<div class="legend">' + "".join(
        f'<span style="background:{colour}"></span>{text(label)}' for colour, label in items) + "</div>")


def _n(x: float) -> str:
    """A coordinate: one decimal at most, no trailing zeros (deterministic, and small)."""
    s = f"{round(x, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _rect(x: float, y: float, w: float, h: float, fill: str, title: object = None, **data: object) -> str:
    """A rectangle; `title` is its tooltip, `data` its data- attributes (what tests read back)."""
    start = f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"' + "".join(
        f' data-{k.replace("_", "-")}="{text(v)}"' for k, v in data.items())
    return f"{start}><title>{text(title)}</title></rect>" if title is not None else f"{start}/>"


def _label(x: float, y: float, value: object, anchor: str = "middle") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}">{text(value)}</text>'


UNIT = 24.0      # pixels per count on the vertical bar chart's scale, until the tallest bar would not fit
BAR_AREA = 120.0


def bar_chart(bars: Sequence[tuple[object, int, int]], name: str) -> Html:
    """Vertical bars, one per (label, total, part): the total in BAR with its `part` (e.g. off hours) in OFF_HOURS at
    its foot, the count above. Each bar's height is `total` times the scale (data-count holds the count)."""
    tallest = max((t for _, t, _ in bars), default=0)
    unit = min(UNIT, BAR_AREA / tallest) if tallest else UNIT
    width, gap, left, top = 90.0, 30.0, 30.0, 20.0
    base = top + max(tallest * unit, UNIT)     # as tall as the tallest bar: a quiet team's chart stays small
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{text(name)}" '
           f'width="{_n(left + len(bars) * (width + gap))}" height="{_n(base + 40)}" role="img">',
           f'<line x1="{_n(left - 10)}" y1="{_n(base)}" x2="{_n(left + len(bars) * (width + gap) - gap + 10)}" '
           f'y2="{_n(base)}" stroke="#555"/>']
    for i, (label, total, part) in enumerate(bars):
        x = left + i * (width + gap)
        out.append(_rect(x, base - total * unit, width, total * unit, BAR, f"{label}: {total}", count=total))
        if part:
            out.append(_rect(x, base - part * unit, width, part * unit, OFF_HOURS, f"{label}: {part} off hours",
                             part=part))
        out.append(_label(x + width / 2, base - total * unit - 5, total))
        for k, line in enumerate(str(label).split("\n")):
            out.append(_label(x + width / 2, base + 14 + 12 * k, line))
    return Html("".join(out) + "</svg>")


def hbar_chart(bars: Sequence[tuple[object, int] | tuple[object, int, int]], name: str) -> Html:
    """Horizontal bars, one per (label, count[, part]), the label left of its bar (data-count holds the count); a
    `part` (e.g. off hours) is drawn in OFF_HOURS at the bar's start."""
    most = max((b[1] for b in bars), default=0)
    unit = min(40.0, 400.0 / most) if most else 40.0
    left, row = 360.0, 22.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{text(name)}" '
           f'width="{_n(left + most * unit + 60)}" height="{_n(len(bars) * row + 8)}" role="img">']
    for i, (label, n, *rest) in enumerate(bars):
        y = 4 + i * row
        out.append(_label(left - 8, y + 14, label, "end"))
        out.append(_rect(left, y + 2, n * unit, row - 6, BAR, f"{label}: {n}", count=n))
        if rest and rest[0]:
            out.append(_rect(left, y + 2, rest[0] * unit, row - 6, OFF_HOURS, f"{label}: {rest[0]} off hours",
                             part=rest[0]))
        out.append(_label(left + n * unit + 6, y + 14, n, "start"))
    return Html("".join(out) + "</svg>")


def span_chart(rows: Sequence[tuple[object, Sequence[tuple[float, float, bool, object]]]], start: float, end: float,
               ticks: Sequence[tuple[float, object]], bands: Sequence[tuple[float, float, object]] = (),
               name: str = "episodes") -> Html:
    """A time axis from `start` to `end` with one row per (label, spans), the label on its own line above the row's
    track (so no label is cut, however long): each span (from, to, paged, title) shaded in SPAN, a paged one marked
    in PAGE above its start; `bands` (from, to, title) shaded behind every row (incidents)."""
    left, width, row, top = 24.0, 1000.0, 34.0, 4.0
    scale = width / (end - start) if end > start else 0.0

    def x(t: float) -> float:
        return left + (min(max(t, start), end) - start) * scale

    height = top + len(rows) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{text(name)}" '
           f'width="{_n(left + width + 30)}" height="{_n(height + 22)}" role="img">']
    for a, b, title in bands:
        out.append(_rect(x(a), top, max(2.0, x(b) - x(a)), height - top, INCIDENT, title, band="incident"))
    for t, label in ticks:
        out.append(f'<line x1="{_n(x(t))}" y1="{_n(top)}" x2="{_n(x(t))}" y2="{_n(height + 4)}" stroke="#ddd"/>')
        out.append(_label(x(t), height + 16, label))
    for i, (label, spans) in enumerate(rows):
        y = top + i * row
        out.append(_label(left, y + 11, label, "start"))
        for a, b, paged, title in spans:
            # An episode of one evaluation still shows: three pixels at least; its page is a mark above its start.
            out.append(_rect(x(a), y + 20, max(3.0, x(b) - x(a)), row - 22, SPAN, title, start=int(a), end=int(b)))
            if paged:
                out.append(_rect(x(a) - 2, y + 14, 5, 5, PAGE, None, page=int(a)))
    out.append(f'<line x1="{_n(left)}" y1="{_n(height)}" x2="{_n(left + width)}" y2="{_n(height)}" stroke="#555"/>')
    return Html("".join(out) + "</svg>")


def line_chart(points: Sequence[tuple[float, float]], threshold: float, start: float, end: float,
               ticks: Sequence[tuple[float, object]], spans: Sequence[tuple[float, float, bool]] = (),
               name: str = "series") -> Html:
    """A series (time, value) as a line on the time axis of `span_chart`, its threshold as a dashed line, and the
    episodes (from, to, paged) shaded behind it, a paged one marked at its start."""
    left, width, height, top = 56.0, 1000.0, 90.0, 8.0
    scale = width / (end - start) if end > start else 0.0
    values = [v for _, v in points if v == v] + [threshold]      # v == v: not NaN
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    def x(t: float) -> float:
        return left + (min(max(t, start), end) - start) * scale

    def y(v: float) -> float:
        return top + height - (v - low) / (high - low) * height

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{text(name)}" '
           f'data-threshold="{threshold:g}" width="{_n(left + width + 30)}" height="{_n(top + height + 22)}" '
           'role="img">']
    for a, b, paged in spans:
        out.append(_rect(x(a), top, max(3.0, x(b) - x(a)), height, SPAN, None, start=int(a), end=int(b)))
        if paged:
            out.append(_rect(x(a) - 2, top - 6, 5, 5, PAGE, None, page=int(a)))
    for t, label in ticks:
        out.append(f'<line x1="{_n(x(t))}" y1="{_n(top)}" x2="{_n(x(t))}" y2="{_n(top + height + 4)}" '
                   'stroke="#eee"/>')
        out.append(_label(x(t), top + height + 16, label))
    out.append(f'<line x1="{_n(left)}" y1="{_n(y(threshold))}" x2="{_n(left + width)}" y2="{_n(y(threshold))}" '
               f'stroke="{PAGE}" stroke-dasharray="6 4" data-value="{threshold:g}"/>')
    out.append(_label(left + width + 2, y(threshold) + 4, f"{threshold:g}", "start"))
    # A gap in the series (no sample) breaks the line rather than joining across it.
    step = min((b[0] - a[0] for a, b in zip(points, points[1:])), default=0)
    line: list[str] = []
    for i, (t, v) in enumerate(points):
        if line and (v != v or t - points[i - 1][0] > step * 1.5):
            out.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="1.5" points="{" ".join(line)}"/>')
            line = []
        if v == v:
            line.append(f"{_n(x(t))},{_n(y(v))}")
    if line:
        out.append(f'<polyline fill="none" stroke="{LINE}" stroke-width="1.5" points="{" ".join(line)}"/>')
    out.append(_label(left - 4, top + 8, f"{high - pad:.3g}", "end") + _label(left - 4, top + height, f"{low + pad:.3g}",
                                                                             "end"))
    return Html("".join(out) + "</svg>")
