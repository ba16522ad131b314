"""Render the small subset of Prometheus alert templating our annotations use, as Prometheus does.

Generated promtool tests must state each alert's annotations exactly; rendering them here, from the
scenario's known values, makes the test an independent check of the rule rather than a recording of it.
"""
from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def _g4(v: float) -> str:
    return "%.4g" % v


def humanize(v: float) -> str:
    """Go's `humanize`: SI prefixes, four significant digits."""
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize_percentage(v: float) -> str:
    """Go's `humanizePercentage`."""
    return _g4(v * 100) + "%"


def humanize_duration(v: float) -> str:
    """Go's `humanizeDuration`."""
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix + "s"


def literal(text: str) -> str:
    """`text` as Go template source that prints exactly `text`: for spec values pasted into annotations, which
    Prometheus expands as templates. Each `{{` (and a trailing `{`, which would join the next action's braces)
    becomes an action printing it."""
    out = text.replace("{{", '{{ "{{" }}')
    if out.endswith("{") and not out.endswith('}}'):
        out = out[:-1] + '{{ "{" }}'
    return out


_FILTERS = {"humanize": humanize, "humanizePercentage": humanize_percentage, "humanizeDuration": humanize_duration}


def render(template: str, labels: dict[str, str], value: float | None) -> str:
    """Render `template` with `$labels` and `$value`; raise ValueError on anything outside the subset."""

    def one(match: re.Match) -> str:
        expr = match.group(1)
        if expr in ('"{{"', '"{"'):  # what `literal` writes
            return expr[1:-1]
        m = re.fullmatch(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)", expr)
        if m:
            return labels.get(m.group(1), "<no value>")
        m = re.fullmatch(r"\$value\s*\|\s*(\w+)", expr)
        if m and m.group(1) in _FILTERS and value is not None:
            return _FILTERS[m.group(1)](value)
        m = re.fullmatch(r'printf\s+"%\.(\d)f"\s+\$value', expr)
        if m and value is not None:
            return f"%.{m.group(1)}f" % value
        raise ValueError(f"template expression outside the supported subset: {expr}")

    return _TOKEN.sub(one, template)
