"""マッチング rules: the business-day deadline (weekends, holidays, 年末年始), expiry, which halves pair."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.business_days import first_business_day_after, nth_business_day_after
from shadan.domain.japan_time import JST
from shadan.domain.switching_case import (
    Half,
    WaitingHalf,
    has_expired,
    match_deadline,
    pairs_with,
    partner_of,
)


def jst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


def half(
    row_id: int,
    kind: Half,
    received: dt.datetime,
    *,
    point: str = "0600000000000000000001",
    retailer: str = "B0002",
    day: dt.date = dt.date(2025, 4, 20),
    application_id: str = "",
) -> WaitingHalf:
    return WaitingHalf(row_id, kind, application_id or f"A{row_id}", point, retailer, day, received)


@pytest.mark.parametrize(
    ("received", "deadline", "why"),
    [
        (jst(2025, 4, 1), dt.date(2025, 4, 8), "Tue: Wed Thu Fri, Mon Tue"),
        (jst(2025, 4, 4), dt.date(2025, 4, 11), "Fri: the weekend does not count"),
        (jst(2025, 5, 2), dt.date(2025, 5, 13), "Golden Week: 3-6 May are holidays (6 May a 振替休日)"),
        (jst(2025, 12, 26), dt.date(2026, 1, 9), "年末年始: 29 Dec - 3 Jan and the weekends"),
        (jst(2026, 9, 18), dt.date(2026, 9, 30), "敬老の日 21, 国民の休日 22, 秋分の日 23 Sep"),
        (dt.datetime(2025, 3, 31, 23, 30, tzinfo=dt.UTC), dt.date(2025, 4, 8), "08:30 JST on 1 April"),
    ],
)
def test_the_deadline_counts_business_days_from_the_received_date(
    received: dt.datetime, deadline: dt.date, why: str
) -> None:
    assert match_deadline(received, 5) == deadline, why


def test_the_first_business_day_is_the_first_of_n() -> None:
    day = dt.date(2025, 12, 27)
    assert nth_business_day_after(day, 1) == first_business_day_after(day) == dt.date(2026, 1, 5)
    assert nth_business_day_after(day, 0) == day


def test_a_half_expires_when_the_deadline_day_has_passed_in_japan_time() -> None:
    waiting = half(1, Half.CANCEL, jst(2025, 4, 1))
    assert not has_expired(waiting, jst(2025, 4, 8, 23, 59), 5)
    assert has_expired(waiting, jst(2025, 4, 9, 0, 0), 5)
    assert not has_expired(waiting, jst(2025, 4, 9, 0, 0), 6)


def test_a_cancellation_and_a_start_pair_on_point_retailer_and_date() -> None:
    cancel = half(1, Half.CANCEL, jst(2025, 4, 1))
    assert pairs_with(cancel, half(2, Half.START, jst(2025, 4, 3)), 5)
    assert pairs_with(half(2, Half.START, jst(2025, 4, 3)), cancel, 5)  # either may arrive first
    assert not pairs_with(cancel, half(3, Half.CANCEL, jst(2025, 4, 3)), 5)
    assert not pairs_with(cancel, half(4, Half.START, jst(2025, 4, 3), point="0600000000000000000002"), 5)
    assert not pairs_with(cancel, half(5, Half.START, jst(2025, 4, 3), retailer="C0003"), 5)
    assert not pairs_with(cancel, half(6, Half.START, jst(2025, 4, 3), day=dt.date(2025, 4, 21)), 5)


def test_the_later_half_must_arrive_by_the_earlier_ones_deadline() -> None:
    cancel = half(1, Half.CANCEL, jst(2025, 12, 26))
    assert pairs_with(cancel, half(2, Half.START, jst(2026, 1, 9, 23, 59)), 5)
    assert not pairs_with(cancel, half(3, Half.START, jst(2026, 1, 10, 0, 1)), 5)
    # A start received long before the cancellation is the earlier half: its deadline counts.
    early_start = half(4, Half.START, jst(2025, 12, 1))
    assert not pairs_with(cancel, early_start, 5)


def test_the_partner_is_the_earliest_fitting_half() -> None:
    cancel = half(1, Half.CANCEL, jst(2025, 4, 1))
    later = half(2, Half.START, jst(2025, 4, 3, 9), application_id="S-B")
    earlier = half(3, Half.START, jst(2025, 4, 2, 9), application_id="S-Z")
    tie = half(4, Half.START, jst(2025, 4, 2, 9), application_id="S-A")
    other_date = half(5, Half.START, jst(2025, 4, 1, 11), day=dt.date(2025, 4, 25))
    assert partner_of(cancel, [later, earlier, tie, other_date], 5) == tie
    assert partner_of(cancel, [cancel, other_date], 5) is None
