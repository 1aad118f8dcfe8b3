"""Switching statistics as pure computation: shares and their rounding, primary and listed codes, the
comparison with --strict, periods in Japan time, empty ranges, the export table."""

from __future__ import annotations

import datetime as dt

import pytest
from oversight_support import invalid, stored

from shadan.domain.errors import InvalidInput
from shadan.domain.japan_time import JST
from shadan.domain.switching import ErrorCode
from shadan.domain.switching_case import Half
from shadan.services.switching_periods import DateRange, Period
from shadan.services.switching_stats import compute_statistics, percent, statistics_table

APRIL = DateRange(dt.date(2025, 4, 1), dt.date(2025, 4, 30))
SEED_SHARES = {"01": 15.1, "02": 35.1, "03": 2.5, "04": 35.3, "05": 2.9, "06": 3.2, "07": 0.2, "99": 5.5}
# 10,000 rejections whose shares, each rounded to 0.1%, are exactly the seed's table (adding to 99.8%).
SEED_COUNTS = {"01": 1513, "02": 3513, "03": 252, "04": 3532, "05": 292, "06": 322, "07": 22, "99": 554}


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [
        (1, 16, 6.3),  # 6.25: half-up, where binary floats and banker's rounding give 6.2
        (1, 3, 33.3),
        (2, 3, 66.7),
        (351, 1000, 35.1),
        (0, 5, 0.0),
        (5, 5, 100.0),
        (1, 0, None),
    ],
)
def test_percent_rounds_half_up_to_one_decimal(count: int, total: int, expected: float | None) -> None:
    assert percent(count, total) == expected


def test_the_seeds_table_comes_back_from_its_counts() -> None:
    applications = [stored(code) for code, n in SEED_COUNTS.items() for _ in range(n)]
    stats = compute_statistics(applications, APRIL, Period.MONTH)
    total = stats.total
    assert total.rejected == 10_000
    assert {c.code.value: c.percent for c in total.codes} == SEED_SHARES
    assert {c.code.value: c.primary for c in total.codes} == SEED_COUNTS
    assert round(sum(c.percent or 0 for c in total.codes), 1) == 99.8  # as the seed says: not 100
    assert [c.code for c in total.codes] == list(ErrorCode)


def test_primary_is_the_lowest_code_and_listed_counts_every_code() -> None:
    applications = [stored("04", "02", "05"), stored("04"), stored("05", "99"), stored()]
    total = compute_statistics(applications, APRIL, Period.MONTH).total
    primary = {c.code.value: c.primary for c in total.codes if c.primary}
    listed = {c.code.value: c.listed for c in total.codes if c.listed}
    assert primary == {"02": 1, "04": 1, "05": 1}
    assert listed == {"02": 1, "04": 2, "05": 2, "99": 1}
    assert (total.applications, total.accepted, total.rejected, total.invalid) == (4, 1, 3, 0)
    share = next(c for c in total.codes if c.code is ErrorCode.CONTRACT_NO).share
    assert share == pytest.approx(1 / 3)


def test_invalid_rows_count_apart_and_are_not_in_the_shares() -> None:
    stats = compute_statistics([invalid(), invalid(), stored("04")], APRIL, Period.MONTH).total
    assert (stats.applications, stats.invalid, stats.rejected, stats.accepted) == (3, 2, 1, 0)
    assert next(c for c in stats.codes if c.code is ErrorCode.NAME).percent == 100.0
    assert stats.strict.rejected == 1


def test_start_applications_are_not_counted() -> None:
    stats = compute_statistics([stored("04", half=Half.START), stored()], APRIL, Period.MONTH)
    assert stats.total.applications == 1


