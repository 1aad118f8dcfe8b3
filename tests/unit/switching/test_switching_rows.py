"""Application rows (DESIGN §5.2): well-formed rows become Applications; malformed ones name every field."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.japan_time import JST
from shadan.domain.switching import Application
from shadan.services.switching_rows import (
    APPLICATION_COLUMNS,
    COLUMN_LABELS,
    START_COLUMNS,
    invalid_message,
    parse_application,
)
from shadan.services.tabular import RowError

GOOD = {
    "application_id": "AP1",
    "received_at": "2025-04-01T10:00:00+09:00",
    "supply_point_id": "0600000000000000000001",
    "current_retailer_code": "A0001",
    "contract_no": "K-0001",
    "address": "大阪市北区梅田1-2-3",
    "building": "",
    "name_kana": "タカハシ イチロウ",
    "name_kanji": "髙橋 一郎",
    "cancel_date": "2025-04-20",
    "new_retailer_code": "B0002",
    "new_retailer_staff": "佐藤",
    "new_retailer_phone": "03-0000-0000",
}


def parse(**changes: str) -> Application | tuple[RowError, ...]:
    return parse_application(7, {**GOOD, **changes})


def test_every_column_has_a_label() -> None:
    assert set(COLUMN_LABELS) == set(APPLICATION_COLUMNS) | set(START_COLUMNS)


def test_a_good_row() -> None:
    app = parse()
    assert isinstance(app, Application)
    assert app.line == 7
    assert app.received_at == dt.datetime(2025, 4, 1, 10, tzinfo=JST)
    assert app.cancel_date == dt.date(2025, 4, 20)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("06-0000-0000-0000-0000-0001", "0600000000000000000001"),
        ("０６" + "０" * 19 + "１", "0600000000000000000001"),
        ("0600 0000 0000 0000 0000 01", "0600000000000000000001"),
        ("0600ー0000ー0000ー0000ー000001", "0600000000000000000001"),
    ],
)
def test_supply_point_ids_are_canonicalised(raw: str, canonical: str) -> None:
    app = parse(supply_point_id=raw)
    assert isinstance(app, Application)
    assert app.supply_point_id == canonical


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-04-01T10:00:00", dt.datetime(2025, 4, 1, 10, tzinfo=JST)),  # no offset: JST
        ("2025-04-01 10:00", dt.datetime(2025, 4, 1, 10, tzinfo=JST)),
        ("2025-04-01T01:00:00Z", dt.datetime(2025, 4, 1, 1, tzinfo=dt.UTC)),
        ("2025-04-01T10:00:00.123+09:00", dt.datetime(2025, 4, 1, 10, 0, 0, 123000, tzinfo=JST)),
        ("2025-04-01T10:00:00+0900", dt.datetime(2025, 4, 1, 10, tzinfo=JST)),
    ],
)
def test_timestamps(raw: str, expected: dt.datetime) -> None:
    app = parse(received_at=raw)
    assert isinstance(app, Application)
    assert app.received_at == expected
    assert app.received_at.tzinfo is not None


def test_codes_are_folded_like_registry_codes() -> None:
    app = parse(current_retailer_code=" Ａ０００１ ", new_retailer_code="Ｂ0002")
    assert isinstance(app, Application)
    assert (app.current_retailer_code, app.new_retailer_code) == ("A0001", "B0002")


def test_building_is_optional() -> None:
    assert isinstance(parse(building=""), Application)


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("application_id", "", "値がありません"),
        ("application_id", "A" * 65, "64文字以内"),
        ("received_at", "", "値がありません"),
        ("received_at", "2025/04/01 10:00", "日時として読めません"),
        ("received_at", "2025-04-01", "日時として読めません"),
        ("received_at", "2025-02-30T10:00:00", "日時として読めません"),
        ("supply_point_id", "", "値がありません"),
        ("supply_point_id", "06-0000-0000", "22桁の数字ではありません"),
        ("supply_point_id", "0600000000000000000001X", "22桁の数字ではありません"),
        ("supply_point_id", "06000000000000000000011", "22桁の数字ではありません"),
        ("current_retailer_code", "", "値がありません"),
        ("contract_no", "", "値がありません"),
        ("address", "", "値がありません"),
        ("name_kana", "", "値がありません"),
        ("name_kanji", "", "値がありません"),
        ("cancel_date", "", "値がありません"),
        ("cancel_date", "2025/04/20", "日付として読めません"),
        ("cancel_date", "2025-4-20", "日付として読めません"),
        ("cancel_date", "2025-02-29", "日付として読めません"),
        ("new_retailer_code", "", "値がありません"),
        ("new_retailer_staff", "", "値がありません"),
        ("new_retailer_phone", "", "値がありません"),
    ],
)
def test_malformed_fields_are_named(column: str, value: str, fragment: str) -> None:
    errors = parse(**{column: value})
    assert isinstance(errors, tuple)
    assert [(e.line, e.column) for e in errors] == [(7, column)]
    assert fragment in errors[0].reason
    message = invalid_message(errors)
    assert f"{COLUMN_LABELS[column]}（{column}）" in message


def test_every_problem_of_a_row_at_once() -> None:
    errors = parse(received_at="yesterday", supply_point_id="123", name_kana="", cancel_date="tomorrow")
    assert isinstance(errors, tuple)
    assert [e.column for e in errors] == ["received_at", "supply_point_id", "name_kana", "cancel_date"]


def test_a_message_without_a_column_names_the_line() -> None:
    assert invalid_message((RowError(9, "", "列の数が 3 個です（ヘッダーは 13 列）。"),)).startswith(
        "9行目: "
    )
