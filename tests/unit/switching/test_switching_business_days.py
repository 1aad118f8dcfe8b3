"""Business days and the cancel window of check 06, around weekends, holidays and the New Year break."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.business_days import (
    cancel_window,
    earliest_cancel_date,
    first_business_day_after,
    is_business_day,
    received_date,
    second_reading_day_after,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (D(2025, 4, 1), True),  # Tuesday
        (D(2025, 4, 5), False),  # Saturday
        (D(2025, 4, 6), False),  # Sunday
        (D(2025, 4, 29), False),  # 昭和の日
        (D(2025, 5, 6), False),  # 振替休日 (こどもの日 … みどりの日 fell on a Sunday)
        (D(2025, 2, 24), False),  # 振替休日 for 天皇誕生日
        (D(2026, 9, 22), False),  # 国民の休日 between 敬老の日 and 秋分の日
        (D(2025, 12, 29), False),  # year-end break, a Monday
        (D(2025, 12, 26), True),  # the last business day of 2025
        (D(2026, 1, 2), False),
        (D(2026, 1, 5), True),  # the first business day of 2026
        (D(2027, 1, 4), True),  # 4 January is not in the break
    ],
)
def test_business_days(day: dt.date, business: bool) -> None:
    assert is_business_day(day) is business


@pytest.mark.parametrize(
    ("received", "first_after", "earliest"),
    [
        (D(2025, 4, 1), D(2025, 4, 2), D(2025, 4, 4)),  # Tue → Wed + 2
        (D(2025, 4, 4), D(2025, 4, 7), D(2025, 4, 9)),  # Fri → Mon + 2
        (D(2025, 4, 5), D(2025, 4, 7), D(2025, 4, 9)),  # received on a Saturday
        (D(2025, 5, 2), D(2025, 5, 7), D(2025, 5, 9)),  # Golden Week, 振替休日 on the 6th
        (D(2025, 2, 21), D(2025, 2, 25), D(2025, 2, 27)),  # 振替休日 on Monday the 24th
        (D(2026, 9, 18), D(2026, 9, 24), D(2026, 9, 26)),  # 敬老の日, 国民の休日, 秋分の日
        (D(2025, 12, 26), D(2026, 1, 5), D(2026, 1, 7)),  # the New Year break
        (D(2025, 12, 28), D(2026, 1, 5), D(2026, 1, 7)),
    ],
)
def test_earliest_cancel_date_is_first_business_day_after_plus_two(
    received: dt.date, first_after: dt.date, earliest: dt.date
) -> None:
    assert first_business_day_after(received) == first_after
    assert earliest_cancel_date(received) == earliest


READING_DAYS = [D(2025, 4, 8), D(2025, 5, 9), D(2025, 6, 10), D(2025, 7, 9)]


@pytest.mark.parametrize(
    ("received", "second"),
    [
        (D(2025, 4, 1), D(2025, 5, 9)),
        (D(2025, 4, 7), D(2025, 5, 9)),
        (D(2025, 4, 8), D(2025, 6, 10)),  # strictly after D: the reading day itself does not count
        (D(2025, 5, 9), D(2025, 7, 9)),
        (D(2025, 6, 10), None),  # the calendar has no second reading day after D
        (D(2025, 3, 1), D(2025, 5, 9)),
    ],
)
def test_second_reading_day_strictly_after(received: dt.date, second: dt.date | None) -> None:
    assert second_reading_day_after(READING_DAYS, received) == second


def test_window_edges() -> None:
    window = cancel_window(D(2025, 4, 1), READING_DAYS)
    assert window.too_early(D(2025, 4, 3))
    assert window.allows(D(2025, 4, 4))
    assert window.allows(D(2025, 5, 8))
    assert window.too_late(D(2025, 5, 9))
    assert window.too_late(D(2025, 6, 1))


def test_without_a_second_reading_day_only_the_lower_bound_is_checked() -> None:
    window = cancel_window(D(2025, 6, 10), READING_DAYS)
    assert window.latest is None
    assert window.too_early(D(2025, 6, 12))
    assert window.allows(D(2030, 1, 1))


@pytest.mark.parametrize(
    ("received_at", "day"),
    [
        (dt.datetime(2025, 4, 3, 16, 0, tzinfo=dt.UTC), D(2025, 4, 4)),  # 01:00 JST the next day
        (dt.datetime(2025, 4, 3, 14, 59, tzinfo=dt.UTC), D(2025, 4, 3)),
        (dt.datetime(2025, 4, 3, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=9))), D(2025, 4, 3)),
    ],
)
def test_received_date_is_taken_in_japan_time(received_at: dt.datetime, day: dt.date) -> None:
    assert received_date(received_at) == day
