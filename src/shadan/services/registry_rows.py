"""Row checks for the three registry files (DESIGN §5.1): pure functions from CSV rows to domain values.

Each check collects every problem of a row (one RowError per column) rather than stopping at the first,
so a user fixes a file in one pass. Nothing here touches storage: what already exists in the database
(retailer codes, reading schedules) comes in as plain sets.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Generic, TypeVar

from shadan.domain.errors import InvalidInput
from shadan.domain.registry import (
    ReadingDay,
    Retailer,
    SupplyPoint,
    SupplyPointKind,
    SupplyPointStatus,
    Voltage,
)
from shadan.domain.supply_point_id import SupplyPointId, canonicalise
from shadan.domain.vocabulary import Area
from shadan.services.tabular import CsvRow, RowError, arity_error

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


class RegistryFile(StrEnum):
    """The three registry files, in the order they must be imported (each refers to the ones before)."""

    RETAILERS = "retailers"
    READING_CALENDAR = "reading_calendar"
    SUPPLY_POINTS = "supply_points"

    @property
    def label(self) -> str:
        return FILE_LABELS[self]


FILE_LABELS: dict[RegistryFile, str] = {
    RegistryFile.RETAILERS: "小売電気事業者",
    RegistryFile.READING_CALENDAR: "検針カレンダー",
    RegistryFile.SUPPLY_POINTS: "供給地点",
}
IMPORT_ORDER: tuple[RegistryFile, ...] = tuple(RegistryFile)

SUPPLY_POINT_COLUMNS: tuple[str, ...] = (
    "supply_point_id",
    "kind",
    "voltage",
    "retailer_code",
    "contract_no",
    "name_kana",
    "name_kanji",
    "address",
    "building",
    "phone",
    "status",
    "switching_target",
    "reading_schedule",
)
RETAILER_COLUMNS: tuple[str, ...] = ("retailer_code", "name", "affiliated_area")
CALENDAR_COLUMNS: tuple[str, ...] = ("reading_schedule", "date")
COLUMNS: dict[RegistryFile, tuple[str, ...]] = {
    RegistryFile.SUPPLY_POINTS: SUPPLY_POINT_COLUMNS,
    RegistryFile.RETAILERS: RETAILER_COLUMNS,
    RegistryFile.READING_CALENDAR: CALENDAR_COLUMNS,
}

# Longest accepted values: they mirror the column sizes of the store, so an over-long value is a row
# error here rather than a database error that would abort the whole file (an integration test pins this).
MAX_LENGTHS: dict[str, int] = {
    "retailer_code": 16,
    "reading_schedule": 16,
    "contract_no": 64,
    "name": 200,
    "name_kana": 200,
    "name_kanji": 200,
    "address": 400,
    "building": 200,
    "phone": 32,
}

# Codes are keys that other files and systems match exactly, so they are kept to a plain alphabet.
_CODE = re.compile(r"[0-9A-Za-z_\-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TRUE_FALSE = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class RowCheck(Generic[T]):
    """One row's outcome: the value when the row is good, else every problem found in it."""

    line: int
    value: T | None
    errors: tuple[RowError, ...]


@cache
def _members(enum: type[E]) -> dict[str, E]:
    # A dict lookup: calling the enum per cell is a measurable share of a 100,000-row import.
    return {member.value: member for member in enum}


class _Cells:
    """The cells of one row, read column by column while collecting errors."""

    def __init__(self, row: CsvRow) -> None:
        self.line = row.line
        self._values = row.values
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def rejected(self) -> RowCheck[Any]:
        return RowCheck(self.line, None, tuple(self.errors))

    def accepted(self, value: T) -> RowCheck[T]:
        return RowCheck(self.line, value, ())

    def text(self, column: str, *, required: bool = True) -> str:
        value = self._values.get(column, "")
        if required and not value:
            self.fail(column, "値がありません（必須項目です）。")
        limit = MAX_LENGTHS.get(column)
        if limit is not None and len(value) > limit:
            self.fail(column, f"{limit}文字以内で入力してください（{len(value)}文字あります）。")
        return value

    def code(self, column: str) -> str:
        """A retailer code or reading schedule: full-width input folded (NFKC), then a plain alphabet."""
        value = unicodedata.normalize("NFKC", self._values.get(column, "")).strip()
        if not value:
            self.fail(column, "値がありません（必須項目です）。")
        elif len(value) > MAX_LENGTHS[column]:
            self.fail(
                column, f"{MAX_LENGTHS[column]}文字以内で入力してください（{len(value)}文字あります）。"
            )
        elif not _CODE.fullmatch(value):
            self.fail(
                column, f"「{value}」は使えません。半角英数字・ハイフン・アンダースコアで入力してください。"
            )
        return value

    def choice(self, column: str, enum: type[E]) -> E | None:
        value = self._values.get(column, "")
        member = _members(enum).get(value)
        if member is None:
            allowed = "・".join(m.value for m in enum)
            self.fail(column, f"「{value}」は使えません。{allowed} のいずれかを入力してください。")
        return member

    def flag(self, column: str) -> bool | None:
        value = self._values.get(column, "")
        # Excel writes booleans as TRUE/FALSE, so the case is not significant.
        result = _TRUE_FALSE.get(value.lower())
        if result is None:
            self.fail(column, f"「{value}」は使えません。true または false を入力してください。")
        return result

    def date(self, column: str) -> dt.date | None:
        value = self._values.get(column, "")
        # fromisoformat alone would also take 20250401 and other ISO forms; the format is YYYY-MM-DD only.
        if _DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(
            column,
            f"「{value}」は日付として読めません。YYYY-MM-DD 形式（例: 2025-04-01）で入力してください。",
        )
        return None

    def supply_point_id(self, column: str) -> str:
        raw = self._values.get(column, "")
        if not raw:
            self.fail(column, "値がありません（必須項目です）。")
            return ""
        try:
            return SupplyPointId.parse(raw).value
        except InvalidInput as exc:
            self.fail(column, f"「{raw}」: {exc.message}")
            return ""

    def area(self, column: str) -> Area | None:
        value = self._values.get(column, "")
        if not value:
            return None
        try:
            return Area(value)
        except ValueError:
            self.fail(
                column, f"「{value}」は使えません。エリア番号01〜10の2桁で入力してください（新電力は空欄）。"
            )
            return None


