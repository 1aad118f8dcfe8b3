"""Business days of the switching procedure and the cancel-date window of check 06 (DESIGN §2, §5.3).

A business day is not a Saturday or Sunday, not a national holiday (振替休日 and 国民の休日 included, as
jpholiday computes them from the Act on National Holidays) and not in the year-end break 29 Dec – 3 Jan.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jpholiday

from shadan.domain.japan_time import local_day

LEAD_CALENDAR_DAYS = 2  # low voltage: 1 business day + 2 calendar days (DESIGN §2)
_YEAR_END = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})
_ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=4096)
def is_business_day(day: dt.date) -> bool:
    if day.weekday() >= 5 or (day.month, day.day) in _YEAR_END:
        return False
    return not jpholiday.is_holiday(day)


@lru_cache(maxsize=4096)
def first_business_day_after(day: dt.date) -> dt.date:
    candidate = day + _ONE_DAY
    while not is_business_day(candidate):
        candidate += _ONE_DAY
    return candidate


def nth_business_day_after(day: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `day`; 1 is the first business day after it."""
    for _ in range(count):
        day = first_business_day_after(day)
    return day


def received_date(received_at: dt.datetime) -> dt.date:
    """D of check 06: the day the application was received, in Japan time."""
    return local_day(received_at)


@dataclass(frozen=True, slots=True)
class CancelWindow:
    """Cancel dates allowed for an application received on `received`: earliest ≤ date < latest.

    `latest` is None when the reading calendar has no second reading day after the received date; the
    upper bound then cannot be checked (the calendar needs extending, which the summary reports).
    """

    received: dt.date
    earliest: dt.date
    latest: dt.date | None

    def too_early(self, cancel: dt.date) -> bool:
        return cancel < self.earliest

    def too_late(self, cancel: dt.date) -> bool:
        return self.latest is not None and cancel >= self.latest

    def allows(self, cancel: dt.date) -> bool:
        return not self.too_early(cancel) and not self.too_late(cancel)


def earliest_cancel_date(received: dt.date) -> dt.date:
    """(The first business day after D) + 2 calendar days."""
    return first_business_day_after(received) + dt.timedelta(days=LEAD_CALENDAR_DAYS)


def second_reading_day_after(reading_days: Sequence[dt.date], received: dt.date) -> dt.date | None:
    """次々回検針日: the second scheduled reading day strictly after D; `reading_days` sorted ascending."""
    index = bisect_right(reading_days, received) + 1
    return reading_days[index] if index < len(reading_days) else None


def cancel_window(received: dt.date, reading_days: Sequence[dt.date]) -> CancelWindow:
    return CancelWindow(
        received=received,
        earliest=earliest_cancel_date(received),
        latest=second_reading_day_after(reading_days, received),
    )
