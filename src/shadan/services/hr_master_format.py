"""The HR master files of `shadan load` (人事マスタ): parsing and in-file checks, pure given bytes.

Two kinds of file, told apart by their header (docs/hr-master.md):
- companies: `company_id, name, kind, area, retailer_code` — one row per company;
- staff: `person_id, employee_no, name, company_id, department, valid_from, last_day, account_id,
  account_kind, roles, account_status` — one row per account of a person (a person without an account
  has one row with `account_id` empty; a person with a personal and a service account has two rows).
Every rejected row is reported with its line, column and reason; the checks that need the database
(does the company exist, is the id taken by someone else) are in hr_master.py.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from shadan.domain.errors import DomainError, InvalidInput
from shadan.domain.identity import AccountKind, AccountStatus, Company, Person
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.account_ids import refuse_if_shared, validate_account_id
from shadan.services.tabular import CsvFile, CsvRow, RowError, arity_error, read_csv

COMPANY_REQUIRED = ("company_id", "name", "kind")
COMPANY_OPTIONAL = ("area", "retailer_code")
STAFF_REQUIRED = ("person_id", "employee_no", "name", "company_id", "department", "valid_from")
STAFF_OPTIONAL = ("last_day", "account_id", "account_kind", "roles", "account_status")
ACCOUNT_COLUMNS = ("account_kind", "roles", "account_status")
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 200

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

T = TypeVar("T")


class FileKind(StrEnum):
    COMPANIES = "companies"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class CompanyRow:
    line: int
    company: Company


@dataclass(frozen=True, slots=True)
class AccountRow:
    line: int
    account_id: str
    kind: AccountKind
    roles: frozenset[str]
    status: AccountStatus


@dataclass(frozen=True, slots=True)
class StaffRow:
    line: int
    person: Person
    company_id: str
    department: str
    valid_from: dt.date
    last_day: dt.date | None
    account: AccountRow | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """All rows of one person, checked to agree with each other."""

    lines: tuple[int, ...]
    person: Person
    company_id: str
    department: str
    valid_from: dt.date
    last_day: dt.date | None
    accounts: tuple[AccountRow, ...]

    @property
    def valid_to(self) -> dt.date | None:
        """The domain's end date is exclusive; the file's `last_day` is the last working day."""
        return None if self.last_day is None else self.last_day + dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CompaniesFile:
    encoding: str
    rows: tuple[CompanyRow, ...]
    errors: tuple[RowError, ...]
    total_rows: int


@dataclass(frozen=True, slots=True)
class StaffFile:
    encoding: str
    records: tuple[PersonRecord, ...]
    errors: tuple[RowError, ...]
    total_rows: int


def detect_kind(data: bytes) -> FileKind:
    """Companies or staff, by the header (the staff file is the one with `person_id`)."""
    header_line = _first_line(data)
    columns = {c.strip().strip('"') for c in header_line.split(",")}
    if "person_id" in columns:
        return FileKind.STAFF
    if "kind" in columns and "company_id" in columns:
        return FileKind.COMPANIES
    raise InvalidInput(
        "1行目: 人事マスタの種類を判別できません（会社ファイルは company_id, name, kind、"
        "社員ファイルは person_id, employee_no, name, company_id, department, valid_from の列が必要です）。"
    )


def _first_line(data: bytes) -> str:
    """The header line only (column names are ASCII; what follows may be in either encoding)."""
    head = data.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf")
    return head.decode("ascii", errors="replace").strip()


# Companies.
def parse_companies(data: bytes) -> CompaniesFile:
    csv_file = read_csv(data, COMPANY_REQUIRED, COMPANY_OPTIONAL)
    rows: list[CompanyRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row in csv_file.rows:
        parsed = _checked(row, csv_file, errors, _company_row)
        if parsed is None:
            continue
        first = seen.setdefault(parsed.company.company_id, row.line)
        if first != row.line:
            errors.append(RowError(row.line, "company_id", f"{first}行目と同じ会社IDです。"))
            continue
        rows.append(parsed)
    return CompaniesFile(csv_file.encoding, tuple(rows), tuple(errors), len(csv_file.rows))


def _company_row(row: CsvRow) -> CompanyRow:
    v = row.values
    kind = _enum(CompanyKind, v["kind"], "kind")
    area = _enum(Area, v["area"], "area") if v.get("area") else None
    retailer_code = v.get("retailer_code") or None
    if kind is CompanyKind.TD and area is None:
        raise _Cell("area", "一般送配電事業者（td）にはエリア番号（01〜10）が必要です。")
    if kind.is_retail and retailer_code is None:
        raise _Cell("retailer_code", "小売電気事業者には小売電気事業者コードが必要です。")
    company = Company(_ident(v, "company_id"), _text(v, "name"), kind, area, retailer_code)
    return CompanyRow(row.line, company)


# Staff.
def parse_staff(data: bytes) -> StaffFile:
    csv_file = read_csv(data, STAFF_REQUIRED, STAFF_OPTIONAL)
    errors: list[RowError] = []
    rows = [r for r in (_checked(row, csv_file, errors, _staff_row) for row in csv_file.rows) if r]
    rows = _drop_conflicts(rows, errors)
    records = tuple(_record(group) for group in _by_person(rows).values())
    return StaffFile(csv_file.encoding, records, tuple(sorted(errors, key=_order)), len(csv_file.rows))


def _staff_row(row: CsvRow) -> StaffRow:
    v = row.values
    person = Person(_ident(v, "person_id"), _ident(v, "employee_no"), _text(v, "name"))
    valid_from = _date(v, "valid_from")
    last_day = _date(v, "last_day") if v.get("last_day") else None
    if last_day is not None and last_day < valid_from:
        raise _Cell("last_day", "最終勤務日が所属開始日より前です。")
    return StaffRow(
        line=row.line,
        person=person,
        company_id=_ident(v, "company_id"),
        department=_text(v, "department"),
        valid_from=valid_from,
        last_day=last_day,
        account=_account_row(row),
    )


def _account_row(row: CsvRow) -> AccountRow | None:
    v = row.values
    if not v.get("account_id"):
        stray = next((c for c in ACCOUNT_COLUMNS if v.get(c)), None)
        if stray is not None:
            raise _Cell(stray, "account_id が空の行にはアカウントの項目を書けません。")
        return None
    kind = _enum(AccountKind, v.get("account_kind") or AccountKind.PERSONAL, "account_kind")
    if kind is AccountKind.EMERGENCY:
        raise _Cell(
            "account_kind", "非常災害用アカウントは人事マスタでは作成できません（非常災害の宣言から発行）。"
        )
    try:
        account_id = validate_account_id(v["account_id"])
        refuse_if_shared(account_id, kind)
    except DomainError as exc:
        raise _Cell("account_id", exc.message) from exc
    status = _enum(AccountStatus, v.get("account_status") or AccountStatus.ACTIVE, "account_status")
    roles = frozenset(unicodedata.normalize("NFKC", v.get("roles", "")).replace(";", " ").split())
    return AccountRow(row.line, account_id, kind, roles, status)


def _drop_conflicts(rows: list[StaffRow], errors: list[RowError]) -> list[StaffRow]:
    """Cross-row checks; a person with any bad row is dropped whole, so no person is half-loaded."""
    bad_lines = _shared_ids(rows, errors) | _duplicate_employee_numbers(rows, errors)
    bad_lines |= _disagreements(rows, errors) | _personal_account_count(rows, errors)
    bad_persons = {r.person.person_id for r in rows if r.line in bad_lines}
    for row in rows:
        if row.person.person_id in bad_persons and row.line not in bad_lines:
            errors.append(
                RowError(
                    row.line, "person_id", "同じ人の別の行に誤りがあるため、この人の行は読み込みません。"
                )
            )
    return [r for r in rows if r.person.person_id not in bad_persons]


def _shared_ids(rows: list[StaffRow], errors: list[RowError]) -> set[int]:
    """One account id claimed for two persons is a shared ID: every row claiming it is rejected."""
    owners: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.account:
            owners[row.account.account_id].add(row.person.person_id)
    bad: set[int] = set()
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row.account is None:
            continue
        account_id = row.account.account_id
        if len(owners[account_id]) > 1:
            persons = "、".join(sorted(owners[account_id]))
            errors.append(
                RowError(
                    row.line,
                    "account_id",
                    f"アカウントID {account_id} が複数の人（{persons}）に割り当てられています（共用ID）。",
                )
            )
            bad.add(row.line)
            continue
        first = seen.setdefault((row.person.person_id, account_id), row.line)
        if first != row.line:
            errors.append(RowError(row.line, "account_id", f"{first}行目と同じアカウントです。"))
            bad.add(row.line)
    return bad


def _duplicate_employee_numbers(rows: list[StaffRow], errors: list[RowError]) -> set[int]:
    persons: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        persons[row.person.employee_no].add(row.person.person_id)
    bad = {r.line for r in rows if len(persons[r.person.employee_no]) > 1}
    for line in sorted(bad):
        errors.append(RowError(line, "employee_no", "同じ社員番号が別の person_id に使われています。"))
    return bad


def _disagreements(rows: list[StaffRow], errors: list[RowError]) -> set[int]:
    """Rows of one person must agree on the person and the assignment."""
    first: dict[str, StaffRow] = {}
    bad: set[int] = set()
    for row in rows:
        earlier = first.setdefault(row.person.person_id, row)
        column = _first_difference(earlier, row)
        if column is not None:
            errors.append(RowError(row.line, column, f"同じ人の{earlier.line}行目と内容が違います。"))
            bad.add(row.line)
    return bad


def _first_difference(a: StaffRow, b: StaffRow) -> str | None:
    pairs = (
        ("employee_no", a.person.employee_no, b.person.employee_no),
        ("name", a.person.name, b.person.name),
        ("company_id", a.company_id, b.company_id),
        ("department", a.department, b.department),
        ("valid_from", a.valid_from, b.valid_from),
        ("last_day", a.last_day, b.last_day),
    )
    return next((column for column, x, y in pairs if x != y), None)


def _personal_account_count(rows: list[StaffRow], errors: list[RowError]) -> set[int]:
    personal: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.account and row.account.kind is AccountKind.PERSONAL:
            personal[row.person.person_id].append(row.line)
    bad: set[int] = set()
    for lines in personal.values():
        for line in lines[1:]:
            errors.append(RowError(line, "account_id", "個人アカウントは1人に1つです。"))
            bad.add(line)
    return bad


def _by_person(rows: Iterable[StaffRow]) -> dict[str, list[StaffRow]]:
    groups: dict[str, list[StaffRow]] = defaultdict(list)
    for row in rows:
        groups[row.person.person_id].append(row)
    return dict(groups)


def _record(rows: list[StaffRow]) -> PersonRecord:
    head = rows[0]
    return PersonRecord(
        lines=tuple(r.line for r in rows),
        person=head.person,
        company_id=head.company_id,
        department=head.department,
        valid_from=head.valid_from,
        last_day=head.last_day,
        accounts=tuple(r.account for r in rows if r.account is not None),
    )


# Cells.
class _Cell(Exception):
    """A bad cell: the column and the reason, turned into a RowError by `_checked`."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _checked(
    row: CsvRow, csv_file: CsvFile, errors: list[RowError], parse: Callable[[CsvRow], T]
) -> T | None:
    arity = arity_error(row, len(csv_file.header))
    if arity is not None:
        errors.append(arity)
        return None
    try:
        return parse(row)
    except _Cell as cell:
        errors.append(RowError(row.line, cell.column, cell.reason))
        return None