def check_retailer(row: CsvRow) -> RowCheck[Retailer]:
    cells = _Cells(row)
    code = cells.code("retailer_code")
    name = cells.text("name")
    area = cells.area("affiliated_area")
    if cells.errors:
        return cells.rejected()
    return cells.accepted(Retailer(retailer_code=code, name=name, affiliated_area=area))


def check_reading_day(row: CsvRow) -> RowCheck[ReadingDay]:
    cells = _Cells(row)
    schedule = cells.code("reading_schedule")
    day = cells.date("date")
    if cells.errors or day is None:
        return cells.rejected()
    return cells.accepted(ReadingDay(reading_schedule=schedule, date=day))


@dataclass(frozen=True, slots=True)
class SupplyPointRules:
    """What a supply point row may refer to: retailers and reading schedules known to the database."""

    retailer_codes: frozenset[str]
    reading_schedules: frozenset[str]

    def check(self, row: CsvRow) -> RowCheck[SupplyPoint]:
        cells = _Cells(row)
        supply_point_id = cells.supply_point_id("supply_point_id")
        kind = cells.choice("kind", SupplyPointKind)
        voltage = cells.choice("voltage", Voltage)
        retailer_code = self._known(cells, "retailer_code", self.retailer_codes, _UNKNOWN_RETAILER)
        contract_no = cells.text("contract_no")
        name_kana = cells.text("name_kana")
        name_kanji = cells.text("name_kanji")
        address = cells.text("address")
        building = cells.text("building", required=False)
        phone = cells.text("phone", required=False)
        status = cells.choice("status", SupplyPointStatus)
        switching_target = cells.flag("switching_target")
        schedule = self._known(cells, "reading_schedule", self.reading_schedules, _UNKNOWN_SCHEDULE)
        if cells.errors or kind is None or voltage is None or status is None or switching_target is None:
            return cells.rejected()
        point = SupplyPoint(
            supply_point_id=supply_point_id,
            kind=kind,
            voltage=voltage,
            retailer_code=retailer_code,
            contract_no=contract_no,
            name_kana=name_kana,
            name_kanji=name_kanji,
            address=address,
            building=building,
            phone=phone,
            status=status,
            switching_target=switching_target,
            reading_schedule=schedule,
        )
        return cells.accepted(point)

    @staticmethod
    def _known(cells: _Cells, column: str, known: frozenset[str], message: str) -> str:
        errors_before = len(cells.errors)
        value = cells.code(column)
        if len(cells.errors) == errors_before and value not in known:
            cells.fail(column, message.format(value=value))
        return value


_UNKNOWN_RETAILER = (
    "小売電気事業者コード「{value}」は登録されていません（retailers.csv で先に登録してください）。"
)
_UNKNOWN_SCHEDULE = (
    "検針日程「{value}」は検針カレンダーにありません（reading_calendar.csv で先に登録してください）。"
)


# Duplicate detection: the key of a row as the database will see it (canonical id, folded codes).
def supply_point_key(row: CsvRow) -> tuple[str, str] | None:
    raw = row.values.get("supply_point_id", "")
    return ("supply_point_id", canonicalise(raw)) if raw else None


def retailer_key(row: CsvRow) -> tuple[str, str] | None:
    code = unicodedata.normalize("NFKC", row.values.get("retailer_code", "")).strip()
    return ("retailer_code", code) if code else None


def reading_day_key(row: CsvRow) -> tuple[str, str] | None:
    schedule = unicodedata.normalize("NFKC", row.values.get("reading_schedule", "")).strip()
    day = row.values.get("date", "")
    return ("date", f"{schedule}\x00{day}") if schedule and day else None


KeyOf = Callable[[CsvRow], tuple[str, str] | None]
"""A row's duplicate key: (the column to blame, the key value), or None when the key cell is empty."""


class RowChecker(Generic[T]):
    """Checks rows of one file in order: cell count, the row's own checks, duplicates within the file.

    It keeps the first line of every key it has seen, so a file may be checked chunk by chunk while
    duplicates are still found across the whole file. The later occurrence is the one rejected.
    """

    def __init__(self, columns: int, check: Callable[[CsvRow], RowCheck[T]], key_of: KeyOf) -> None:
        self._columns = columns
        self._check = check
        self._key_of = key_of
        self._first_line: dict[str, int] = {}

    def check(self, rows: Iterable[CsvRow]) -> list[RowCheck[T]]:
        return [self._check_one(row) for row in rows]

    def _check_one(self, row: CsvRow) -> RowCheck[T]:
        wrong_arity = arity_error(row, self._columns)
        if wrong_arity is not None:
            return RowCheck(row.line, None, (wrong_arity,))
        result = self._check(row)
        duplicate = self._duplicate(row)
        if duplicate is None:
            return result
        return RowCheck(row.line, None, (*result.errors, duplicate))

    def _duplicate(self, row: CsvRow) -> RowError | None:
        key = self._key_of(row)
        if key is None:
            return None
        column, value = key
        first = self._first_line.setdefault(value, row.line)
        if first == row.line:
            return None
        return RowError(row.line, column, f"{first}行目と重複しています（同じファイルに2回以上あります）。")
