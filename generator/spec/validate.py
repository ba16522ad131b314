"""Schema validation with one-line messages, then defaults and units filled in from the same schema."""
from __future__ import annotations

import difflib
import functools
import re
from typing import Any

import jsonschema

from . import units, urls
from .units import format_number
from .errors import FieldError, SpecError
from .loader import Document, format_path

_UNIT_PARSERS = {"duration": units.duration, "latency": units.latency, "factor": units.factor, "ratio": units.ratio, "points": units.points}
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


_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")


def did_you_mean(word: str, known: list[str] | set[str]) -> str:
    """`; did you mean "x"?` when a known word is close to `word` (a typo), else nothing."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.75)
    return f'; did you mean "{close[0]}"?' if close else ""


def _secret_bearing(path: tuple, schema: dict) -> bool:
    """Values whose text may hold a credential: never echoed in a message."""
    return "receivers" in path or bool(schema.get("x-url")) or bool(schema.get("x-hostport"))


def _message(error: jsonschema.ValidationError, root: dict) -> tuple[tuple, str]:
    """The path to report and the message, for one jsonschema error."""
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        # A key that breaks the rules for names: point at the key itself.
        if error.validator == "maxLength":
            return path + (error.instance,), (f"expected a name of at most {error.validator_value} characters (the "
                                              f"limit), got {len(error.instance)}")
        expected = error.schema.get("x-expected", 'a lowercase name like "pagerduty"')
        return path + (error.instance,), f"expected {expected}, got {_show(error.instance)}"
    if _secret_bearing(path, schema) and not isinstance(error.instance, (dict, list, bool)) and error.instance is not None \
            and error.validator not in ("required", "additionalProperties", "minProperties", *_BOUNDS):
        # Show the kind and size of the value, never the value: it may be a secret pasted in the wrong place.
        expected = schema.get("x-expected") or _TYPE_NAMES.get(schema.get("type"), "a valid value")
        got = (f"a string of {len(error.instance)} characters" if isinstance(error.instance, str)
               else f"a number of {len(str(error.instance))} digits")
        return path, f"expected {expected}, got {got} (not shown)"
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
            return path + (extra[0],), f'unknown field "{extra[0]}" (known fields: {known}){did_you_mean(extra[0], allowed)}'
    if v == "enum":
        options = ", ".join(f'"{o}"' for o in dict.fromkeys(str(o) for o in error.validator_value))  # 2026 once
        return path, f"expected one of {options}, got {_show(error.instance)}"
    if v == "const":
        return path, f'expected "{error.validator_value}", got {_show(error.instance)}'
    if v == "type":
        # A YAML value of another type (an unquoted date, say) reads best against the example of the right one.
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        expected = schema.get("x-expected") or " or ".join(_TYPE_NAMES.get(t, t) for t in types if t != "null")
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
    if v in _BOUNDS:
        words = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most",
                 "exclusiveMaximum": "less than"}
        got = "" if _secret_bearing(path, schema) else f", got {_show(error.instance)}"
        return path, f"expected a number {words[v]} {error.validator_value}{got}"
    if v == "minItems":
        return path, f"expected at least {error.validator_value} item(s)"
    if v == "maxItems":
        return path, f"expected at most {error.validator_value} items, got {len(error.instance)}"
    if v in ("maxLength", "maxProperties"):
        what = "characters" if v == "maxLength" else "entries"
        return path, f"expected at most {error.validator_value} {what} (the limit), got {len(error.instance)}"
    return path, error.message


@functools.lru_cache(maxsize=None)
def _whole(pattern: str) -> re.Pattern:
    """The schema's pattern with JSON Schema's meaning of `$` (ECMA-262: the end of the text). Python's `$` also
    matches before a final line break, so a name "demo" and a line break would pass `^[a-z0-9-]+$` and end up in a folder name, a
    label and a tenant. Our patterns write `$` only as that anchor."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator, pattern: str, instance: Any, schema: dict):
    if validator.is_type(instance, "string") and not _whole(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


def check_schema(doc: Document, schema: dict) -> None:
    """Raise SpecError for the first schema violation in document order."""
    validator = _Validator(schema)
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
    # A misspelt key also makes a required one "missing": report the unknown key, which names the typo.
    unknown = {tuple(e.absolute_path) for e in errors if e.validator == "additionalProperties"}
    ranked = [(1 if error.validator == "required" and tuple(error.absolute_path) in unknown else 0, *t)
              for error, t in zip(errors, located)]
    _, line, col, field, message, loc = min(ranked, key=lambda t: (t[0], t[1], t[2], t[3]))
    raise SpecError(loc, field, message)


MAX_DURATION = 365 * 86400.0  # 1y: longer windows and delays are mistakes, and Go's Duration ends at 292y


def _zero_allowed(key: object) -> bool:
    # A `for` of 0s fires on the first evaluation and a group_wait of 0s notifies at once; any other duration
    # of 0s is a window that holds nothing or a timer Alertmanager rejects.
    return key == "group_wait" or key == "for" or (isinstance(key, str) and key.endswith("_for"))


def check_duration(seconds: float, path: tuple) -> float:
    """A parsed duration within the range every target accepts; raise FieldError otherwise."""
    if seconds > MAX_DURATION:
        raise FieldError(path, "expected a duration of at most 1y (365d)")
    if seconds <= 0 and not _zero_allowed(path[-1] if path else None):
        raise FieldError(path, "expected a duration above 0s")
    return seconds


_TEXT_MAX = 4096
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_values(doc: Document, schema: dict, instance: Any = None, sub: dict | None = None, path: tuple = ()) -> None:
    """What the schema cannot say about single values: URLs without credentials, a length limit on text."""
    if sub is None:
        instance, sub = doc.data, schema
    sub = _resolve(sub, schema) if isinstance(sub, dict) else {}

    def fail(message: str) -> None:
        raise SpecError(doc.locate(path), format_path(path), message)

    if isinstance(instance, str):
        kind = sub.get("x-url")
        if kind and (kind != "maybe" or "://" in instance):
            # link: any http(s) URL; base: paths and queries are appended to it; maybe: a URL or an ID.
            problem = urls.url_problem(instance, allow_empty=kind == "base-or-empty",
                                       allow_query=kind in ("link", "maybe"))
            if problem:
                fail(problem)
        elif sub.get("x-hostport"):
            problem = urls.hostport_problem(instance)
            if problem:
                fail(problem)
        if len(instance) > _TEXT_MAX:
            fail(f"expected text of at most {_TEXT_MAX} characters (the limit), got {len(instance)}")
        bidi = _BIDI.search(instance)
        if bidi:
            # In a runbook, an alert or a PR comment they reorder the text around them: what a reader sees is not
            # what is written.
            fail(f"bidirectional control character U+{ord(bidi.group()):04X} at character {bidi.start() + 1}: "
                 "write the text without it")
        return
    if isinstance(instance, dict):
        props = sub.get("properties", {})
        extra = sub.get("additionalProperties")
        for key, value in instance.items():
            child = props.get(key, extra if isinstance(extra, dict) else None)
            if isinstance(child, dict):
                check_values(doc, schema, value, child, path + (key,))
        return
    if isinstance(instance, list):
        items = sub.get("items")
        for i, value in enumerate(instance):
            if isinstance(items, dict):
                check_values(doc, schema, value, items, path + (i,))
            elif isinstance(value, str):
                check_values(doc, schema, value, {}, path + (i,))


def normalize(instance: Any, schema: dict, root: dict, path: tuple = ()) -> Any:
    """Fill in defaults and parse unit strings (`"5m"` -> 300.0), following the schema.

    Runs after check_schema, so shapes are known to be right; unit parse errors become FieldErrors.
    """
    crossed = schema.get("x-crossed")   # a ratio the signal's value must cross: one it can never cross is a mistake
    schema = _resolve(schema, root)
    unit = schema.get("x-unit")
    if unit:
        try:
            value = _UNIT_PARSERS[unit](instance)
        except ValueError as exc:
            raise FieldError(path, str(exc)) from None
        if crossed and not 0 < value < 1:
            # Past either end the alert never fires, or fires on the first call (or failure) that counts.
            never = (crossed == "above") == (value >= 1)
            raise FieldError(path, f"expected a ratio above 0% and below 100%: the alert fires {crossed} it, so at "
                                   f"{format_number(value * 100)}% it " + ("never fires" if never else
                                                                          "fires on the first call that counts"))
        return check_duration(value, path) if unit in ("duration", "latency") else value
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
