"""`shadan load`: provision companies, persons, employment, accounts and roles from the HR master.

A file is checked whole before anything is written; it is then applied in one transaction, or not at all
(with `skip_invalid`, the persons and companies without errors are applied and the rest reported).
Loading the same file twice changes nothing: each row is compared with what is stored and only
differences are written, each difference with its access event. A load never sets passwords (the HR
master must not carry them): accounts it creates are issued credentials with `shadan account`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shadan.domain.events import AccessEvent
from shadan.domain.identity import Account, AccountKind, AccountStatus, Company, Employment
from shadan.domain.japan_time import local_day
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import AuditTag, Outcome, ResourceType
from shadan.services.clock import Clock, utc_now
from shadan.services.hr_master_format import (
    AccountRow,
    CompaniesFile,
    CompanyRow,
    FileKind,
    PersonRecord,
    StaffFile,
    detect_kind,
    parse_companies,
    parse_staff,
)
from shadan.services.identity import IDENTITY_REALM, Actor, EventFactory, role_fits
from shadan.services.ports import UnitOfWork, UnitOfWorkFactory
from shadan.services.tabular import RowError
from shadan.services.transfers import TransferOrder, Transferrer, role_change_events

# Not yet members of ResourceType (owned elsewhere): plain strings until they are.
COMPANY_RESOURCE = "company"
HR_MASTER_RESOURCE = "hr_master"


class Change(StrEnum):
    """The count names of a load's result."""

    COMPANIES_CREATED = "companies_created"
    COMPANIES_UPDATED = "companies_updated"
    PERSONS_CREATED = "persons_created"
    PERSONS_UPDATED = "persons_updated"
    EMPLOYMENTS_ADDED = "employments_added"
    TRANSFERS = "transfers"
    EMPLOYMENTS_ENDED = "employments_ended"
    ACCOUNTS_CREATED = "accounts_created"
    ACCOUNTS_UPDATED = "accounts_updated"
    SESSIONS_REVOKED = "sessions_revoked"


@dataclass(frozen=True, slots=True)
class LoadResult:
    kind: FileKind
    encoding: str
    rows: int
    committed: bool
    counts: dict[str, int]
    errors: tuple[RowError, ...]

    @property
    def rejected_rows(self) -> int:
        return len({e.line for e in self.errors})

    @property
    def changed(self) -> int:
        return sum(v for k, v in self.counts.items() if k != Change.SESSIONS_REVOKED)


class _Employment(StrEnum):
    UNCHANGED = "unchanged"
    NEW = "new"
    TRANSFER = "transfer"
    END = "end"


