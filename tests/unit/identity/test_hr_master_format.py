"""HR master parsing and in-file checks (pure: bytes in, records and row errors out)."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.errors import InvalidInput
from shadan.domain.identity import AccountKind, AccountStatus
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.hr_master_format import FileKind, detect_kind, parse_companies, parse_staff

STAFF_HEADER = (
    "person_id,employee_no,name,company_id,department,valid_from,last_day,"
    "account_id,account_kind,roles,account_status\n"
)


def staff(*rows: str) -> bytes:
    return (STAFF_HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


def test_file_kind_is_told_by_the_header() -> None:
    assert detect_kind(b"company_id,name,kind\n") is FileKind.COMPANIES
    assert (
        detect_kind("\ufeffperson_id,employee_no,name,company_id,department,valid_from\n".encode())
        is FileKind.STAFF
    )
    with pytest.raises(InvalidInput, match="判別できません"):
        detect_kind(b"foo,bar\n")


def test_companies_parse_with_kind_area_and_retailer_code() -> None:
    data = (
        "company_id,name,kind,area,retailer_code\n"
        "td06,関西電力送配電株式会社,td,06,\n"
        "aff06,関西電力株式会社,affiliated_retail,06,A0601\n"
        "new01,さくら新電力,retail,,R1001\n"
    ).encode("cp932")
    parsed = parse_companies(data)
    assert parsed.errors == ()
    assert parsed.encoding == "cp932"
    kinds = {r.company.company_id: (r.company.kind, r.company.area) for r in parsed.rows}
    assert kinds == {
        "td06": (CompanyKind.TD, Area.KANSAI),
        "aff06": (CompanyKind.AFFILIATED_RETAIL, Area.KANSAI),
        "new01": (CompanyKind.RETAIL, None),
    }


def test_bad_company_rows_are_reported_with_line_and_column() -> None:
    data = (
        "company_id,name,kind,area,retailer_code\n"
        "td06,関西電力送配電,td,,\n"
        "x1,某社,bank,,\n"
        "new01,さくら新電力,retail,,\n"
        "td07,中国電力ネットワーク,td,11,\n"
        "td07b,重複,td,07,\n"
        "td07b,重複,td,07,\n"
    ).encode()
    errors = {(e.line, e.column) for e in parse_companies(data).errors}
    assert errors == {(2, "area"), (3, "kind"), (4, "retailer_code"), (5, "area"), (7, "company_id")}


def test_staff_rows_group_into_one_record_per_person() -> None:
    parsed = parse_staff(
        staff(
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,t.yamada,personal,wheeling_clerk,",
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,svc-yamada-batch,service,,",
            "p2,E002,佐藤 花子,td06,配電部,2023-10-01,2025-03-31,,,,",
        )
    )
    assert parsed.errors == ()
    first, second = parsed.records
    assert first.lines == (2, 3)
    assert [(a.account_id, a.kind) for a in first.accounts] == [
        ("t.yamada", AccountKind.PERSONAL),
        ("svc-yamada-batch", AccountKind.SERVICE),
    ]
    assert first.accounts[0].roles == frozenset({"wheeling_clerk"})
    assert first.accounts[0].status is AccountStatus.ACTIVE
    assert second.accounts == ()
    assert second.valid_to == dt.date(2025, 4, 1)  # last_day is inclusive, the domain's end is not


def test_one_account_id_for_two_persons_is_a_shared_id_on_every_row() -> None:
    parsed = parse_staff(
        staff(
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,t.yamada,,wheeling_clerk,",
            "p2,E002,佐藤 花子,td06,託送業務部,2024-04-01,,t.yamada,,wheeling_clerk,",
            "p3,E003,鈴木 一郎,td06,託送業務部,2024-04-01,,i.suzuki,,wheeling_clerk,",
        )
    )
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "account_id"), (3, "account_id")]
    assert all("共用ID" in e.reason for e in parsed.errors)
    assert [r.person.person_id for r in parsed.records] == ["p3"]


def test_ids_that_look_shared_are_refused_at_import() -> None:
    parsed = parse_staff(staff("p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,kyotsu01,,,"))
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "account_id")]
    assert "共用ID" in parsed.errors[0].reason
    assert parsed.records == ()


def test_a_bad_row_drops_every_row_of_that_person() -> None:
    parsed = parse_staff(
        staff(
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,t.yamada,,,",
            "p1,E001,山田 太郎,td06,配電部,2024-04-01,,svc-yamada,service,,",
        )
    )
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "person_id"), (3, "department")]
    assert parsed.records == ()


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (",E001,山田,td06,部,2024-04-01,,,,,", "person_id"),
        ("p1,E001,山田,td06,部,2024/04/01,,,,,", "valid_from"),
        ("p1,E001,山田,td06,部,2024-04-01,2024-03-31,,,,", "last_day"),
        ("p1,E001,山田,td06,部,2024-04-01,,t.yamada,robot,,", "account_kind"),
        ("p1,E001,山田,td06,部,2024-04-01,,t.yamada,emergency,,", "account_kind"),
        ("p1,E001,山田,td06,部,2024-04-01,,t.yamada,,,locked", "account_status"),
        ("p1,E001,山田,td06,部,2024-04-01,,,,wheeling_clerk,", "roles"),
        ("p1,E 001,山田,td06,部,2024-04-01,,,,,", "employee_no"),
        ("p1,E001,山田,td06,部,2024-04-01,,x,,,", "account_id"),
    ],
)
def test_each_bad_cell_is_reported_with_its_column(row: str, column: str) -> None:
    parsed = parse_staff(staff(row))
    assert [(e.line, e.column) for e in parsed.errors] == [(2, column)]


def test_a_row_with_the_wrong_number_of_cells_is_rejected_whole() -> None:
    parsed = parse_staff(staff("p1,E001,山田"))
    assert parsed.errors[0].line == 2
    assert "列の数" in parsed.errors[0].reason


def test_two_personal_accounts_for_one_person_are_refused() -> None:
    parsed = parse_staff(
        staff(
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,t.yamada,,,",
            "p1,E001,山田 太郎,td06,託送業務部,2024-04-01,,taro.yamada,,,",
        )
    )
    assert (3, "account_id") in {(e.line, e.column) for e in parsed.errors}
    assert parsed.records == ()


def test_unknown_and_missing_columns_are_header_errors() -> None:
    with pytest.raises(InvalidInput, match="不明な列"):
        parse_staff((STAFF_HEADER.strip() + ",password\n").encode())
    with pytest.raises(InvalidInput, match="必須の列"):
        parse_staff(b"person_id,employee_no,name\n")
