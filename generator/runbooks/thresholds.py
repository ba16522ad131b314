"""The threshold table of a runbook page: every setting of its signal as the spec writes it, and the SLO fields it
compares against (the rows come from the signal, through the plan)."""
from __future__ import annotations

from ..content import markdown as md
from ..content.links import percent, times
from ..content.markdown import Markdown
from ..plan import Plan
from ..spec.model import Service
from ..spec.units import format_duration, format_number


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


def threshold_rows(plan: Plan, service: Service, signal: str) -> list[dict]:
    return [{"field": row.field, "value": md.cell(_setting(row.unit, row.value)), "meaning": md.cell(Markdown(row.meaning))}
            for row in plan.runbooks[(service.name, signal)].thresholds]
