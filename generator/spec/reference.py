"""The spec reference as Markdown, generated from the schema so docs/spec-reference.md cannot drift from it."""
from __future__ import annotations

import json

from ..signals import SIGNALS
from .documents import KINDS, kind_schema


def _type(prop: dict) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in dict.fromkeys(str(v) for v in prop["enum"]))  # 2026 and "2026": one
    if "oneOf" in prop and "x-unit" not in prop:
        return " or ".join(_type(option) for option in prop["oneOf"])
    if "const" in prop:
        return f"`{prop['const']}`"
    t = prop.get("type", "")
    if isinstance(t, list):
        return " or ".join(t)
    if t == "array" and isinstance(prop.get("items"), dict):
        items = prop["items"]
        if "type" in items or "enum" in items or "$ref" in items or "const" in items:
            return "list of " + _type(items)
        options = items.get("oneOf", items.get("anyOf", []))
        return "list of " + (" or ".join(_type(o) or "item" for o in options) or "item")
    return t


def _rows(prop: dict, path: str, out: list[str]) -> None:
    default = prop.get("default")
    shown = "" if default is None or default == {} else f"`{json.dumps(default)}`".replace("|", "\\|")
    desc = prop.get("description", "").replace("|", "\\|").replace("\n", " ")
    if path:
        out.append(f"| `{path}` | {_type(prop)} | {shown} | {desc} |")
    for key, sub in prop.get("properties", {}).items():
        _rows(sub, f"{path}.{key}" if path else key, out)
    extra = prop.get("additionalProperties")
    if isinstance(extra, dict):
        _rows(extra, f"{path}.<name>", out)
    items = prop.get("items")
    if isinstance(items, dict) and items.get("properties"):
        for key, sub in items["properties"].items():
            _rows(sub, f"{path}[].{key}", out)


def markdown() -> str:
    """One table per kind: field path, type, default, description."""
    parts = []
    for kind in KINDS:
        rows: list[str] = []
        schema = dict(kind_schema(kind))
        schema.pop("$defs", None)
        _rows(schema, "", rows)
        parts.append(f"## `kind: {kind}`\n\n| field | type | default | description |\n|---|---|---|---|\n"
                     + "\n".join(rows) + "\n")
    units = ("Units: `duration` is a Prometheus duration (`30s`, `5m`, `1h30m`, `1d`); `latency` is a duration or "
             "decimal seconds (`2.56s`, `0.5s`); `factor` is `3x` (or a number); "
             "`ratio` is a percentage (`99.5%`, or a number between 0 and 1); `points` is percentage points (`10pp`).\n")
    return units + "\n" + "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def signals_table() -> str:
    """One row per signal, as the signal declares itself: what it does, when it is on, its alerts, the automation it
    asks for, and every setting with its default."""
    rows = ["| signal | what it does | on | alerts | automation (`remediation=`) | settings (defaults) |",
            "|---|---|---|---|---|---|"]
    for name, signal in SIGNALS.items():
        alerts = ", ".join(f"`{a}`" for a in dict.fromkeys(signal.alerts.values())) or "none: recorded series only"
        settings = ", ".join(f"`{key}` {prop['default']}" if prop.get("default") not in (None, "", [], {}) else f"`{key}`"
                             for key, prop in signal.schema.items())
        rows.append(f"| `{name}` | {_cell(signal.description)} | {_cell(signal.auto_when)} | {alerts} | "
                    f"{f'`{signal.remediation}`' if signal.remediation else ''} | {_cell(settings)} |")
    return "\n".join(rows) + "\n"
