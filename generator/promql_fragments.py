"""The one place spec values become PromQL text: label names, string literals, regex literals, label_replace.

Every value a spec supplies reaches a query through these functions, so no value can change what a query
means: label names are checked against Prometheus' grammar, strings are escaped as Go string literals (the
PromQL lexer's rules), literal text inside a regex is escaped for RE2, and user regexes are checked when the
spec is loaded.
"""
from __future__ import annotations

import re
import warnings

import promql_parser

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_RE2_SPECIAL = set(r"\.+*?()|[]{}^$")
# Go string-literal escapes the PromQL lexer understands, for the characters that cannot stand for themselves.
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')  # the characters `string` does not write as themselves
# Regex syntax RE2 does not have (Prometheus would reject it) or that Python reads differently.
_NOT_RE2 = (
    (re.compile(r"\(\?<?[=!]"), "lookarounds"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\(\?\("), "conditionals"),
    (re.compile(r"\\[1-9]|\\g<|\\k<|\(\?P="), "backreferences"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers"),
)


class PromQLTextError(ValueError):
    """A spec value that cannot be used where the query needs it (the message names the rule it breaks)."""


def label_name(name: str) -> str:
    """`name` if it is a valid label name of our own choosing; raise PromQLTextError otherwise."""
    if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
        raise PromQLTextError(f"expected a label name matching [a-zA-Z_][a-zA-Z0-9_]*, got {_show(name)}")
    if name.startswith("__"):
        raise PromQLTextError(f"label names starting with __ are reserved by Prometheus, got {_show(name)}")
    return name


def string(value: str) -> str:
    """`value` as a double-quoted PromQL string literal that reads back as exactly `value`."""
    if not _NEEDS_ESCAPE.search(value):
        return '"' + value + '"'  # the common case, without the walk below
    out = []
    for ch in value:
        if ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def escape(value: str) -> str:
    """The inside of `string(value)`, for callers that write the quotes themselves."""
    return string(value)[1:-1]


def regex_literal(value: str) -> str:
    """A regex (not yet quoted) that matches exactly `value`, as RE2 reads it."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in value)


def alternatives(*values: str) -> str:
    """A regex matching exactly one of `values`, each taken literally."""
    return "|".join(regex_literal(v) for v in values)


def check_regex(pattern: str) -> str:
    """`pattern` if Prometheus (RE2) and our own test-series generator read it the same way; raise otherwise."""
    if not isinstance(pattern, str):
        raise PromQLTextError(f"expected a regex, got {_show(pattern)}")
    for construct, what in _NOT_RE2:
        if construct.search(pattern):
            raise PromQLTextError(f"{what} are not supported by Prometheus' regex engine (RE2)")
    try:
        with warnings.catch_warnings():
            # Python warns where it reads a class like [[:alpha:]] differently from RE2: refuse those too.
            warnings.simplefilter("error", FutureWarning)
            re.compile(pattern)
    except re.error as exc:
        raise PromQLTextError(f"invalid regex: {exc.msg} at position {exc.pos}") from None
    except FutureWarning:
        raise PromQLTextError("POSIX classes and nested sets like [[:alpha:]] are not supported; list the "
                              "characters instead") from None
    try:
        # promql-parser compiles matcher regexes with an RE2-compatible engine.
        promql_parser.parse("x{a=~" + string(pattern) + "}")
    except ValueError:
        raise PromQLTextError("invalid regex for Prometheus (RE2 syntax)") from None
    return pattern


def label_replace(expr: str, destination: str, replacement: str, source: str, regex: str) -> str:
    """`label_replace(expr, "dst", "replacement", "src", "regex")` with names checked and strings escaped."""
    return (f"label_replace({expr}, {string(label_name_or_ours(destination))}, {string(replacement)}, "
            f"{string(label_name_or_ours(source))}, {string(regex)})")


def copy_label(expr: str, destination: str, source: str) -> str:
    """Copy a non-empty `source` label to `destination` (any value: `(?s)` lets `.` match a line break too)."""
    return label_replace(expr, destination, "$1", source, "(?s)(.+)")


def label_name_or_ours(name: str) -> str:
    """Like label_name, but also accepts Prometheus' own names (`__name__`) used by generated code."""
    if name == "__name__":
        return name
    return label_name(name)


def matcher(name: str, op: str, value: str) -> str:
    """One label matcher, `name<op>"value"`."""
    assert op in ("=", "!=", "=~", "!~"), op
    return f"{label_name_or_ours(name)}{op}{string(value)}"


def _show(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"')[:80] + '"'
    return repr(value)
