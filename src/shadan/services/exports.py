"""Tables for people to download: CSV (UTF-8 with BOM, or CP932) and Excel (.xlsx), one code path.

Every page that offers a download builds an `ExportTable` and calls `export`; the format is the user's
choice. Times are written in JST (people read Japan time; Excel has no time zones). A cell that a
spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) is written with a leading
apostrophe: exported log and application fields are typed by outsiders (CSV injection, OWASP). The
full-width and small forms of those signs (＝ ＋ － ＠, ﹦ ﹢ ﹣ ﹫: the same sign under NFKC) count too:
Japanese users type them with the IME on, and a Japanese spreadsheet may take a formula so typed.
Control characters that an Excel cell cannot hold (a logged id or term may carry one; CSV keeps them) are
written in Excel as their visible Unicode control pictures (U+0001 as ␁).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.japan_time import in_japan

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | dt.datetime | dt.date | None


class ExportFormat(StrEnum):
    CSV = "csv"  # UTF-8 with BOM: Excel recognises UTF-8 only with it
    CSV_CP932 = "csv-cp932"  # Shift_JIS as older Excel and many operators' tools expect
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def suffix(self) -> str:
        return ".xlsx" if self is ExportFormat.XLSX else ".csv"

    @property
    def label(self) -> str:
        return _LABELS[self]


_MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.CSV_CP932: "text/csv; charset=shift_jis",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_LABELS = {
    ExportFormat.CSV: "CSV（UTF-8）",
    ExportFormat.CSV_CP932: "CSV（Shift_JIS）",
    ExportFormat.XLSX: "Excel",
}


@dataclass(frozen=True, slots=True)
class ExportTable:
    title: str  # the sheet name in Excel (at most 31 characters are kept)
    headers: tuple[str, ...]
    rows: Iterable[Sequence[Cell]]


def export(table: ExportTable, fmt: ExportFormat) -> bytes:
    if fmt is ExportFormat.XLSX:
        return _xlsx(table)
    encoding = "utf-8-sig" if fmt is ExportFormat.CSV else "cp932"
    return _csv(table).encode(encoding, errors="replace")


def _csv(table: ExportTable) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows([_text(value) for value in row] for row in table.rows)
    return out.getvalue()


def _xlsx(table: ExportTable) -> bytes:
    # openpyxl (0.15 s to import) only when a workbook is written: the CLI's commands list this module's
    # formats at start.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(table.title))
    bold = Font(bold=True)
    header = []
    for name in table.headers:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append([_excel_value(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.datetime):
        return in_japan(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return _defused(value)


def _excel_value(value: Cell) -> str | int | float | dt.datetime | dt.date | None:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.datetime):
        return in_japan(value).replace(tzinfo=None)
    if isinstance(value, str):
        return _defused(_EXCEL_ILLEGAL.sub(_control_picture, value))
    return value


# The characters openpyxl refuses in a cell (XML 1.0 cannot hold them): C0 controls but tab, LF and CR.
_EXCEL_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control_picture(match: re.Match[str]) -> str:
    return chr(0x2400 + ord(match.group()))


def _defused(text: str) -> str:
    starts_formula = unicodedata.normalize("NFKC", text[:1]).startswith(_FORMULA_STARTS)
    return "'" + text if starts_formula else text


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in title)
    return cleaned[:31] or "Sheet1"