def test_the_comparison_with_strict_counts_what_normalisation_avoided() -> None:
    applications = [
        stored(strict=["04"]),  # accepted thanks to normalisation: 04 and a rejection avoided
        stored(strict=["05"]),  # the same for 05
        stored("02", strict=["02", "04"]),  # 04 avoided, still rejected for 02
        stored("04", strict=["04", "05"]),  # 05 avoided, 04 real
        stored("05"),  # a real 05 in both modes
        stored("03"),  # nothing to do with normalisation
        stored(),  # accepted in both modes
    ]
    total = compute_statistics(applications, APRIL, Period.MONTH).total
    strict = total.strict
    assert strict.rejected == 6
    assert (strict.name_rejections, total.listed_name, strict.avoided_name) == (3, 1, 2)
    assert (strict.address_rejections, total.listed_address, strict.avoided_address) == (3, 1, 2)
    assert (strict.rejected, total.rejected, strict.avoided_rejections) == (6, 4, 2)


def test_periods_are_cut_by_japan_time_not_utc() -> None:
    last_april = dt.datetime(2025, 4, 30, 14, 59, 59, tzinfo=dt.UTC)  # 23:59:59 JST on 30 April
    first_may = dt.datetime(2025, 4, 30, 15, 0, tzinfo=dt.UTC)  # 00:00 JST on 1 May
    stats = compute_statistics(
        [stored("01", at=last_april), stored("02", at=first_may)],
        DateRange(dt.date(2025, 4, 1), dt.date(2025, 5, 31)),
        Period.MONTH,
    )
    april, may = stats.periods
    assert (april.name, april.rejected, april.codes[0].primary) == ("2025年4月", 1, 1)
    assert (may.name, may.rejected, may.codes[1].primary) == ("2025年5月", 1, 1)


def test_the_range_is_read_from_jst_midnight_to_jst_midnight() -> None:
    start, end = APRIL.utc_bounds()
    assert start == dt.datetime(2025, 3, 31, 15, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 4, 30, 15, 0, tzinfo=dt.UTC)


def test_applications_outside_the_range_are_ignored() -> None:
    before = dt.datetime(2025, 3, 31, 23, 59, tzinfo=JST)
    after = dt.datetime(2025, 5, 1, 0, 0, tzinfo=JST)
    stats = compute_statistics([stored("01", at=before), stored("01", at=after)], APRIL, Period.MONTH)
    assert stats.total.applications == 0


@pytest.mark.parametrize(
    ("period", "names", "edges"),
    [
        (
            Period.MONTH,
            ["2025年4月", "2025年5月", "2025年6月"],
            [("2025-04-15", "2025-04-30"), ("2025-05-01", "2025-05-31"), ("2025-06-01", "2025-06-03")],
        ),
        (
            Period.WEEK,  # 15 April 2025 is a Tuesday: its week began on Monday 14 April
            ["2025-04-14の週", "2025-04-21の週"],
            [("2025-04-15", "2025-04-20"), ("2025-04-21", "2025-04-27")],
        ),
    ],
)
def test_buckets_start_on_calendar_boundaries_and_are_cut_to_the_range(
    period: Period, names: list[str], edges: list[tuple[str, str]]
) -> None:
    last = dt.date(2025, 6, 3) if period is Period.MONTH else dt.date(2025, 4, 27)
    buckets = DateRange(dt.date(2025, 4, 15), last).buckets(period).items
    assert [b.name for b in buckets] == names
    assert [(b.first.isoformat(), b.last.isoformat()) for b in buckets] == edges


def test_days_and_weeks_bucket_every_application_once() -> None:
    week = DateRange(dt.date(2025, 4, 1), dt.date(2025, 4, 14))  # Tuesday to Monday
    applications = [stored("04", at=dt.datetime(2025, 4, d, 9, 0, tzinfo=JST)) for d in range(1, 15)]
    by_day = compute_statistics(applications, week, Period.DAY)
    by_week = compute_statistics(applications, week, Period.WEEK)
    assert [p.rejected for p in by_day.periods] == [1] * 14
    assert [p.rejected for p in by_week.periods] == [6, 7, 1]
    assert by_day.total == by_week.total


