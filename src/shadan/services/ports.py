"""Interfaces the services declare; adapters in store/ and audit/ implement them, bootstrap wires them.

Each Protocol belongs to one area; add methods to the area you work in, keep them small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from shadan.domain.access import Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Account, Company, Employment, Person
from shadan.domain.registry import ReadingDay, Retailer, SupplyPoint, SupplyPointStatus
from shadan.domain.switching_case import (
    ApplicationRecord,
    CaseState,
    HistoryEntry,
    StoredApplication,
    StoredRow,
    Submission,
    WaitingHalf,
)
from shadan.domain.vocabulary import Action


class RegistryRepository(Protocol):
    def get_supply_point(self, supply_point_id: str) -> SupplyPoint | None: ...

    def search_supply_points(self, field: str, term: str, area: str | None, limit: int) -> list[SupplyPoint]:
        """Substring search on one searchable field (address, name_kana, name_kanji), area-scoped."""
        ...

    def upsert_supply_points(self, points: Iterable[SupplyPoint]) -> int:
        """Insert or update by id; on update the equipment fields (transformer_id, feeder_id) are kept."""
        ...

    def upsert_retailers(self, retailers: Iterable[Retailer]) -> int: ...

    def replace_reading_days(self, days: Iterable[ReadingDay]) -> int:
        """Each schedule named in `days` gets exactly those days; other schedules are left alone."""
        ...

    def reading_schedules(self) -> set[str]:
        """Every reading schedule with at least one day in the calendar."""
        ...

    def get_retailer(self, retailer_code: str) -> Retailer | None: ...

    def retailer_codes(self) -> set[str]: ...

    def count_supply_points(self) -> int: ...

    def supply_points_by_ids(self, supply_point_ids: Iterable[str]) -> dict[str, SupplyPoint]:
        """The supply points among `supply_point_ids` (fetched in chunks); unknown ids are absent."""
        ...

    def reading_days(self, schedules: Iterable[str]) -> dict[str, list[dt.date]]:
        """The scheduled reading days of each named schedule, ascending; unknown schedules are absent."""
        ...


class IdentityRepository(Protocol):
    def get_company(self, company_id: str) -> Company | None: ...

    def upsert_company(self, company: Company) -> None: ...

    def get_person(self, person_id: str) -> Person | None: ...

    def upsert_person(self, person: Person) -> None: ...

    def employment_history(self, person_id: str) -> list[Employment]: ...

    def add_employment(self, employment: Employment) -> None: ...

    def end_employment(self, person_id: str, day: dt.date) -> None: ...

    def get_account(self, account_id: str) -> Account | None: ...

    def accounts_of_person(self, person_id: str) -> list[Account]: ...

    def save_account(self, account: Account) -> None:
        """Update an account's mutable fields and replace its roles (insert it when new)."""
        ...

    def create_account(self, account: Account, now: dt.datetime) -> None:
        """Insert a new account with its roles; an existing account id is an error."""
        ...

    def get_person_by_employee_no(self, employee_no: str) -> Person | None: ...

    def current_employment(self, person_id: str, day: dt.date) -> tuple[Employment, Company] | None:
        """The employment in force on `day` and its company, in one query (the per-request path)."""
        ...

    def claim_totp_step(self, account_id: str, step: int) -> bool:
        """Record `step` as used if it is later than the last used one; False means a replayed code."""
        ...


class SessionRecord(Protocol):
    token_hash: str
    account_id: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    mfa_verified: bool
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """A session with all that a request needs to become a principal, read in one query."""

    session: SessionRecord
    account: Account
    # The employment in force on the day asked for, and its company; None when there is none.
    employer: tuple[Employment, Company] | None


class SessionRepository(Protocol):
    def lookup(self, token_hash: str, day: dt.date) -> SessionSnapshot | None:
        """The session, its account with roles, and the account's employment on `day` (the per-request
        path: one round trip). None when no session has this hash."""
        ...

    def create(self, token_hash: str, account_id: str, now: dt.datetime, source_ip: str) -> None: ...

    def get(self, token_hash: str) -> SessionRecord | None: ...

    def touch(self, token_hash: str, now: dt.datetime) -> None: ...

    def mark_mfa_verified(self, token_hash: str) -> None: ...

    def revoke(self, token_hash: str, now: dt.datetime, reason: str) -> None: ...

    def revoke_all_for_accounts(self, account_ids: Sequence[str], now: dt.datetime, reason: str) -> int: ...

    def delete_ended_before(self, cutoff: dt.datetime, idle: dt.timedelta, absolute: dt.timedelta) -> int:
        """Delete the sessions that ended before `cutoff`: revoked, idle for `idle` or older than
        `absolute` by then. Returns how many."""
        ...


