"""Business hours of a time zone as time intervals in UTC, for an Alertmanager configuration that has no `location`.

prometheus-operator's AlertmanagerConfig (v1alpha1) time intervals carry weekdays, days of the month, months and
times, but no time zone. A zone's daylight-saving rules are stated as "the last Sunday of March" and the like, so
whether a date is in summer time depends only on its month, its day of the month and its weekday: the same three
fields an interval has. For each of those combinations, the UTC minutes that fall inside the local business hours
are the same every year; the intervals say which they are, exactly, summer and winter alike. A zone whose rules do
not follow that shape (a rule tied to a lunar calendar, a change scheduled for a future year) is refused.
"""
from __future__ import annotations

import calendar
import copy
import functools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

# Years checked: two full 28-year cycles of the Gregorian calendar, so every (month, day, weekday) appears.
YEARS = range(2026, 2082)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # datetime.weekday() order
AM_WEEKDAYS = ("sunday", *WEEKDAYS[:6])  # Alertmanager's order: its ranges count from Sunday
MONTHS = tuple(calendar.month_name[1:])
_DAY = 24 * 60


class NotExpressible(ValueError):
    """The zone's local hours do not map to the same UTC minutes on every date of one (month, day, weekday)."""


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def weekday_set(ranges: tuple[str, ...]) -> frozenset[int]:
    """Alertmanager weekday ranges ("monday:friday", "sunday") as datetime weekday numbers (Monday = 0)."""
    days: set[int] = set()
    for text in ranges:
        first, _, last = text.lower().partition(":")
        start, end = AM_WEEKDAYS.index(first), AM_WEEKDAYS.index(last or first)
        days |= {WEEKDAYS.index(AM_WEEKDAYS[i]) for i in range(start, end + 1)}
    return frozenset(days)


def _open(local: datetime, days: frozenset[int], start: int, end: int) -> bool:
    minute = local.hour * 60 + local.minute
    return local.weekday() in days and start <= minute < end


def _utc_ranges(day: datetime, zone: ZoneInfo, days: frozenset[int], start: int, end: int) -> tuple:
    """The UTC minutes of `day` (00:00 UTC) inside local business hours, as ((from, to), ...)."""
    first, last = day.astimezone(zone).utcoffset(), (day + timedelta(minutes=_DAY - 1)).astimezone(zone).utcoffset()
    if first == last:  # one offset all day: the local windows, shifted
        offset = int(first.total_seconds()) // 60
        out = []
        for shift in (-1, 0, 1):  # the local dates this UTC day overlaps
            local_day = (day + timedelta(days=shift)).date()
            if local_day.weekday() not in days:
                continue
            lo, hi = shift * _DAY + start - offset, shift * _DAY + end - offset
            lo, hi = max(lo, 0), min(hi, _DAY)
            if lo < hi:
                out.append((lo, hi))
        return tuple(_merge(out))
    # The day of a change of offset: minute by minute (a few days a year).
    inside = [_open((day + timedelta(minutes=m)).astimezone(zone), days, start, end) for m in range(_DAY)]
    out, begin = [], None
    for m, flag in enumerate([*inside, False]):
        if flag and begin is None:
            begin = m
        elif not flag and begin is not None:
            out.append((begin, m))
            begin = None
    return tuple(out)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _spans(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as inclusive runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for n in numbers:
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def utc_intervals(location: str, weekdays: tuple[str, ...], start: str, end: str) -> list[dict]:
    """Time intervals in the operator's shape (weekdays, months, daysOfMonth, times; all in UTC) that hold exactly
    when it is `weekdays` between `start` and `end` in `location`. Raises NotExpressible."""
    return copy.deepcopy(_utc_intervals(location, tuple(weekdays), start, end))


@functools.lru_cache(maxsize=64)  # teams share zones and hours; a zone takes a few tenths of a second
def _utc_intervals(location: str, weekdays: tuple[str, ...], start: str, end: str) -> list[dict]:
    zone, days = ZoneInfo(location), weekday_set(weekdays)
    lo, hi = _minutes(start), _minutes(end)
    by_key: dict[tuple[int, int, int], tuple] = {}
    for year in YEARS:
        day = datetime(year, 1, 1, tzinfo=timezone.utc)
        while day.year == year:
            key = (day.month, day.day, day.weekday())
            ranges = _utc_ranges(day, zone, days, lo, hi)
            if by_key.setdefault(key, ranges) != ranges:
                raise NotExpressible(f"{calendar.month_name[day.month]} {day.day} ({WEEKDAYS[day.weekday()]}) "
                                     f"is not the same in UTC every year")
            day += timedelta(days=1)
    # Group: times -> weekday -> month -> days of the month.
    grouped: dict[tuple, dict[int, dict[int, list[int]]]] = {}
    for (month, dom, weekday), ranges in sorted(by_key.items()):
        if ranges:
            grouped.setdefault(ranges, {}).setdefault(weekday, {}).setdefault(month, []).append(dom)
    out = []
    for ranges, per_weekday in sorted(grouped.items()):
        # Weekdays with the same months and days share an interval; so do months with the same days.
        shapes: dict[tuple, list[int]] = {}
        for weekday, per_month in per_weekday.items():
            by_days: dict[tuple, list[int]] = {}
            for month, doms in per_month.items():
                full = doms == list(range(1, calendar.monthrange(2024, month)[1] + 1))  # 2024: February 29
                by_days.setdefault(() if full else tuple(_spans(doms)), []).append(month)
            shapes.setdefault(tuple(sorted((d, tuple(m)) for d, m in by_days.items())), []).append(weekday)
        for shape, weekdays_of in sorted(shapes.items(), key=lambda item: sorted(item[1])):
            for dom_spans, months in shape:
                am_days = sorted(AM_WEEKDAYS.index(WEEKDAYS[w]) for w in weekdays_of)
                interval: dict = {"times": [{"startTime": _hhmm(a), "endTime": _hhmm(b)} for a, b in ranges],
                                  "weekdays": [AM_WEEKDAYS[a] if a == b else f"{AM_WEEKDAYS[a]}:{AM_WEEKDAYS[b]}"
                                               for a, b in _spans(am_days)]}
                if list(months) != list(range(1, 13)):
                    interval["months"] = [MONTHS[a - 1].lower() if a == b else f"{MONTHS[a - 1].lower()}:"
                                          f"{MONTHS[b - 1].lower()}" for a, b in _spans(months)]
                if dom_spans:  # () stands for whole months
                    interval["daysOfMonth"] = [{"start": a, "end": b} for a, b in dom_spans]
                out.append(interval)
    return out
