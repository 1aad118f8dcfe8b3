"""The switching tables on SQLAlchemy Core (services.ports.SwitchingRepository and SwitchingRecords).

State changes are guarded in the statement itself (`... WHERE state = 'pending'`): a row another
transaction moved first is not changed again, and the caller gets SwitchingConflict and rolls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, case, insert, select, update
from sqlalchemy.exc import IntegrityError

from shadan.domain.batches import chunks
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import (
    ApplicationRecord,
    CaseState,
    Half,
    HistoryEntry,
    StoredApplication,
    StoredRow,
    Submission,
    SwitchingConflict,
    WaitingHalf,
)
from shadan.domain.vocabulary import Area
from shadan.store.switching_tables import switching_applications as apps
from shadan.store.switching_tables import switching_history as history
from shadan.store.switching_tables import switching_submissions as submissions
from shadan.store.tables import supply_points

CHUNK = 2_000
CONFLICT_MESSAGE = (
    "他の処理が同じ申込または供給地点を先に更新しました。何も登録していません。もう一度お試しください。"
)
_RESULT_COUNTS = {
    ResultKind.ACCEPTED: "accepted_count",
    ResultKind.REJECTED: "rejected_count",
    ResultKind.INVALID: "invalid_count",
}
_WAITING_COLUMNS = tuple(
    apps.c[name]
    for name in (
        "row_id",
        "half",
        "application_id",
        "supply_point_id",
        "new_retailer_code",
        "switch_date",
        "received_at",
    )
)


class SqlSwitchingRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def submission_of_file(self, sha256: str) -> int | None:
        query = select(submissions.c.submission_id).where(submissions.c.file_sha256 == sha256)
        found = self._connection.execute(query).scalar()
        return None if found is None else int(found)

    def add_submission(self, submission: Submission) -> int:
        values = {
            "half": submission.half.value,
            "file_name": submission.file_name,
            "file_sha256": submission.sha256,
            "encoding": submission.encoding,
            "strict": submission.strict,
            "submitted_by": submission.submitted_by,
            "area": None if submission.area is None else submission.area.value,
            "submitted_at": _stored(submission.submitted_at),
            "row_count": submission.total,
            **{column: submission.counts.get(kind, 0) for kind, column in _RESULT_COUNTS.items()},
        }
        statement = insert(submissions).values(values).returning(submissions.c.submission_id)
        return int(self._guarded(statement).scalar_one())

    def submission(self, submission_id: int) -> Submission | None:
        query = select(submissions).where(submissions.c.submission_id == submission_id)
        row = self._connection.execute(query).first()
        if row is None:
            return None
        return Submission(
            half=Half(row.half),
            file_name=row.file_name,
            sha256=row.file_sha256,
            encoding=row.encoding,
            strict=bool(row.strict),
            submitted_by=row.submitted_by,
            area=None if row.area is None else Area(row.area),
            submitted_at=_utc(row.submitted_at),
            counts={kind: getattr(row, column) for kind, column in _RESULT_COUNTS.items()},
        )

    def add_rows(
        self, submission_id: int, records: Sequence[ApplicationRecord], at: dt.datetime
    ) -> list[int]:
        # One executemany per chunk, then the ids by line: RETURNING with executemany would send the
        # rows one statement each on SQLite.
        for chunk in chunks(records, CHUNK):
            self._guarded(insert(apps), [_record_values(submission_id, r, _stored(at)) for r in chunk])
        query = select(apps.c.line, apps.c.row_id).where(apps.c.submission_id == submission_id)
        row_ids: dict[int, int] = dict(self._connection.execute(query).all())
        return [row_ids[record.line] for record in records]

    def claimed_ids(self, application_ids: Iterable[str]) -> dict[tuple[str, str], CaseState]:
        found: dict[tuple[str, str], CaseState] = {}
        for chunk in chunks(sorted(set(application_ids)), 500):
            query = select(apps.c.claimed_id, apps.c.new_retailer_code, apps.c.state).where(
                apps.c.claimed_id.in_(chunk)
            )
            for claimed, retailer, state in self._connection.execute(query):
                found[(claimed, retailer)] = CaseState(state)
        return found

    def rows_of_submission(self, submission_id: int) -> list[StoredRow]:
        query = select(apps).where(apps.c.submission_id == submission_id).order_by(apps.c.line)
        return [_stored_row(row) for row in self._connection.execute(query)]

    def row_by_claim(self, application_id: str, new_retailer_code: str) -> StoredRow | None:
        query = select(apps).where(
            apps.c.claimed_id == application_id, apps.c.new_retailer_code == new_retailer_code
        )
        row = self._connection.execute(query).first()
        return None if row is None else _stored_row(row)

    def rows_on(self, supply_point_id: str) -> list[StoredRow]:
        query = (
            select(apps)
            .where(apps.c.supply_point_id == supply_point_id, apps.c.result != ResultKind.INVALID.value)
            .order_by(apps.c.received_at, apps.c.application_id, apps.c.row_id)
        )
        return [_stored_row(row) for row in self._connection.execute(query)]

    def waiting_on(self, supply_point_ids: Iterable[str]) -> list[WaitingHalf]:
        waiting: list[WaitingHalf] = []
        for chunk in chunks(sorted(set(supply_point_ids)), 500):
            query = select(*_WAITING_COLUMNS).where(
                apps.c.state == CaseState.PENDING.value, apps.c.supply_point_id.in_(chunk)
            )
            waiting += [_waiting(row) for row in self._connection.execute(query)]
        return waiting

    def waiting_received_before(self, moment: dt.datetime) -> list[WaitingHalf]:
        query = select(*_WAITING_COLUMNS).where(
            apps.c.state == CaseState.PENDING.value, apps.c.received_at < _stored(moment)
        )
        return [_waiting(row) for row in self._connection.execute(query)]

    def change_state(
        self,
        row_ids: Sequence[int],
        to: CaseState,
        at: dt.datetime,
        partners: Mapping[int, int] | None = None,
    ) -> None:
        for chunk in chunks(row_ids, 500):
            values: dict[str, Any] = {"state": to.value, "state_changed_at": _stored(at)}
            if partners is not None:
                values["partner_row_id"] = case({row: partners[row] for row in chunk}, value=apps.c.row_id)
            statement = (
                update(apps)
                .where(apps.c.row_id.in_(chunk), apps.c.state == CaseState.PENDING.value)
                .values(values)
            )
            if self._connection.execute(statement).rowcount != len(chunk):
                raise SwitchingConflict(CONFLICT_MESSAGE)

    def change_point_status(
        self, supply_point_ids: Sequence[str], before: SupplyPointStatus, after: SupplyPointStatus
    ) -> int:
        changed = 0
        for chunk in chunks(sorted(set(supply_point_ids)), 500):
            statement = (
                update(supply_points)
                .where(supply_points.c.supply_point_id.in_(chunk), supply_points.c.status == before.value)
                .values(status=after.value)
            )
            changed += self._connection.execute(statement).rowcount
        return changed

    def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        for chunk in chunks(entries, CHUNK):
            self._connection.execute(insert(history), [_history_values(e) for e in chunk])

    def history_of(self, supply_point_id: str) -> list[HistoryEntry]:
        query = (
            select(history, apps.c.application_id, apps.c.half)
            .join(apps, apps.c.row_id == history.c.row_id)
            .where(history.c.supply_point_id == supply_point_id)
            .order_by(history.c.history_id)
        )
        return [
            HistoryEntry(
                supply_point_id=row.supply_point_id,
                row_id=row.row_id,
                application_id=row.application_id,
                half=Half(row.half),
                state=CaseState(row.state),
                registry_status=SupplyPointStatus(row.registry_status),
                changed_by=row.changed_by,
                changed_at=_utc(row.changed_at),
                reason=row.reason,
            )
            for row in self._connection.execute(query)
        ]

    def applications_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredApplication]:
        query = (
            select(apps, submissions.c.submitted_at)
            .join(submissions, submissions.c.submission_id == apps.c.submission_id)
            .where(and_(apps.c.received_at >= _stored(start), apps.c.received_at < _stored(end)))
            .order_by(apps.c.received_at, apps.c.application_id, apps.c.row_id)
        )
        return [_stored_application(row) for row in self._connection.execute(query)]

    def _guarded(self, statement: Any, values: Any = None) -> Any:
        """Unique keys (file hash, claimed id) are checked before writing; a violation here means a
        concurrent submission won the race."""
        try:
            return self._connection.execute(statement, values)
        except IntegrityError as exc:
            raise SwitchingConflict(CONFLICT_MESSAGE) from exc


def _record_values(submission_id: int, record: ApplicationRecord, at: dt.datetime) -> dict[str, Any]:
    return {
        "submission_id": submission_id,
        "line": record.line,
        "half": record.half.value,
        "application_id": record.application_id,
        "claimed_id": record.application_id if record.claims_id else None,
        "supply_point_id": record.supply_point_id,
        "received_at": None if record.received_at is None else _stored(record.received_at),
        "current_retailer_code": record.current_retailer_code,
        "new_retailer_code": record.new_retailer_code,
        "new_retailer_staff": record.new_retailer_staff,
        "building": record.building,
        "switch_date": record.switch_date,
        "result": record.result.value,
        "error_codes": _codes_text(record.error_codes),
        "strict_error_codes": _codes_text(record.strict_error_codes),
        "message": record.message,
        "state": record.state.value,
        "state_changed_at": at,
    }


def _history_values(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "supply_point_id": entry.supply_point_id,
        "row_id": entry.row_id,
        "state": entry.state.value,
        "registry_status": entry.registry_status.value,
        "changed_by": entry.changed_by,
        "changed_at": _stored(entry.changed_at),
        "reason": entry.reason,
    }


def _codes_text(codes: tuple[ErrorCode, ...]) -> str:
    return " ".join(code.value for code in codes)


def _codes(text: str) -> tuple[ErrorCode, ...]:
    return tuple(ErrorCode(code) for code in text.split())


def _record(row: Row[Any]) -> ApplicationRecord:
    return ApplicationRecord(
        line=row.line,
        half=Half(row.half),
        application_id=row.application_id,
        claims_id=row.claimed_id is not None,
        supply_point_id=row.supply_point_id,
        received_at=None if row.received_at is None else _utc(row.received_at),
        current_retailer_code=row.current_retailer_code,
        new_retailer_code=row.new_retailer_code,
        new_retailer_staff=row.new_retailer_staff,
        building=row.building,
        switch_date=row.switch_date,
        result=ResultKind(row.result),
        error_codes=_codes(row.error_codes),
        strict_error_codes=_codes(row.strict_error_codes),
        message=row.message,
        state=CaseState(row.state),
    )


def _stored_row(row: Row[Any]) -> StoredRow:
    return StoredRow(
        row_id=row.row_id,
        submission_id=row.submission_id,
        record=_record(row),
        state_changed_at=_utc(row.state_changed_at),
        partner_row_id=row.partner_row_id,
    )


def _stored_application(row: Row[Any]) -> StoredApplication:
    return StoredApplication(
        application_id=row.application_id,
        half=Half(row.half),
        supply_point_id=row.supply_point_id,
        received_at=_utc(row.received_at),
        submitted_at=_utc(row.submitted_at),
        current_retailer_code=row.current_retailer_code,
        new_retailer_code=row.new_retailer_code,
        new_retailer_staff=row.new_retailer_staff,
        building=row.building,
        result=ResultKind(row.result),
        error_codes=_codes(row.error_codes),
        strict_error_codes=_codes(row.strict_error_codes),
        state=CaseState(row.state),
        state_changed_at=_utc(row.state_changed_at),
    )


def _waiting(row: Row[Any]) -> WaitingHalf:
    return WaitingHalf(
        row_id=row.row_id,
        half=Half(row.half),
        application_id=row.application_id,
        supply_point_id=row.supply_point_id,
        new_retailer_code=row.new_retailer_code,
        switch_date=row.switch_date,
        received_at=_utc(row.received_at),
    )


def _stored(moment: dt.datetime) -> dt.datetime:
    """Everything is stored in UTC: SQLite keeps no offset, and compares the text."""
    return moment.astimezone(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