class ThrottleRepository(Protocol):
    def failures(self, key: str) -> tuple[int, dt.datetime | None]: ...

    def record_failure(self, key: str, now: dt.datetime) -> int: ...

    def reset(self, key: str) -> None: ...

    def forget_before(self, key_prefix: str, before: dt.datetime) -> int:
        """Delete the counters with this key prefix whose last failure is older than `before`."""
        ...


class AccessLogWriter(Protocol):
    """The access log's append path. Events appended in a unit of work are durable once it commits."""

    def append(self, events: Sequence[AccessEvent]) -> None: ...


class AccessLogSink(Protocol):
    """Makes access events durable outside any unit of work (reads, searches, refused requests).

    `record` returns only once the events are committed, so a caller answers after its event is durable;
    if they cannot be committed it raises AuditUnavailable and the caller must fail closed. An adapter
    may commit the events of several concurrent callers in one transaction (group commit). Work that
    must be atomic with its event (transfers, account changes) appends through `UnitOfWork.log` instead.
    """

    def record(self, events: Sequence[AccessEvent]) -> None: ...


class AccessLogReader(Protocol):
    def events_of_account(self, account_id: str, limit: int) -> list[AccessEvent]: ...

    def events_for_resource(self, resource_id: str, limit: int) -> list[AccessEvent]: ...


class UnitOfWork(Protocol):
    """One database transaction across the repositories; nothing is kept unless `commit` is called."""

    registry: RegistryRepository
    identity: IdentityRepository
    sessions: SessionRepository
    throttle: ThrottleRepository
    log: AccessLogWriter
    log_reader: AccessLogReader
    switching: SwitchingRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, realm: str = "td") -> UnitOfWork:
        """`realm` sets the database session's realm for row-level security (td, retail)."""
        ...


class Authorizer(Protocol):
    """One batched decision for all categories of one record (implemented by policy.CedarAuthorizer)."""

    def decide(
        self, principal: Principal, action: Action, items: Sequence[ResourceItem], context: RequestContext
    ) -> RecordDecision: ...

    def offered_purposes(self, role_names: frozenset[str]) -> frozenset[str]:
        """The purposes these roles may state that the loaded policies and settings can ever allow."""
        ...


class SwitchingRecords(Protocol):
    """Submitted switching applications (store/switching_repo.py), for statistics and fraud heuristics."""

    def applications_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredApplication]:
        """Applications received in [start, end), ordered by received_at then application_id."""
        ...


class SwitchingRepository(SwitchingRecords, Protocol):
    """The switching tables (store/switching_repo.py): submitted files, their rows, the history per supply
    point, and the supply point status that matching moves. State changes start only from `pending`."""

    def submission_of_file(self, sha256: str) -> int | None:
        """The id of the submission of a file with this SHA-256, if one was stored."""
        ...

    def add_submission(self, submission: Submission) -> int: ...

    def submission(self, submission_id: int) -> Submission | None: ...

    def add_rows(
        self, submission_id: int, records: Sequence[ApplicationRecord], at: dt.datetime
    ) -> list[int]:
        """Store the rows; their row ids in the order of `records`. An id claimed twice: SwitchingConflict."""
        ...

    def claimed_ids(self, application_ids: Iterable[str]) -> dict[tuple[str, str], CaseState]:
        """(application_id, new_retailer_code) → current state, for stored rows holding one of the ids."""
        ...

    def rows_of_submission(self, submission_id: int) -> list[StoredRow]:
        """In file order."""
        ...

    def row_by_claim(self, application_id: str, new_retailer_code: str) -> StoredRow | None: ...

    def rows_on(self, supply_point_id: str) -> list[StoredRow]:
        """The well-formed rows naming the supply point, by received_at then application_id."""
        ...

    def waiting_on(self, supply_point_ids: Iterable[str]) -> list[WaitingHalf]:
        """Pending halves on these supply points."""
        ...

    def waiting_received_before(self, moment: dt.datetime) -> list[WaitingHalf]:
        """Pending halves received before `moment`."""
        ...

    def change_state(
        self,
        row_ids: Sequence[int],
        to: CaseState,
        at: dt.datetime,
        partners: Mapping[int, int] | None = None,
    ) -> None:
        """Pending rows to `to` (each with its partner's row id when matched); SwitchingConflict (nothing
        kept) when any of them is no longer pending."""
        ...

    def change_point_status(
        self, supply_point_ids: Sequence[str], before: SupplyPointStatus, after: SupplyPointStatus
    ) -> int:
        """Set `after` on those of the supply points whose status is `before`; how many changed."""
        ...

    def add_history(self, entries: Sequence[HistoryEntry]) -> None: ...

    def history_of(self, supply_point_id: str) -> list[HistoryEntry]:
        """Oldest first."""
        ...