class HrMasterService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: RoleCatalog,
        system_name: str,
        clock: Clock = utc_now,
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._clock = clock
        self._events = EventFactory(system_name)
        self._transferrer = Transferrer(catalog, self._events)

    def load(self, data: bytes, actor: Actor, skip_invalid: bool = False) -> LoadResult:
        """Load one file (companies or staff, told by its header). Header errors raise InvalidInput."""
        if detect_kind(data) is FileKind.COMPANIES:
            return self._load_companies(parse_companies(data), data, actor, skip_invalid)
        return self._load_staff(parse_staff(data), data, actor, skip_invalid)

    # Companies.
    def _load_companies(
        self, parsed: CompaniesFile, data: bytes, actor: Actor, skip_invalid: bool
    ) -> LoadResult:
        now = self._clock()
        errors = list(parsed.errors)
        counts: Counter[str] = Counter()
        with self._uow(IDENTITY_REALM) as uow:
            changes = [c for c in (self._company_change(uow, row, errors) for row in parsed.rows) if c]
            commit = not errors or skip_invalid
            if commit:
                events = [
                    self._apply_company(uow, row, existing, actor, now, counts) for row, existing in changes
                ]
                uow.log.append(events)
            result = LoadResult(
                FileKind.COMPANIES,
                parsed.encoding,
                parsed.total_rows,
                commit,
                _nonzero(counts),
                _sorted(errors),
            )
            uow.log.append([self._summary(result, data, actor, now)])
            uow.commit()
        return result

    @staticmethod
    def _company_change(
        uow: UnitOfWork, row: CompanyRow, errors: list[RowError]
    ) -> tuple[CompanyRow, Company | None] | None:
        existing = uow.identity.get_company(row.company.company_id)
        if existing is not None and existing.kind is not row.company.kind:
            # A kind change flips every right of every employee at once: do it deliberately, not by import.
            errors.append(
                RowError(row.line, "kind", f"会社種別は変更できません（登録済み: {existing.kind}）。")
            )
            return None
        return None if existing == row.company else (row, existing)

    def _apply_company(
        self,
        uow: UnitOfWork,
        row: CompanyRow,
        existing: Company | None,
        actor: Actor,
        now: dt.datetime,
        counts: Counter[str],
    ) -> AccessEvent:
        uow.identity.upsert_company(row.company)
        counts[Change.COMPANIES_CREATED if existing is None else Change.COMPANIES_UPDATED] += 1
        company = row.company
        extra = {
            "created": existing is None,
            "name": company.name,
            "kind": str(company.kind),
            "area": str(company.area or ""),
            "retailer_code": company.retailer_code or "",
        }
        ids = (company.company_id,)
        return self._events.admin(now, actor, AuditTag.COMPANY_REGISTERED, COMPANY_RESOURCE, ids, extra=extra)

    # Staff.
    def _load_staff(self, parsed: StaffFile, data: bytes, actor: Actor, skip_invalid: bool) -> LoadResult:
        now = self._clock()
        errors = list(parsed.errors)
        counts: Counter[str] = Counter()
        with self._uow(IDENTITY_REALM) as uow:
            plans = []
            for record in parsed.records:
                found = self._check_record(uow, record, local_day(now))
                errors += found
                if not found:
                    plans.append(record)
            commit = not errors or skip_invalid
            if commit:
                for record in plans:
                    self._apply_record(uow, record, actor, now, counts)
            result = LoadResult(
                FileKind.STAFF, parsed.encoding, parsed.total_rows, commit, _nonzero(counts), _sorted(errors)
            )
            uow.log.append([self._summary(result, data, actor, now)])
            uow.commit()
        return result

    def _check_record(self, uow: UnitOfWork, record: PersonRecord, today: dt.date) -> list[RowError]:
        """The checks that need the database; any error rejects every row of the person."""
        errors = self._person_errors(uow, record, today)
        if errors:
            reported = {e.line for e in errors}
            errors += [
                RowError(line, "person_id", "同じ人の別の行に誤りがあるため、この人の行は読み込みません。")
                for line in record.lines
                if line not in reported
            ]
        return errors

    def _person_errors(self, uow: UnitOfWork, record: PersonRecord, today: dt.date) -> list[RowError]:
        first = record.lines[0]
        company = uow.identity.get_company(record.company_id)
        if company is None:
            missing = f"会社 {record.company_id} が未登録です（会社ファイルを先に読み込んでください）。"
            return [RowError(first, "company_id", missing)]
        errors: list[RowError] = []
        holder = uow.identity.get_person_by_employee_no(record.person.employee_no)
        if holder is not None and holder.person_id != record.person.person_id:
            taken = f"社員番号は別の人（{holder.person_id}）に登録済みです。"
            errors.append(RowError(first, "employee_no", taken))
        errors += _employment_errors(uow, record, today, first)
        stored = {a.account_id: a for a in uow.identity.accounts_of_person(record.person.person_id)}
        for row in record.accounts:
            errors += self._account_errors(uow, record, row, company, stored)
        return errors

    def _account_errors(
        self,
        uow: UnitOfWork,
        record: PersonRecord,
        row: AccountRow,
        company: Company,
        stored: dict[str, Account],
    ) -> list[RowError]:
        errors: list[RowError] = []
        misfit = sorted(r for r in row.roles if not role_fits(self._catalog, r, company.kind))
        if misfit:
            errors.append(
                RowError(
                    row.line,
                    "roles",
                    f"この会社（{company.kind}）では付与できないか未定義のロールです: {', '.join(misfit)}",
                )
            )
        existing = uow.identity.get_account(row.account_id)
        if existing is not None and existing.person_id != record.person.person_id:
            errors.append(
                RowError(
                    row.line,
                    "account_id",
                    f"アカウントID {row.account_id} は別の人に登録済みです（共用IDは作成できません）。",
                )
            )
        elif existing is not None and existing.kind is not row.kind:
            errors.append(
                RowError(
                    row.line, "account_kind", f"アカウント種別は変更できません（登録済み: {existing.kind}）。"
                )
            )
        if uow.identity.get_company(row.account_id) is not None:
            errors.append(
                RowError(row.line, "account_id", "会社IDと同じアカウントIDは共用IDとみなされます。")
            )
        other_personal = [
            a.account_id
            for a in stored.values()
            if a.kind is AccountKind.PERSONAL and a.account_id != row.account_id
        ]
        if row.kind is AccountKind.PERSONAL and other_personal:
            errors.append(
                RowError(
                    row.line, "account_id", f"個人アカウントは1人に1つです（登録済み: {other_personal[0]}）。"
                )
            )
        return errors

    def _apply_record(
        self, uow: UnitOfWork, record: PersonRecord, actor: Actor, now: dt.datetime, counts: Counter[str]
    ) -> None:
        events = self._apply_person(uow, record, actor, now, counts)
        events += self._apply_employment(uow, record, actor, now, counts)
        for row in record.accounts:
            events += self._apply_account(uow, record, row, actor, now, counts)
        uow.log.append(events)

    def _apply_person(
        self, uow: UnitOfWork, record: PersonRecord, actor: Actor, now: dt.datetime, counts: Counter[str]
    ) -> list[AccessEvent]:
        existing = uow.identity.get_person(record.person.person_id)
        if existing == record.person:
            return []
        uow.identity.upsert_person(record.person)
        counts[Change.PERSONS_CREATED if existing is None else Change.PERSONS_UPDATED] += 1
        extra = {"created": existing is None, "employee_no": record.person.employee_no}
        ids = (record.person.person_id,)
        return [
            self._events.admin(now, actor, AuditTag.PERSON_REGISTERED, ResourceType.PERSON, ids, extra=extra)
        ]

    def _apply_employment(
        self, uow: UnitOfWork, record: PersonRecord, actor: Actor, now: dt.datetime, counts: Counter[str]
    ) -> list[AccessEvent]:
        change = _employment_change(uow, record, local_day(now))
        person_id = record.person.person_id
        if change is _Employment.UNCHANGED:
            return []
        if change is _Employment.TRANSFER:
            order = TransferOrder(person_id, record.company_id, record.department, record.valid_from, None)
            result = self._transferrer.apply(uow, order, actor, now)  # writes its own events
            counts[Change.TRANSFERS] += 1
            counts[Change.SESSIONS_REVOKED] += result.sessions_revoked
            if record.valid_to is not None:
                uow.identity.end_employment(person_id, record.valid_to)
            return []
        if change is _Employment.NEW:
            employment = Employment(
                person_id, record.company_id, record.department, record.valid_from, record.valid_to
            )
            uow.identity.add_employment(employment)
            counts[Change.EMPLOYMENTS_ADDED] += 1
        else:
            uow.identity.end_employment(person_id, record.valid_to or record.valid_from)
            counts[Change.EMPLOYMENTS_ENDED] += 1
        return self._employment_event(uow, record, change, actor, now, counts)

    def _employment_event(
        self,
        uow: UnitOfWork,
        record: PersonRecord,
        change: _Employment,
        actor: Actor,
        now: dt.datetime,
        counts: Counter[str],
    ) -> list[AccessEvent]:
        """A new or ending employment changes rights too: live sessions end with it."""
        ids = [a.account_id for a in uow.identity.accounts_of_person(record.person.person_id)]
        revoked = uow.sessions.revoke_all_for_accounts(ids, now, f"hr_master_{change}")
        counts[Change.SESSIONS_REVOKED] += revoked
        extra: dict[str, Any] = {
            "employment": str(change),
            "to_company_id": record.company_id,
            "to_department": record.department,
            "effective": record.valid_from.isoformat(),
            "ends": record.valid_to.isoformat() if record.valid_to else "",
            "sessions_revoked": revoked,
        }
        person = (record.person.person_id,)
        # A first employment registers a person; an ending one is a move out of the company.
        tag = AuditTag.PERSON_REGISTERED if change is _Employment.NEW else AuditTag.PERSON_TRANSFERRED
        return [self._events.admin(now, actor, tag, ResourceType.PERSON, person, extra=extra)]

    def _apply_account(
        self,
        uow: UnitOfWork,
        record: PersonRecord,
        row: AccountRow,
        actor: Actor,
        now: dt.datetime,
        counts: Counter[str],
    ) -> list[AccessEvent]:
        existing = uow.identity.get_account(row.account_id)
        if existing is None:
            account = Account(row.account_id, row.kind, record.person.person_id, row.roles, row.status)
            uow.identity.create_account(account, now)
            counts[Change.ACCOUNTS_CREATED] += 1
            extra = {
                "person_id": account.person_id,
                "kind": str(account.kind),
                "roles": sorted(account.roles),
                "source": "hr_master",
            }
            ids = (account.account_id,)
            return [
                self._events.admin(
                    now, actor, AuditTag.ACCOUNT_CREATED, ResourceType.ACCOUNT, ids, extra=extra
                )
            ]
        if existing.roles == row.roles and existing.status is row.status:
            return []
        uow.identity.save_account(dataclasses.replace(existing, roles=row.roles, status=row.status))
        counts[Change.ACCOUNTS_UPDATED] += 1
        events = role_change_events(self._events, existing, row.roles, actor, now)
        if existing.status is not row.status:
            events.append(self._status_event(uow, existing, row.status, actor, now, counts))
        return events

    def _status_event(
        self,
        uow: UnitOfWork,
        account: Account,
        status: AccountStatus,
        actor: Actor,
        now: dt.datetime,
        counts: Counter[str],
    ) -> AccessEvent:
        revoked = 0
        if status is AccountStatus.DISABLED:
            revoked = uow.sessions.revoke_all_for_accounts([account.account_id], now, "disabled")
            counts[Change.SESSIONS_REVOKED] += revoked
        tag = AuditTag.ACCOUNT_DISABLED if status is AccountStatus.DISABLED else AuditTag.ACCOUNT_ENABLED
        extra = {"source": "hr_master", "sessions_revoked": revoked}
        return self._events.admin(now, actor, tag, ResourceType.ACCOUNT, (account.account_id,), extra=extra)

    def _summary(self, result: LoadResult, data: bytes, actor: Actor, now: dt.datetime) -> AccessEvent:
        """One event per load, applied or refused, naming the file by its hash."""
        digest = hashlib.sha256(data).hexdigest()
        extra: dict[str, Any] = {
            "file_kind": str(result.kind),
            "rows": result.rows,
            "rejected_rows": result.rejected_rows,
            "committed": result.committed,
            "counts": dict(result.counts),
        }
        outcome = Outcome.ALLOWED if result.committed else Outcome.DENIED
        return self._events.admin(
            now, actor, AuditTag.HR_MASTER_LOADED, HR_MASTER_RESOURCE, (digest,), outcome, extra
        )