def _required(values: dict[str, str], column: str) -> str:
    value = unicodedata.normalize("NFKC", values.get(column, "")).strip()
    if not value:
        raise _Cell(column, "必須の項目が空です。")
    return value


def _ident(values: dict[str, str], column: str) -> str:
    value = _required(values, column)
    if len(value) > MAX_ID_LENGTH or any(c.isspace() for c in value):
        raise _Cell(column, f"{MAX_ID_LENGTH}文字以内で、空白を含まない値にしてください。")
    return value


def _text(values: dict[str, str], column: str) -> str:
    value = _required(values, column)
    if len(value) > MAX_TEXT_LENGTH:
        raise _Cell(column, f"{MAX_TEXT_LENGTH}文字以内にしてください。")
    return value


def _date(values: dict[str, str], column: str) -> dt.date:
    raw = _required(values, column)
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise _Cell(column, f"日付は YYYY-MM-DD 形式で入力してください（値: {raw[:20]}）。") from None


E = TypeVar("E", bound=StrEnum)


def _enum(enum: type[E], raw: str, column: str) -> E:
    try:
        return enum(raw.strip().lower())
    except ValueError:
        allowed = " / ".join(m.value for m in enum)
        raise _Cell(column, f"値「{raw[:20]}」は使えません（{allowed} のいずれか）。") from None


def _order(error: RowError) -> tuple[int, str]:
    return error.line, error.column
