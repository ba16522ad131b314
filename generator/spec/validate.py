"""Schema validation with one-line messages, then defaults and units filled in from the same schema."""
from __future__ import annotations

import re
from typing import Any

import jsonschema

from . import units
from .errors import FieldError, SpecError
from .loader import Document, format_path

_UNIT_PARSERS = {"duration": units.duration, "factor": units.factor, "ratio": units.ratio, "points": units.points}
_TYPE_NAMES = {"string": "a string", "object": "a mapping", "array": "a list", "number": "a number",
               "integer": "a whole number", "boolean": "true or false"}


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _resolve(schema: dict, root: dict) -> dict:
    while "$ref" in schema:
        target = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _message(error: jsonschema.ValidationError, root: dict) -> tuple[tuple, str]:
    """The path to report and the message, for one jsonschema error."""
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    unit = schema.get("x-unit")
    if unit is None and error.parent is not None and isinstance(error.parent.schema, dict):
        unit = error.parent.schema.get("x-unit")
    if unit:
        try:
            _UNIT_PARSERS[unit](error.instance)
        except ValueError as exc:
            return path, str(exc)
    v = error.validator
    if v == "required":
        missing = re.match(r"'([^']*)'", error.message)
        return path + ((missing.group(1),) if missing else ()), f'missing required field "{missing.group(1) if missing else error.message}"'
    if v == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []
        if extra:
            known = ", ".join(sorted(allowed))
            return path + (extra[0],), f'unknown field "{extra[0]}" (known fields: {known})'
    if v == "enum":
        options = ", ".join(f'"{o}"' for o in error.validator_value)
        return path, f"expected one of {options}, got {_show(error.instance)}"
    if v == "const":
        return path, f'expected "{error.validator_value}", got {_show(error.instance)}'
    if v == "type":
        # A YAML value of another type (an unquoted date, say) reads best against the example of the right one.
        expected = schema.get("x-expected") or _TYPE_NAMES.get(error.validator_value, error.validator_value)
        return path, f"expected {expected}, got {_show(error.instance)}"
    if v == "pattern":
        expected = schema.get("x-expected", f"a value matching {error.validator_value}")
        return path, f"expected {expected}, got {_show(error.instance)}"
    if v == "oneOf" and unit:
        # The value parses as the unit but breaks a bound of its branch (e.g. a factor of 0): report that bound.
        for sub in error.context or ():
            if sub.validator != "type":
                return _message(sub, root)
        return path, f"expected a valid value, got {_show(error.instance)}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most",
                 "exclusiveMaximum": "less than"}
        return path, f"expected a number {words[v]} {error.validator_value}, got {_show(error.instance)}"
    if v == "minItems":
        return path, f"expected at least {error.validator_value} item(s)"
    return path, error.message


def check_schema(doc: Document, schema: dict) -> None:
    """Raise SpecError for the first schema violation in document order."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(doc.data))
    if not errors:
        return
    located = []
    for error in errors:
        # A oneOf failure hides the real cause in its context; report the deepest one.
        leaf = error
        while leaf.context:
            leaf = max(leaf.context, key=lambda e: len(e.absolute_path))
            if leaf.validator in ("type", "pattern") and error.schema.get("x-unit"):
                leaf = error
                break
        path, message = _message(leaf, schema)
        loc = doc.locate(path)
        located.append((loc.line, loc.column, format_path(path), message, loc))
    line, col, field, message, loc = min(located, key=lambda t: (t[0], t[1], t[2]))
    raise SpecError(loc, field, message)


def normalize(instance: Any, schema: dict, root: dict, path: tuple = ()) -> Any:
    """Fill in defaults and parse unit strings (`"5m"` -> 300.0), following the schema.

    Runs after check_schema, so shapes are known to be right; unit parse errors become FieldErrors.
    """
    schema = _resolve(schema, root)
    unit = schema.get("x-unit")
    if unit:
        try:
            return _UNIT_PARSERS[unit](instance)
        except ValueError as exc:
            raise FieldError(path, str(exc)) from None
    if isinstance(instance, dict) and schema.get("type") == "object":
        out = {}
        props = schema.get("properties", {})
        for key, sub in props.items():
            sub_r = _resolve(sub, root)
            if key in instance:
                out[key] = normalize(instance[key], sub, root, path + (key,))
            elif "default" in sub_r or "default" in sub:
                default = sub.get("default", sub_r.get("default"))
                out[key] = normalize(default, sub, root, path + (key,)) if default is not None else None
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            if key not in props:
                out[key] = normalize(value, extra, root, path + (key,)) if isinstance(extra, dict) else value
        return out
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [normalize(item, schema["items"], root, path + (i,)) for i, item in enumerate(instance)]
    return instance
