"""Parsing of the spec's human units: durations, factors, percentages, percentage points.

Each parser returns a number or raises ValueError with the text users see after "expected".
The same regular expressions are exported to the JSON Schema so editors flag bad values too.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d|w|y))+$"
FACTOR_PATTERN = r"^[0-9]+(\.[0-9]+)?x$"
PERCENT_PATTERN = r"^[0-9]+(\.[0-9]+)?%$"
POINTS_PATTERN = r"^[0-9]+(\.[0-9]+)?pp$"
# A latency may also be written in decimal seconds (`2.56s`, `0.5s`), as histogram buckets and SDKs print it.
LATENCY_PATTERN = r"^(([0-9]+(ms|s|m|h|d|w|y))+|[0-9]+\.[0-9]+s)$"

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


class UnitError(ValueError):
    """A value that does not read as the unit it should be."""

    def __init__(self, expected: str, got: object):
        super().__init__(f'expected {expected}, got {_show(got)}')


def _show(value: object) -> str:
    """The value as the spec wrote it (YAML words, not Python reprs like `True` or `None`)."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def duration(value: object) -> float:
    """`"5m"` -> 300.0 and `"800ms"` -> 0.8 (seconds), in Prometheus duration syntax."""
    if isinstance(value, str) and value.startswith("-") and re.fullmatch(DURATION_PATTERN, value[1:]):
        raise UnitError("a duration of zero or more (delays cannot be negative)", value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]+\.[0-9]+[a-z]+", value):
        raise UnitError('a duration in whole units like "1m30s" or "2s560ms" (decimals only for a latency: "2.56s")',
                        value)
    if not isinstance(value, str) or not re.fullmatch(DURATION_PATTERN, value):
        raise UnitError('a duration like "5m", "1h30m" or "800ms"', value)
    ms = sum(int(n) * round(_DURATION_UNITS[u] * 1000) for n, u in _DURATION_PART.findall(value))
    return ms / 1000


def latency(value: object) -> float:
    """A duration, or decimal seconds: `"2.56s"` -> 2.56, `"800ms"` -> 0.8; to the millisecond, like Prometheus."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]+\.[0-9]+s", value):
        seconds = round(float(value[:-1]), 3)
        if abs(seconds - float(value[:-1])) > 1e-9:
            raise UnitError('a latency to the millisecond like "2.56s" or "800ms"', value)
        return seconds
    try:
        return duration(value)
    except UnitError:
        raise UnitError('a latency like "2.56s", "800ms" or "4s"', value) from None


def factor(value: object) -> float:
    """`"3x"` or `3` -> 3.0."""
    if isinstance(value, bool):
        raise UnitError('a factor like "3x"', value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.fullmatch(FACTOR_PATTERN, value):
        return float(value[:-1])
    raise UnitError('a factor like "3x"', value)


def ratio(value: object) -> float:
    """`"99.5%"` -> 0.995; a bare number between 0 and 1 is taken as a ratio."""
    if isinstance(value, bool):
        raise UnitError('a percentage like "99.5%"', value)
    if isinstance(value, (int, float)) and 0 <= value <= 1:
        return float(value)
    if isinstance(value, str) and re.fullmatch(PERCENT_PATTERN, value) and float(value[:-1]) <= 100:
        return float(value[:-1]) / 100
    raise UnitError('a percentage like "99.5%"', value)


def points(value: object) -> float:
    """`"10pp"` (percentage points) -> 0.10."""
    if isinstance(value, str) and re.fullmatch(POINTS_PATTERN, value):
        return float(value[:-2]) / 100
    raise UnitError('percentage points like "10pp"', value)


# Test series and rules spell the same few durations and numbers hundreds of thousands of times; for ints and floats
# the answer depends only on the value (1, 1.0 and True are spelled alike), so the recent ones are remembered, a bounded
# number.
def format_duration(seconds: float) -> str:
    """300 -> "5m", 0.8 -> "800ms"; the Prometheus form, largest units first."""
    if type(seconds) not in (int, float):
        return _format_duration(seconds)
    return _cached_duration(seconds)


def _format_duration(seconds: float) -> str:
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = ""
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = round(_DURATION_UNITS[unit] * 1000)
        if unit == "w" and ms % size:
            continue  # "30d" reads better than "4w2d"
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return out


_cached_duration = lru_cache(maxsize=4096)(_format_duration)


def format_number(value: float) -> str:
    """A number as PromQL and YAML should show it: no trailing `.0`, no float noise."""
    if not value or type(value) not in (int, float, bool):
        return _format_number(value)  # 0.0 and -0.0 are equal keys but spelled apart; other types as they come
    return _cached_number(value)


def _format_number(value: float) -> str:
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if "e" in text or len(text) > 12:
        text = f"{value:.10g}"
    return text


_cached_number = lru_cache(maxsize=8192)(_format_number)


def moment(value: object) -> float | None:
    """Seconds since the epoch of an ISO 8601 time (`2026-12-01T02:00:00Z`; UTC when it names no zone), or of the
    timestamp YAML reads an unquoted one as; None when `value` is neither."""
    when = value if isinstance(value, datetime) else None
    if isinstance(value, str) and len(value) <= 64:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