def test_an_empty_range_has_every_period_with_zeros_and_no_shares() -> None:
    stats = compute_statistics([], DateRange(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), Period.MONTH)
    assert len(stats.periods) == 12
    assert all(p.applications == 0 for p in stats.periods)
    assert all(c.share is None and c.percent is None for c in stats.total.codes)
    assert stats.total.strict.rejected == 0


def test_year_end_months_roll_over() -> None:
    stats = compute_statistics([], DateRange(dt.date(2024, 11, 20), dt.date(2025, 2, 5)), Period.MONTH)
    assert [p.name for p in stats.periods] == ["2024年11月", "2024年12月", "2025年1月", "2025年2月"]


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2025-05-01", "2025-04-30", "終了日（to）は開始日（from）以降"),
        ("2024-01-01", "2025-01-01", "366日以内"),
        ("2025/04/01", "2025-04-30", "開始日（from）は YYYY-MM-DD"),
        ("2025-04-01", "30 April", "終了日（to）は YYYY-MM-DD"),
        ("2025-02-29", "2025-03-01", "開始日（from）は YYYY-MM-DD"),
        ("0001-01-01", "0001-01-02", "2016-04-01 から 2099-12-31"),
        ("9999-12-30", "9999-12-31", "2016-04-01 から 2099-12-31"),
    ],
)
def test_bad_ranges_are_refused_with_a_message(first: str, last: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        DateRange.parse(first, last, dt.date(2025, 7, 1))


def test_a_leap_year_fits_in_the_longest_range() -> None:
    assert DateRange.parse("2024-01-01", "2024-12-31", dt.date(2025, 7, 1)).last == dt.date(2024, 12, 31)


def test_the_default_range_is_twelve_months_up_to_today() -> None:
    default = DateRange.parse("", "", dt.date(2025, 7, 9))
    assert (default.first, default.last) == (dt.date(2024, 8, 1), dt.date(2025, 7, 9))
    assert len(default.buckets(Period.MONTH).items) == 12
    until = DateRange.parse("", "2025-01-15", dt.date(2025, 7, 9))
    assert (until.first, until.last) == (dt.date(2024, 2, 1), dt.date(2025, 1, 15))


def test_the_default_start_is_never_before_the_earliest_day() -> None:
    default = DateRange.parse("", "2016-05-10", dt.date(2025, 7, 9))
    assert (default.first, default.last) == (dt.date(2016, 4, 1), dt.date(2016, 5, 10))
    with pytest.raises(InvalidInput, match="2016-04-01 から 2099-12-31"):
        DateRange.parse("", "0001-01-05", dt.date(2025, 7, 9))  # found by the API fuzzer: no crash
    with pytest.raises(InvalidInput, match="2016-04-01 から 2099-12-31"):
        DateRange.parse("", "9999-12-31", dt.date(2025, 7, 9))


def test_the_export_table_has_a_row_per_period_and_the_total_last() -> None:
    applications = [stored("04", strict=["04"]), stored(strict=["05"]), invalid()]
    may = DateRange(dt.date(2025, 4, 1), dt.date(2025, 5, 31))
    table = statistics_table(compute_statistics(applications, may, Period.MONTH))
    rows = [list(r) for r in table.rows]
    assert [r[0] for r in rows] == ["2025年4月", "2025年5月", "全期間"]
    assert all(len(r) == len(table.headers) for r in rows)
    total = dict(zip(table.headers, rows[-1], strict=True))
    assert total["申込件数"] == 3
    assert total["記入不備"] == 1
    assert total["04 名義不一致エラー 件数"] == 1
    assert total["04 名義不一致エラー エラー原因の比率（%）"] == 100.0
    assert total["01 供給地点特定番号エラー エラー原因の比率（%）"] == 0.0
    assert total["--strict でのエラー"] == 2
    assert total["05 住所不一致 回避件数"] == 1
    assert total["エラー回避件数"] == 1
    empty_may = dict(zip(table.headers, rows[1], strict=True))
    assert empty_may["04 名義不一致エラー エラー原因の比率（%）"] is None