def _employment_change(uow: UnitOfWork, record: PersonRecord, today: dt.date) -> _Employment:
    person_id = record.person.person_id
    current = uow.identity.current_employment(person_id, today)
    if current is None:
        history = uow.identity.employment_history(person_id)
        known = any(_same_assignment(e, record) and e.valid_from == record.valid_from for e in history)
        return _Employment.UNCHANGED if known else _Employment.NEW
    employment = current[0]
    if not _same_assignment(employment, record):
        return _Employment.TRANSFER
    if record.valid_to is not None and employment.valid_to != record.valid_to:
        return _Employment.END
    return _Employment.UNCHANGED


def _employment_errors(uow: UnitOfWork, record: PersonRecord, today: dt.date, line: int) -> list[RowError]:
    current = uow.identity.current_employment(record.person.person_id, today)
    change = _employment_change(uow, record, today)
    if change is _Employment.TRANSFER and current is not None:
        if record.valid_from > today:
            return [RowError(line, "valid_from", "所属の変更（異動）は発令日当日以降に読み込んでください。")]
        if record.valid_from < current[0].valid_from:
            return [RowError(line, "valid_from", "発令日が現在の所属の開始日より前です。")]
    ends = record.valid_to
    if (
        change is _Employment.END
        and current is not None
        and ends is not None
        and ends <= current[0].valid_from
    ):
        return [RowError(line, "last_day", "最終勤務日が現在の所属の開始日より前です。")]
    return []


def _same_assignment(employment: Employment, record: PersonRecord) -> bool:
    return employment.company_id == record.company_id and employment.department == record.department


def _sorted(errors: list[RowError]) -> tuple[RowError, ...]:
    return tuple(sorted(errors, key=lambda e: (e.line, e.column)))


def _nonzero(counts: Counter[str]) -> dict[str, int]:
    return {str(k): v for k, v in counts.items() if v}
