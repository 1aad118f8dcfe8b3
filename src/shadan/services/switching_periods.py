"""Date ranges and periods of the switching statistics and fraud signals, in Japan time.

A range is given as two JST dates, both included; a period (month, week from Monday, day) buckets the
applications by the JST date they were received. The first and last buckets are cut to the range, so a
range from 15 April gives a first month of 15–30 April.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.errors import InvalidInput
from shadan.domain.japan_time import JST

# A year and a leap day: every application of the range is read into memory at once.
MAX_RANGE_DAYS = 366
# Switching of low-voltage customers started in April 2016; the bounds keep dates away from the edges
# of the calendar, where converting JST midnight to UTC would overflow.
EARLIEST = dt.date(2016, 4, 1)
LATEST = dt.date(2099, 12, 31)
DEFAULT_MONTHS = 12
_ONE_DAY = dt.timedelta(days=1)


class Period(StrEnum):
    MONTH = "month"
    WEEK = "week"  # Monday to Sunday
    DAY = "day"

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self]

    def start_of(self, day: dt.date) -> dt.date:
        if self is Period.MONTH:
            return day.replace(day=1)
        if self is Period.WEEK:
            return day - dt.timedelta(days=day.weekday())
        return day

    def next_start(self, start: dt.date) -> dt.date:
        if self is Period.MONTH:
            return _add_months(start.replace(day=1), 1)
        if self is Period.WEEK:
            return self.start_of(start) + dt.timedelta(days=7)
        return start + _ONE_DAY

    def name_of(self, start: dt.date) -> str:
        """How a bucket is named in tables and charts (its own first day, even when cut by the range)."""
        if self is Period.MONTH:
            return f"{start.year}年{start.month}月"
        if self is Period.WEEK:
            return f"{self.start_of(start).isoformat()}の週"
        return start.isoformat()


PERIOD_LABELS: dict[Period, str] = {Period.MONTH: "月別", Period.WEEK: "週別", Period.DAY: "日別"}


@dataclass(frozen=True, slots=True)
class Bucket:
    """One period of a range: its first and last day (JST, both included) and its name."""

    first: dt.date
    last: dt.date
    name: str


@dataclass(frozen=True, slots=True)
class DateRange:
    """JST dates, both included. Construction checks the order, the length and the bounds."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if not (EARLIEST <= self.first <= LATEST and EARLIEST <= self.last <= LATEST):
            bounds = f"{EARLIEST.isoformat()} から {LATEST.isoformat()}"
            raise InvalidInput(f"期間は {bounds} の間の日付で指定してください。")
        if self.last < self.first:
            raise InvalidInput("終了日（to）は開始日（from）以降の日付にしてください。")
        if (self.last - self.first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput(f"期間は{MAX_RANGE_DAYS}日以内で指定してください。")

    @classmethod
    def parse(cls, first: str, last: str, today: dt.date) -> DateRange:
        """From `YYYY-MM-DD` texts; an empty one takes the default (the last 12 months up to today)."""
        last_day = _parse_day(last, "終了日（to）") if last else today
        first_day = _parse_day(first, "開始日（from）") if first else _default_first(last_day)
        return cls(first_day, last_day)

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in UTC: JST midnight of the first day to JST midnight after the last."""
        start = dt.datetime.combine(self.first, dt.time(), JST)
        end = dt.datetime.combine(self.last + _ONE_DAY, dt.time(), JST)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def contains(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    def buckets(self, period: Period) -> Buckets:
        buckets = []
        start = self.first
        while start <= self.last:
            following = period.next_start(start)
            buckets.append(Bucket(start, min(following - _ONE_DAY, self.last), period.name_of(start)))
            start = following
        return Buckets(tuple(buckets))


@dataclass(frozen=True, slots=True)
class Buckets:
    """The periods of a range, in order, and which of them holds a given day."""

    items: tuple[Bucket, ...]

    def index_of(self, day: dt.date) -> int:
        """The position of the bucket holding `day`, which must lie in the range."""
        return bisect_right(self.items, day, key=_first_day) - 1


def _first_day(bucket: Bucket) -> dt.date:
    return bucket.first


def _default_first(last: dt.date) -> dt.date:
    """The first day of the month 11 months before `last`, not before EARLIEST; `last` itself when it is
    out of bounds, so that the range reports that."""
    if not EARLIEST <= last <= LATEST:
        return last
    return max(EARLIEST, _add_months(last.replace(day=1), 1 - DEFAULT_MONTHS))


def _parse_day(text: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{label}は YYYY-MM-DD の形式で入力してください（例: 2025-04-01）。") from None


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day of month `months` later (only used on first days of months)."""
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)
