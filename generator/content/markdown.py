"""Markdown that spec values cannot change: the runbooks' one escaping place.

A runbook is Markdown that docs sites render as HTML, so a spec value could open a heading, close a code
fence or carry `<script>`. Every value the templates print is escaped by default (the environment's
`finalize`); text oncallgen wrote itself is wrapped in `Markdown` to be printed as is, and must escape the
spec values inside it with `text` and `code`.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Characters that start emphasis, code, links, tables, strike-through or escapes anywhere in a line; an
# underscore between two letters or digits cannot (CommonMark's flanking rules), so snake_case stays readable.
_INLINE = re.compile(r"([\\`*\[\]|~]|(?<![^\W_])_|_(?![^\W_]))")
# What makes the start of a line a heading, list item, quote, thematic break or numbered item.
_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=\s|$)|\d{1,9}[.)](?=\s|$)|[=-]+(?=\s*$))")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BACKTICKS = re.compile(r"`+")
_UNSAFE_URL = re.compile(r"[\x00-\x20<>()\\`\"'\x7f]")


class Markdown(str):
    """Text that is Markdown already: written by oncallgen, with every spec value inside it escaped."""


def _one_line(value: str) -> str:
    return re.sub(r"[\r\n\t\x0b\x0c]+", " ", value)


def text(value: object) -> Markdown:
    """`value` as Markdown that renders as exactly its text, on one line (line breaks become spaces)."""
    if isinstance(value, Markdown):
        return value
    return _escaped(str(value))


# Pages print the same values over and over (names, labels, thresholds): remember the recent ones, a bounded number.
@lru_cache(maxsize=4096)
def _escaped(value: str) -> Markdown:
    s = _one_line(value)
    s = "".join(_HTML.get(ch, ch) for ch in s)
    s = _INLINE.sub(r"\\\1", s)
    # A backslash escapes punctuation only: "1." becomes "1\." rather than "\1.".
    s = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], s)
    # Control characters have no business on a page; show where they were.
    s = re.sub(r"[\x00-\x1f\x7f]", "\N{REPLACEMENT CHARACTER}", s)
    return Markdown(s)


def paragraphs(value: str) -> Markdown:
    """Free text: paragraphs (split at blank lines) kept, each escaped as `text`."""
    parts = [p for p in re.split(r"\n\s*\n", str(value).strip()) if p.strip()]
    return Markdown("\n\n".join(text(p.strip()) for p in parts))


def code(value: object) -> Markdown:
    """Inline code showing exactly `value` (on one line): the fence is longer than any backtick run inside."""
    return _code(str(value))


@lru_cache(maxsize=4096)
def _code(value: str) -> Markdown:
    s = _one_line(value)
    if not s:
        return Markdown("` `")
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(s)), default=0)
    fence = "`" * (longest + 1)
    # CommonMark strips one space from each end when both ends have one, and a backtick at an end would join the fence.
    if s[0] in "` " or s[-1] in "` ":
        s = f" {s} "
    return Markdown(f"{fence}{s}{fence}")


def fence(value: str, info: str = "") -> Markdown:
    """A fenced code block holding `value`; its fence is longer than any backtick run in `value`."""
    body = str(value).replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(body)), default=0)
    marks = "`" * max(3, longest + 1)
    return Markdown(f"{marks}{info}\n{body}\n{marks}")


def url(value: str) -> Markdown:
    """A link target that cannot end the link early: spaces, brackets, quotes and controls percent-encoded."""
    return Markdown(_UNSAFE_URL.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), str(value)))


def link(label: object, target: str) -> Markdown:
    """`[label](target)` with the label escaped (unless Markdown already) and the target encoded."""
    return Markdown(f"[{text(label)}]({url(target)})")


def cell(value: object) -> Markdown:
    """A table cell: escaped text (or Markdown) on one line, its pipes escaped."""
    if isinstance(value, Markdown):
        return Markdown(_one_line(value).replace("|", "\\|").replace("\\\\|", "\\|"))
    return text(value)


def codes(values: list[str]) -> Markdown:
    """Names as inline code, comma separated."""
    return Markdown(", ".join(code(v) for v in values))


def finalize(value: object) -> str:
    """What the templates print for `{{ value }}`: Markdown as is, anything else escaped."""
    if isinstance(value, Markdown):
        return value
    if value is None:
        raise TypeError("a template printed None")  # StrictUndefined's sibling: a missing value is a bug
    return text(value)
