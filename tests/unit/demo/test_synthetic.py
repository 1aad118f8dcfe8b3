"""The synthetic operator: valid ids, sizes, determinism, and files that the real import row checks accept."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from shadan.domain.registry import SupplyPoint, SupplyPointKind, Voltage
from shadan.domain.supply_point_id import SupplyPointId
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.hr_master_format import parse_companies, parse_staff
from shadan.services.registry_rows import (
    COLUMNS,
    RegistryFile,
    RowChecker,
    SupplyPointRules,
    check_reading_day,
    check_retailer,
    reading_day_key,
    retailer_key,
    supply_point_key,
)
from shadan.services.synthetic.calendar import SCHEDULES, is_business_day, national_holidays
from shadan.services.synthetic.files import companies_csv, registry_files, staff_csv
from shadan.services.synthetic.generator import SyntheticOperator, generate
from shadan.services.tabular import read_csv

START = dt.date(2026, 11, 28)
KANSAI_PREFECTURES = ("大阪府", "京都府", "兵庫県", "奈良県", "滋賀県", "和歌山県")


@cache
def operator(size: int = 3_000, seed: int = 6) -> SyntheticOperator:
    return generate(size=size, seed=seed, start=START)


def test_supply_point_ids_are_22_digits_of_area_06_and_unique() -> None:
    points = operator().supply_points
    assert len(points) == 3_000
    assert len({p.supply_point_id for p in points}) == len(points)
    for point in points:
        assert SupplyPointId.parse(point.supply_point_id).area is Area.KANSAI


@pytest.mark.parametrize("size", [1, 17, 250])
def test_size_is_the_number_of_supply_points(size: int) -> None:
    assert len(generate(size=size, start=START).supply_points) == size


def test_same_seed_same_operator_other_seed_other_points() -> None:
    assert generate(size=300, seed=1, start=START) == generate(size=300, seed=1, start=START)
    other = generate(size=300, seed=2, start=START)
    assert other.supply_points != generate(size=300, seed=1, start=START).supply_points


def test_staff_do_not_depend_on_the_number_of_points() -> None:
    assert generate(size=10, start=START).staff == generate(size=400, start=START).staff


def test_mix_of_customers_is_realistic() -> None:
    points = operator().supply_points
    kinds = Counter(p.kind for p in points)
    low_demand = sum(1 for p in points if p.kind is SupplyPointKind.DEMAND and p.voltage is Voltage.LOW)
    assert 0.01 < kinds[SupplyPointKind.GENERATION] / len(points) < 0.06
    assert 0.9 < low_demand / kinds[SupplyPointKind.DEMAND] < 0.98
    assert all(p.address.startswith(KANSAI_PREFECTURES) for p in points)
    assert all(p.transformer_id and p.feeder_id for p in points)


def test_market_has_the_affiliated_retailer_and_new_retailers() -> None:
    retailers = operator().retailers
    affiliated = [r for r in retailers if r.affiliated_area is not None]
    assert [(r.name, r.affiliated_area) for r in affiliated] == [("関西電力株式会社", Area.KANSAI)]
    assert len(retailers) - len(affiliated) >= 5
    used = {p.retailer_code for p in operator().supply_points}
    assert used == {r.retailer_code for r in retailers}


def test_staff_cover_every_company_kind_with_personal_ids() -> None:
    staff = operator().staff
    assert 200 <= len(staff) <= 500
    assert {s.company.kind for s in staff} == set(CompanyKind)
    assert len({s.account_id for s in staff}) == len(staff)
    td_roles = {s.role for s in staff if s.company.kind is CompanyKind.TD}
    assert td_roles == {"wheeling_clerk", "network_engineer", "info_manager", "internal_auditor", "sysadmin"}
    assert {s.role for s in staff if s.company.kind.is_retail} == {"retail_staff"}


def test_registry_files_pass_the_import_row_checks() -> None:
    files = registry_files(operator())
    retailers = _check(files, RegistryFile.RETAILERS, RowChecker(3, check_retailer, retailer_key))
    days = _check(files, RegistryFile.READING_CALENDAR, RowChecker(2, check_reading_day, reading_day_key))
    rules = SupplyPointRules(
        frozenset(r.retailer_code for r in retailers), frozenset(d.reading_schedule for d in days)
    )
    points = _check(files, RegistryFile.SUPPLY_POINTS, RowChecker(13, rules.check, supply_point_key))
    expected = [_without_equipment(p) for p in operator().supply_points]
    assert points == expected, "the CSV round-trips every field of §5.1"


def _check(files: dict[RegistryFile, bytes], kind: RegistryFile, checker: RowChecker[Any]) -> list[Any]:
    parsed = read_csv(files[kind], COLUMNS[kind])
    assert parsed.encoding == "utf-8-sig"
    checked = checker.check(parsed.rows)
    assert [c.errors for c in checked if c.errors] == []
    return [c.value for c in checked]


def _without_equipment(point: SupplyPoint) -> SupplyPoint:
    # Equipment ids have no column in supply_points.csv (DESIGN §5.1), so they do not round-trip.
    return replace(point, transformer_id="", feeder_id="")


def test_reading_calendar_covers_two_years_on_business_days() -> None:
    days = operator().reading_days
    assert {d.reading_schedule for d in days} == set(SCHEDULES)
    assert min(d.date for d in days) < START
    assert max(d.date for d in days) > START + dt.timedelta(days=700)
    assert all(is_business_day(d.date) for d in days)
    assert len({(d.reading_schedule, d.date.year, d.date.month) for d in days}) == len(days)


def test_holidays_include_substitute_and_citizens_holidays() -> None:
    holidays = national_holidays(2026)
    assert dt.date(2026, 5, 6) in holidays  # 振替休日 (5/3 is a Sunday)
    assert dt.date(2026, 9, 22) in holidays  # 国民の休日 between 敬老の日 and 秋分の日
    assert dt.date(2026, 3, 20) in holidays  # 春分の日
    assert not is_business_day(dt.date(2026, 12, 30))
    assert is_business_day(dt.date(2026, 12, 28))


def test_hr_master_files_pass_the_loader_checks() -> None:
    op = operator()
    companies = parse_companies(companies_csv(op.companies))
    staff = parse_staff(staff_csv(op.staff))
    assert companies.errors == ()
    assert staff.errors == ()
    assert {c.company.company_id for c in companies.rows} == {s.company.company_id for s in op.staff}
    assert len(staff.records) == len(op.staff)
    assert all(len(r.accounts) == 1 for r in staff.records)


def test_generation_is_fast_enough_for_the_default_demo() -> None:
    # Not a benchmark: a guard against an accidental quadratic step (100,000 points take about a second).
    started = time.perf_counter()
    generate(size=20_000, start=START)
    assert time.perf_counter() - started < 10
