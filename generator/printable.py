"""Text for a terminal or a one-line message: the one place that decides how a character oncallgen did not write
is shown there.

Control characters (line breaks too), invisible ones (zero-width spaces and joiners, soft hyphens, byte-order
marks), bidirectional controls, separators other than the space, and unassigned or private code points are shown
as escapes (`\\n`, `\\u200b`, `\\u202e`): a line stays one line, nothing reaches the terminal as a command, a name
with an invisible character does not look like the name without it, and text does not reorder around it.
"""
from __future__ import annotations


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every character Python does not count as printable (all but the space among separators and
    control, format, surrogate, private-use and unassigned code points) written as its escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
