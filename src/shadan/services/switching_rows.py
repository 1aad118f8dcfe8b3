"""廃止取次 rows (DESIGN §5.2) to `Application` values, or the reasons a row is `invalid`.

A row is invalid when it is malformed by itself: a required cell is empty, a date or timestamp does not
parse, or the supply point id is not 22 digits after canonicalising. Every problem of a row is reported
at once, each naming its column, so the applicant fixes the row in one go.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from shadan.domain.japan_time import JST
from shadan.domain.supply_point_id import canonicalise
from shadan.domain.switching import Application
from shadan.domain.switching_case import StartApplication
from shadan.services.tabular import RowError

APPLICATION_COLUMNS: tuple[str, ...] = (
    "application_id",
    "received_at",
    "supply_point_id",
    "current_retailer_code",
    "contract_no",
    "address",
    "building",
    "name_kana",
    "name_kanji",
    "cancel_date",
    "new_retailer_code",
    "new_retailer_staff",
    "new_retailer_phone",
)
# 開始申込: the new retailer's start of supply (docs/switching.md, "Start applications").
START_COLUMNS: tuple[str, ...] = (
    "application_id",
    "received_at",
    "supply_point_id",
    "new_retailer_code",
    "start_date",
    "new_retailer_staff",
    "new_retailer_phone",
)
RESULT_COLUMNS: tuple[str, ...] = ("application_id", "result", "error_code", "error_codes", "message")
# The seed's input form: only the building name is optional.
OPTIONAL_VALUES = frozenset({"building"})
# Names as the switching support system's form shows them, so an applicant finds the field.
COLUMN_LABELS: dict[str, str] = {
    "application_id": "申込番号",
    "received_at": "受付日時",
    "supply_point_id": "供給地点特定番号",
    "current_retailer_code": "現小売事業者",
    "contract_no": "旧小売電気事業者契約番号",
    "address": "住所",
    "building": "建物名",
    "name_kana": "需要者名カナ",
    "name_kanji": "需要者名漢字",
    "cancel_date": "廃止年月日",
    "start_date": "供給開始年月日",
    "new_retailer_code": "新小売事業者",
    "new_retailer_staff": "新小売事業者担当者名",
    "new_retailer_phone": "新小売事業者電話番号",
}
MAX_APPLICATION_ID = 64
_REQUIRED = tuple(c for c in APPLICATION_COLUMNS if c not in OPTIONAL_VALUES)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ISO 8601 date and time, seconds and fraction optional, offset optional (JST when absent).
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_DIGITS_22 = re.compile(r"[0-9]{22}")
_NO_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)
_NO_DATE = dt.date.min


@lru_cache(maxsize=1024)
def fold_code(raw: str) -> str:
    """Retailer codes as the registry stores them: full width folded (NFKC), trimmed. A file names few
    retailers, so the folding is cached."""
    return unicodedata.normalize("NFKC", raw).strip()


class _Cells:
    def __init__(self, line: int, values: Mapping[str, str]) -> None:
        self.line = line
        self._values = values
        self.errors: list[RowError] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def text(self, column: str) -> str:
        value = self._values.get(column, "")
        if not value and column not in OPTIONAL_VALUES:
            self.fail(column, "値がありません。必ず入力してください。")
        return value

    def application_id(self) -> str:
        value = self.text("application_id")
        if len(value) > MAX_APPLICATION_ID:
            self.fail("application_id", f"{MAX_APPLICATION_ID}文字以内で入力してください。")
        return value

    def timestamp(self, column: str) -> dt.datetime | None:
        value = self.text(column)
        if not value:
            return None
        parsed = _parse_timestamp(value)
        if parsed is None:
            self.fail(
                column,
                f"「{value}」は日時として読めません。"
                "YYYY-MM-DDTHH:MM:SS+09:00 の形式（例: 2025-04-01T10:30:00+09:00）で入力してください。",
            )
        return parsed

    def date(self, column: str) -> dt.date | None:
        value = self.text(column)
        if not value:
            return None
        parsed = _parse_date(value)
        if parsed is not None:
            return parsed
        self.fail(
            column,
            f"「{value}」は日付として読めません。YYYY-MM-DD の形式（例: 2025-04-15）で入力してください。",
        )
        return None

    def supply_point_id(self) -> str:
        value = self.text("supply_point_id")
        if not value:
            return ""
        canonical = value if _DIGITS_22.fullmatch(value) else canonicalise(value)
        if not _DIGITS_22.fullmatch(canonical):
            self.fail(
                "supply_point_id",
                f"「{value}」は22桁の数字ではありません。検針票等に記載の22桁の番号を入力してください"
                "（ハイフン・空白・全角数字は使えます）。",
            )
        return canonical

    def code(self, column: str) -> str:
        return fold_code(self.text(column))


def parse_application(line: int, values: Mapping[str, str]) -> Application | tuple[RowError, ...]:
    """The application, or every problem of the row."""
    return _well_formed(line, values) or _checked(line, values)


def _well_formed(line: int, v: Mapping[str, str]) -> Application | None:
    """The fast path for a row in canonical form (nearly all rows of a machine-made file); None sends
    the row through the cell-by-cell checks, which also say what is wrong."""
    if not all(map(v.get, _REQUIRED)) or len(v["application_id"]) > MAX_APPLICATION_ID:
        return None
    received_at, cancel_date = _parse_timestamp(v["received_at"]), _parse_date(v["cancel_date"])
    if received_at is None or cancel_date is None or not _DIGITS_22.fullmatch(v["supply_point_id"]):
        return None
    return Application(
        line,
        v["application_id"],
        received_at,
        v["supply_point_id"],
        fold_code(v["current_retailer_code"]),
        v["contract_no"],
        v["address"],
        v.get("building", ""),
        v["name_kana"],
        v["name_kanji"],
        cancel_date,
        fold_code(v["new_retailer_code"]),
        v["new_retailer_staff"],
        v["new_retailer_phone"],
    )


def _checked(line: int, values: Mapping[str, str]) -> Application | tuple[RowError, ...]:
    cells = _Cells(line, values)
    application = Application(
        line=line,
        application_id=cells.application_id(),
        received_at=cells.timestamp("received_at") or _NO_TIME,
        supply_point_id=cells.supply_point_id(),
        current_retailer_code=cells.code("current_retailer_code"),
        contract_no=cells.text("contract_no"),
        address=cells.text("address"),
        building=cells.text("building"),
        name_kana=cells.text("name_kana"),
        name_kanji=cells.text("name_kanji"),
        cancel_date=cells.date("cancel_date") or _NO_DATE,
        new_retailer_code=cells.code("new_retailer_code"),
        new_retailer_staff=cells.text("new_retailer_staff"),
        new_retailer_phone=cells.text("new_retailer_phone"),
    )
    # A missing or unreadable date is always an error, so the placeholders never leave this function.
    return tuple(cells.errors) if cells.errors else application


def parse_start(line: int, values: Mapping[str, str]) -> StartApplication | tuple[RowError, ...]:
    """The start application, or every problem of the row (every cell is required)."""
    cells = _Cells(line, values)
    application = StartApplication(
        line=line,
        application_id=cells.application_id(),
        received_at=cells.timestamp("received_at") or _NO_TIME,
        supply_point_id=cells.supply_point_id(),
        new_retailer_code=cells.code("new_retailer_code"),
        start_date=cells.date("start_date") or _NO_DATE,
        new_retailer_staff=cells.text("new_retailer_staff"),
        new_retailer_phone=cells.text("new_retailer_phone"),
    )
    return tuple(cells.errors) if cells.errors else application


def readable_timestamp(value: str) -> dt.datetime | None:
    """A cell's timestamp when it parses (kept with an invalid row for statistics), else None."""
    return _parse_timestamp(value)


@lru_cache(maxsize=4096)
def _parse_date(value: str) -> dt.date | None:
    """YYYY-MM-DD only; cached, as a file has few distinct cancel dates."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_timestamp(value: str) -> dt.datetime | None:
    if not _TIMESTAMP.fullmatch(value):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JST)


def invalid_message(errors: tuple[RowError, ...]) -> str:
    """Each problem as 「列名」(column): reason, so the applicant sees which field to fix."""
    return " ".join(_problem(e) for e in errors)


def _problem(error: RowError) -> str:
    if not error.column:
        return f"{error.line}行目: {error.reason}"
    return f"{COLUMN_LABELS[error.column]}（{error.column}）: {error.reason}"
