"""Reading registry CSV files: encodings detected, strict headers, line numbers that match the editor."""

from __future__ import annotations

import pytest

from shadan.domain.errors import InvalidInput
from shadan.services.tabular import UTF8_BOM, CsvFormatError, read_csv

COLUMNS = ("retailer_code", "name", "affiliated_area")
TEXT = "retailer_code,name,affiliated_area\r\nA0001,関西でんき株式会社,06\r\nB0002,みらい電力,\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (UTF8_BOM + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("cp932"), "cp932"),
    ],
)
def test_encodings_are_detected_and_decoded_alike(data: bytes, encoding: str) -> None:
    parsed = read_csv(data, COLUMNS)
    assert parsed.encoding == encoding
    assert parsed.header == COLUMNS
    assert [r.values["name"] for r in parsed.rows] == ["関西でんき株式会社", "みらい電力"]


def test_cp932_only_characters_are_read() -> None:
    # ① and ㈱ exist in CP932 (Windows) but not in plain Shift_JIS: Excel files use them.
    data = "retailer_code,name,affiliated_area\nA0001,㈱第①電力,\n".encode("cp932")
    assert read_csv(data, COLUMNS).rows[0].values["name"] == "㈱第①電力"


def test_bytes_that_are_neither_utf8_nor_cp932_are_refused_with_their_line() -> None:
    data = b"retailer_code,name,affiliated_area\nA0001,\x85\x40,\n"  # invalid in both
    with pytest.raises(CsvFormatError) as caught:
        read_csv(data, COLUMNS)
    assert caught.value.errors[0].line == 2
    assert "文字コード" in caught.value.errors[0].reason


def test_column_order_is_free() -> None:
    data = "name,affiliated_area,retailer_code\n電力,,A1\n".encode()
    assert read_csv(data, COLUMNS).rows[0].values == {
        "name": "電力",
        "affiliated_area": "",
        "retailer_code": "A1",
    }


@pytest.mark.parametrize(
    ("header", "column", "reason"),
    [
        ("retailer_code,name,affiliated_area,extra", "extra", "不明な列"),
        ("retailer_code,name", "affiliated_area", "必須の列"),
        ("retailer_code,name,name,affiliated_area", "name", "重複"),
        ("retailer_code,name,affiliated_area,", "", "列名が空"),
    ],
)
def test_header_problems_name_the_column(header: str, column: str, reason: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        read_csv(f"{header}\n".encode(), COLUMNS)
    assert any(e.line == 1 and e.column == column and reason in e.reason for e in caught.value.errors)
    assert isinstance(caught.value, InvalidInput)  # callers that only know InvalidInput still catch it


def test_every_header_problem_is_reported_at_once() -> None:
    with pytest.raises(CsvFormatError) as caught:
        read_csv(b"retailer_code,foo,bar\n", COLUMNS)
    assert {e.column for e in caught.value.errors} == {"foo", "bar", "name", "affiliated_area"}


def test_empty_file_is_refused() -> None:
    with pytest.raises(CsvFormatError, match="空"):
        read_csv(b"", COLUMNS)


def test_line_numbers_count_physical_lines_and_skip_blank_lines() -> None:
    data = 'retailer_code,name,affiliated_area\n\nA1,"二行に\nわたる名前",\nA2,電力,\n'.encode()
    rows = read_csv(data, COLUMNS).rows
    assert [r.line for r in rows] == [3, 5]
    assert rows[0].values["name"] == "二行に\nわたる名前"


def test_unterminated_quote_is_a_file_error() -> None:
    with pytest.raises(CsvFormatError):
        read_csv(b'retailer_code,name,affiliated_area\nA1,"open,\n', COLUMNS)
