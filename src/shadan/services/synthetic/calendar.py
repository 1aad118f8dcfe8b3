"""Scheduled meter-reading days (定例検針日) for the synthetic operator.

Reading schedule k reads on the k-th business day of each month, the usual shape of a 検針日程: business
days exclude weekends, national holidays (substitute and citizens' holidays included) and 29 Dec – 3 Jan.
The holiday rules are those in force since 2020 (the demo calendar never reaches back before that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache

SCHEDULES: tuple[str, ...] = tuple(f"{k:02d}" for k in range(1, 21))
_FIXED_HOLIDAYS = ((1, 1), (2, 11), (2, 23), (4, 29), (5, 3), (5, 4), (5, 5), (8, 11), (11, 3), (11, 23))
_HAPPY_MONDAYS = ((1, 2), (7, 3), (9, 3), (10, 2))  # (month, n-th Monday)


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _equinoxes(year: int) -> tuple[dt.date, dt.date]:
    # The astronomical approximation used for 1980–2099 (the official days are announced a year ahead).
    shift = 0.242194 * (year - 1980) - (year - 1980) // 4
    return dt.date(year, 3, int(20.8431 + shift)), dt.date(year, 9, int(23.2488 + shift))


@cache
def national_holidays(year: int) -> frozenset[dt.date]:
    days = {dt.date(year, m, d) for m, d in _FIXED_HOLIDAYS}
    days |= {_nth_monday(year, m, n) for m, n in _HAPPY_MONDAYS}
    days |= set(_equinoxes(year))
    for day in sorted(days):  # 国民の休日: a day between two national holidays
        between = day + dt.timedelta(days=1)
        if between not in days and between + dt.timedelta(days=1) in days:
            days.add(between)
    for day in sorted(days):  # 振替休日: the next day that is not already a holiday
        if day.weekday() == 6:
            substitute = day + dt.timedelta(days=1)
            while substitute in days:
                substitute += dt.timedelta(days=1)
            days.add(substitute)
    return frozenset(days)


def is_business_day(day: dt.date) -> bool:
    if day.weekday() >= 5 or day in national_holidays(day.year):
        return False
    return not ((day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3))


def _business_days(year: int, month: int) -> list[dt.date]:
    day = dt.date(year, month, 1)
    days = []
    while day.month == month:
        if is_business_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _months(start: dt.date, count: int) -> Iterator[tuple[int, int]]:
    for offset in range(count):
        index = start.year * 12 + start.month - 1 + offset
        yield index // 12, index % 12 + 1


def reading_calendar(start: dt.date, months: int) -> list[tuple[str, dt.date]]:
    """(schedule, date) for every schedule and month from `start`'s month, `months` months long."""
    rows = []
    for year, month in _months(start, months):
        days = _business_days(year, month)
        # A short month (New Year, Golden Week) folds its last schedules onto its last business day.
        rows += [(code, days[min(k, len(days) - 1)]) for k, code in enumerate(SCHEDULES)]
    return rows
