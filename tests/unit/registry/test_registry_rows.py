"""Row checks of the registry files (DESIGN §5.1): every problem named by line, column and reason."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.registry import SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Area
from shadan.services.registry_rows import (
    CALENDAR_COLUMNS,
    RETAILER_COLUMNS,
    SUPPLY_POINT_COLUMNS,
    RowChecker,
    SupplyPointRules,
    check_reading_day,
    check_retailer,
    retailer_key,
    supply_point_key,
)
from shadan.services.tabular import CsvRow

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
RULES = SupplyPointRules(retailer_codes=frozenset({"A0001"}), reading_schedules=frozenset({"S01"}))
GOOD = {
    "supply_point_id": "0600000000000000000001",
    "kind": "demand",
    "voltage": "low",
    "retailer_code": "A0001",
    "contract_no": "C-1",
    "name_kana": "ヤマダ タロウ",
    "name_kanji": "山田 太郎",
    "address": "大阪府大阪市北区梅田1-2-3",
    "building": "",
    "phone": "",
    "status": "active",
    "switching_target": "true",
    "reading_schedule": "S01",
}


def point_row(line: int = 2, **changes: str) -> CsvRow:
    return CsvRow(line, {**GOOD, **changes})


def reasons(check: object) -> dict[str, str]:
    return {e.column: e.reason for e in check.errors}  # type: ignore[attr-defined]


def test_a_good_supply_point_row_becomes_a_supply_point() -> None:
    checked = RULES.check(point_row())
    assert checked.errors == ()
    assert checked.value is not None
    assert checked.value.kind is SupplyPointKind.DEMAND
    assert checked.value.voltage is Voltage.LOW
    assert checked.value.status is SupplyPointStatus.ACTIVE
    assert checked.value.switching_target is True
    assert checked.value.area is Area.KANSAI


@pytest.mark.parametrize(
    "raw",
    [
        "0600000000000000000001".translate(FULL_WIDTH),
        "0600-0000-0000-0000-0000-01",
        "06 0000 0000 0000 0000 0001",
    ],
)
def test_supply_point_id_is_canonicalised(raw: str) -> None:
    checked = RULES.check(point_row(supply_point_id=raw))
    assert checked.value is not None
    assert checked.value.supply_point_id == "0600000000000000000001"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("060000000000000000000", "22桁"),
        ("1100000000000000000001", "01〜10"),
        ("06000000000000000000AB", "22桁"),
    ],
)
def test_bad_supply_point_ids_are_rejected(raw: str, fragment: str) -> None:
    checked = RULES.check(point_row(supply_point_id=raw))
    assert checked.value is None
    assert fragment in reasons(checked)["supply_point_id"]


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("kind", "consumer", "demand・generation"),
        ("voltage", "LOW", "low・high・extra_high"),
        ("status", "closed", "active・pending_cancellation・locked"),
        ("switching_target", "yes", "true または false"),
        ("retailer_code", "Z9999", "登録されていません"),
        ("reading_schedule", "S99", "検針カレンダーにありません"),
        ("contract_no", "", "必須"),
        ("name_kana", "", "必須"),
        ("name_kanji", "", "必須"),
        ("address", "", "必須"),
        ("supply_point_id", "", "必須"),
        ("phone", "0" * 33, "32文字以内"),
        ("retailer_code", "A 1", "半角英数字"),
    ],
)
def test_bad_cells_name_their_column(column: str, value: str, fragment: str) -> None:
    checked = RULES.check(point_row(**{column: value}))
    assert checked.value is None
    assert fragment in reasons(checked)[column]
    assert all(e.line == 2 for e in checked.errors)


def test_every_bad_cell_of_a_row_is_reported() -> None:
    checked = RULES.check(point_row(kind="x", voltage="y", address=""))
    assert set(reasons(checked)) == {"kind", "voltage", "address"}


def test_building_and_phone_may_be_empty_and_booleans_ignore_case() -> None:
    checked = RULES.check(point_row(building="", phone="", switching_target="FALSE"))
    assert checked.value is not None
    assert checked.value.switching_target is False


def test_full_width_codes_are_folded() -> None:
    checked = RULES.check(point_row(retailer_code="Ａ０００１", reading_schedule="Ｓ０１"))
    assert checked.value is not None
    assert (checked.value.retailer_code, checked.value.reading_schedule) == ("A0001", "S01")


def test_retailer_rows() -> None:
    good = check_retailer(
        CsvRow(2, {"retailer_code": "A0001", "name": "関西でんき", "affiliated_area": "06"})
    )
    assert good.value is not None
    assert good.value.affiliated_area is Area.KANSAI
    new = check_retailer(CsvRow(3, {"retailer_code": "B1", "name": "みらい電力", "affiliated_area": ""}))
    assert new.value is not None
    assert not new.value.is_affiliated


@pytest.mark.parametrize("area", ["6", "11", "00", "関西"])
def test_affiliated_area_must_be_01_to_10_or_empty(area: str) -> None:
    checked = check_retailer(CsvRow(2, {"retailer_code": "A1", "name": "電力", "affiliated_area": area}))
    assert "01〜10" in reasons(checked)["affiliated_area"]


def test_retailer_name_is_required() -> None:
    checked = check_retailer(CsvRow(2, {"retailer_code": "A1", "name": "", "affiliated_area": ""}))
    assert "必須" in reasons(checked)["name"]


@pytest.mark.parametrize("value", ["2025/04/01", "20250401", "2025-4-1", "2025-02-30", "", "令和7年4月1日"])
def test_dates_must_be_yyyy_mm_dd(value: str) -> None:
    checked = check_reading_day(CsvRow(2, {"reading_schedule": "S01", "date": value}))
    assert "YYYY-MM-DD" in reasons(checked)["date"]


def test_a_good_calendar_row() -> None:
    checked = check_reading_day(CsvRow(2, {"reading_schedule": "S01", "date": "2025-04-08"}))
    assert checked.value is not None
    assert checked.value.date == dt.date(2025, 4, 8)


def test_duplicates_within_a_file_reject_the_later_row_and_name_the_first() -> None:
    checker = RowChecker(len(SUPPLY_POINT_COLUMNS), RULES.check, supply_point_key)
    first, second, third = checker.check(
        [point_row(2), point_row(3), point_row(4, supply_point_id="0600-0000-0000-0000-0000-01")]
    )
    assert first.value is not None
    assert second.value is None
    assert "2行目と重複" in reasons(second)["supply_point_id"]
    assert "2行目と重複" in reasons(third)["supply_point_id"]  # same id once canonicalised


def test_duplicates_are_found_across_chunks() -> None:
    checker = RowChecker(len(RETAILER_COLUMNS), check_retailer, retailer_key)
    row = {"retailer_code": "A1", "name": "電力", "affiliated_area": ""}
    checker.check([CsvRow(2, row)])
    (later,) = checker.check([CsvRow(9, {**row, "retailer_code": "Ａ1"})])
    assert "2行目と重複" in reasons(later)["retailer_code"]


def test_a_row_with_the_wrong_number_of_cells_is_rejected_whole() -> None:
    checker = RowChecker(len(CALENDAR_COLUMNS), check_reading_day, lambda _row: None)
    (checked,) = checker.check([CsvRow(5, {"__arity__": "3"})])
    assert checked.value is None
    assert checked.errors[0].line == 5
    assert "列の数が 3 個" in checked.errors[0].reason
