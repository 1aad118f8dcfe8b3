"""Downloads: CSV in both encodings and Excel carry the same table; formulas never run."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from shadan.services.exports import ExportFormat, ExportTable, export

TABLE = ExportTable(
    title="アクセスログ/検索",
    headers=("日時", "利用者", "件数", "許可"),
    rows=[
        (dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC), '=HYPERLINK("x")', -3, True),
        (dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC), "髙橋", 2, False),
    ],
)


def test_csv_is_utf8_with_bom_in_jst_and_defuses_formulas() -> None:
    text = export(TABLE, ExportFormat.CSV).decode("utf-8")
    assert text.startswith("\ufeff日時,利用者,件数,許可\r\n")
    assert '2026-04-01 09:30:00,"\'=HYPERLINK(""x"")",-3,はい' in text
    assert "髙橋" in text


def test_cp932_csv_replaces_what_shift_jis_lacks() -> None:
    data = export(TABLE, ExportFormat.CSV_CP932)
    text = data.decode("cp932")
    assert text.startswith("日時,利用者")
    assert "髙橋" in text  # IBM extension character, present in CP932


def test_xlsx_has_the_same_rows_with_naive_jst_times() -> None:
    book = load_workbook(io.BytesIO(export(TABLE, ExportFormat.XLSX)))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "アクセスログ_検索"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("日時", "利用者", "件数", "許可")
    assert rows[1] == (dt.datetime(2026, 4, 1, 9, 30), '\'=HYPERLINK("x")', -3, "はい")


@pytest.mark.parametrize(
    "sign", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫"]
)
def test_every_form_of_a_formula_sign_is_defused(sign: str) -> None:
    table = ExportTable("t", ("値",), [(f"{sign}1+1",), ("１＝１",), ("通常",)])
    for fmt, encoding in ((ExportFormat.CSV, "utf-8-sig"), (ExportFormat.CSV_CP932, "cp932")):
        cells = [row[0] for row in csv.reader(io.StringIO(export(table, fmt).decode(encoding), newline=""))]
        # Shift_JIS has no small forms: they become "?", behind the apostrophe all the same.
        defused = f"'{sign}1+1".encode(encoding, errors="replace").decode(encoding)
        assert cells[1:] == [defused, "１＝１", "通常"], fmt
    sheet = load_workbook(io.BytesIO(export(table, ExportFormat.XLSX))).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows(values_only=True)]
    # XML reads a carriage return back as a line feed.
    assert cells[1:] == [f"'{sign}1+1".replace("\r", "\n"), "１＝１", "通常"]


def test_control_characters_an_excel_cell_cannot_hold_are_shown_as_their_pictures() -> None:
    table = ExportTable(title="t", headers=("ID",), rows=[("a\x00b\x01c\x1fd\te",), ("\x01=1+1",)])
    sheet = load_workbook(io.BytesIO(export(table, ExportFormat.XLSX))).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)][1:] == ["a\u2400b\u2401c\u241fd\te", "␁=1+1"]
    assert "a\x00b\x01c" in export(table, ExportFormat.CSV).decode("utf-8-sig")  # CSV keeps them
