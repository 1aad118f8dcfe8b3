"""Stored switching work: `submit` (廃止取次), `start` (開始申込), `expire`, `withdraw`, `status` and results.

A file is checked exactly as `validate` checks it (services/switching.py, `run_checks`), then stored in
the same transaction: the submission, every row with its result, the accepted halves as pending, their
history, matching, and the access event. Any error leaves nothing. The same file (by SHA-256) is taken
once; a second submission is refused as a replay.

Expiry runs on the server clock at the start of every submission (so a stale pending cancellation does
not block a new one with 03) and again after the new rows are stored (a half received too long ago
expires at once); `shadan switching expire` runs it alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.supply_point_id import SupplyPointId, canonicalise
from shadan.domain.switching import Application, ResultKind, SwitchingAuditTag
from shadan.domain.switching_case import (
    ApplicationRecord,
    CaseState,
    HistoryEntry,
    ReplayedSubmission,
    StartApplication,
    StoredRow,
    Submission,
    match_deadline,
)
from shadan.domain.vocabulary import Action, InfoCategory, Outcome
from shadan.services.audit_log import Progress
from shadan.services.ports import UnitOfWork, UnitOfWorkFactory
from shadan.services.switching import (
    CANCELLATIONS,
    STARTS,
    CheckedFile,
    CheckedRow,
    FileForm,
    ValidationSummary,
    run_checks,
    summary_detail,
)
from shadan.services.switching_events import SwitchingActor, SwitchingEvents
from shadan.services.switching_files import ApplicationResult
from shadan.services.switching_matching import CaseKeeper, waiting_half
from shadan.services.switching_messages import SUBMITTED_MESSAGE
from shadan.services.switching_rows import fold_code, readable_timestamp

POINT_NOT_FOUND = "該当する供給地点が見つからないか、閲覧する権限がありません。"
SUBMISSION_NOT_FOUND = "該当する申込登録が見つからないか、閲覧する権限がありません。"
APPLICATION_NOT_FOUND = "該当する申込が見つからないか、操作する権限がありません。"
REASON_MAX = 200
_STATE_OF = {
    ResultKind.ACCEPTED: CaseState.PENDING,
    ResultKind.REJECTED: CaseState.REJECTED,
    ResultKind.INVALID: CaseState.INVALID,
}
_TAGS = {CANCELLATIONS.half: SwitchingAuditTag.SUBMITTED, STARTS.half: SwitchingAuditTag.STARTED}


@dataclass(frozen=True, slots=True)
class SubmissionReport:
    """A stored submission and its rows in file order, with their states as of now."""

    submission_id: int
    submission: Submission
    rows: tuple[StoredRow, ...]
    summary: ValidationSummary | None = None  # the checks' summary, when the file was just submitted
    matched: int = 0  # applications matched by this submission
    expired: int = 0  # applications (of any submission) that expired during it

    @property
    def results(self) -> tuple[ApplicationResult, ...]:
        return tuple(result_of(row) for row in self.rows)


@dataclass(frozen=True, slots=True)
class SupplyPointCase:
    """A supply point's switching status: its registry status, its applications and their history."""

    supply_point_id: str
    status: SupplyPointStatus
    rows: tuple[StoredRow, ...]
    history: tuple[HistoryEntry, ...]
    deadlines: Mapping[int, dt.date]  # row id → matching deadline (JST date) of each pending half


def result_of(row: StoredRow) -> ApplicationResult:
    record = row.record
    return ApplicationResult(
        record.line, record.application_id, record.result, record.error_codes, record.message
    )


class SwitchingCaseService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        events: SwitchingEvents,
        match_days: int,
        *,
        chunk_rows: int = 10_000,
    ) -> None:
        self._uow = uow
        self._events = events
        self._days = match_days
        self._chunk_rows = chunk_rows

    def submit(
        self,
        data: bytes,
        actor: SwitchingActor,
        *,
        strict: bool = False,
        source_name: str = "applications.csv",
        progress: Progress | None = None,
    ) -> SubmissionReport:
        """廃止取次: the checks of `validate`, stored; accepted cancellations become pending."""
        return self._store(CANCELLATIONS, data, actor, strict, source_name, progress)

    def start(
        self,
        data: bytes,
        actor: SwitchingActor,
        *,
        source_name: str = "starts.csv",
        progress: Progress | None = None,
    ) -> SubmissionReport:
        """開始申込: checked, stored; accepted starts wait for (or meet) their cancellation."""
        return self._store(STARTS, data, actor, False, source_name, progress)

    def expire(self, actor: SwitchingActor) -> list[HistoryEntry]:
        with self._uow() as uow:
            expired = self._expire(uow, self._keeper(uow, actor), actor)
            uow.commit()
        return expired

    def withdraw(
        self, application_id: str, retailer_code: str, reason: str, actor: SwitchingActor
    ) -> list[HistoryEntry]:
        """取下げ before matching; a refusal (matched, not pending, unknown) is logged before it is raised."""
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise InvalidInput(f"取下げの理由を{REASON_MAX}文字以内で入力してください。")
        with self._uow() as uow:
            keeper = self._keeper(uow, actor)
            self._expire(uow, keeper, actor)
            row = uow.switching.row_by_claim(application_id.strip(), fold_code(retailer_code))
            if row is None or not self._covers(uow, actor, row.record.supply_point_id):
                self._refuse(uow, actor, SwitchingAuditTag.WITHDRAWN, [], application_id=application_id)
                raise NotFound(APPLICATION_NOT_FOUND)
            try:
                withdrawn = keeper.withdraw(row, reason)
            except InvalidInput as refusal:
                tag = SwitchingAuditTag.CHANGE_REFUSED
                ids = [row.record.supply_point_id]
                self._refuse(uow, actor, tag, ids, application_id=application_id, reason=refusal.message)
                raise
            uow.log.append([self._changed(actor, SwitchingAuditTag.WITHDRAWN, withdrawn, reason=reason)])
            uow.commit()
        return withdrawn

    def status(self, raw_id: str, actor: SwitchingActor) -> SupplyPointCase:
        supply_point_id = SupplyPointId.parse(raw_id).value
        with self._uow() as uow:
            point = uow.registry.get_supply_point(supply_point_id)
            if point is None or not actor.covers(point.area):
                self._refuse(
                    uow, actor, SwitchingAuditTag.STATUS_VIEWED, [supply_point_id], action=Action.VIEW
                )
                raise NotFound(POINT_NOT_FOUND)
            rows = tuple(uow.switching.rows_on(supply_point_id))
            history = tuple(uow.switching.history_of(supply_point_id))
            categories = (InfoCategory.SUPPLY_POINT, point.contract_category)
            event = self._events.event(
                actor,
                Action.VIEW,
                SwitchingAuditTag.STATUS_VIEWED,
                ids=[supply_point_id],
                categories=categories,
            )
            uow.log.append([event])
            uow.commit()
        deadlines = {
            r.row_id: match_deadline(waiting_half(r).received_at, self._days)
            for r in rows
            if r.record.state is CaseState.PENDING
        }
        return SupplyPointCase(supply_point_id, point.status, rows, history, deadlines)

    def results(self, submission_id: int, actor: SwitchingActor, action: Action) -> SubmissionReport:
        """A stored submission's results, for its area's clerks (or the operator); `action` is view or
        export, as the access event records it."""
        with self._uow() as uow:
            submission = uow.switching.submission(submission_id)
            if submission is None or (actor.area is not None and submission.area is not actor.area):
                self._refuse(
                    uow, actor, SwitchingAuditTag.RESULTS_READ, [], action=action, submission=submission_id
                )
                raise NotFound(SUBMISSION_NOT_FOUND)
            rows = tuple(uow.switching.rows_of_submission(submission_id))
            event = self._events.event(
                actor, action, SwitchingAuditTag.RESULTS_READ, submission=submission_id
            )
            uow.log.append([event])
            uow.commit()
        return SubmissionReport(submission_id, submission, rows)

    def _store(
        self,
        form: FileForm[Any],
        data: bytes,
        actor: SwitchingActor,
        strict: bool,
        source_name: str,
        progress: Progress | None,
    ) -> SubmissionReport:
        sha256 = hashlib.sha256(data).hexdigest()
        tag = _TAGS[form.half]
        with self._uow() as uow:
            earlier = uow.switching.submission_of_file(sha256)
            if earlier is not None:
                self._refuse(uow, actor, tag, [], action=Action.UPDATE, replay_of=earlier, sha256=sha256)
                raise ReplayedSubmission(
                    f"このファイルは既に登録されています（申込登録番号 {earlier}、SHA-256 {sha256[:12]}…）。"
                    "同じファイルは二度登録できません。訂正した申込は新しい申込番号で、別のファイルとして登録してください。"
                )
            keeper = self._keeper(uow, actor)
            expired = keeper.expire()
            checked = run_checks(
                uow,
                form,
                data,
                actor,
                strict=strict,
                source_name=source_name,
                sha256=sha256,
                chunk_rows=self._chunk_rows,
                keep=True,
                accepted_message=SUBMITTED_MESSAGE if form is CANCELLATIONS else None,
                progress=progress,
            )
            submission = Submission(
                half=form.half,
                file_name=source_name,
                sha256=sha256,
                encoding=checked.summary.encoding,
                strict=strict,
                submitted_by=actor.account_id,
                area=actor.area,
                submitted_at=self._events.now(),
                counts={kind: checked.summary.by_result.get(kind, 0) for kind in ResultKind},
            )
            submission_id = uow.switching.add_submission(submission)
            records = [_record(form, row) for row in checked.rows]
            row_ids = uow.switching.add_rows(submission_id, records, submission.submitted_at)
            stored = [
                StoredRow(row_id, submission_id, record, submission.submitted_at, None)
                for row_id, record in zip(row_ids, records, strict=True)
            ]
            arrived = [waiting_half(row) for row in stored if row.record.state is CaseState.PENDING]
            accepted = keeper.accept(arrived)
            expired += keeper.expire()
            late = {entry.row_id for entry in expired}
            matched = keeper.match([half for half in arrived if half.row_id not in late])
            uow.log.append(
                self._submission_events(actor, tag, submission_id, checked, accepted + expired + matched)
            )
            rows = tuple(uow.switching.rows_of_submission(submission_id))
            uow.commit()
        mine = {row.row_id for row in rows}
        return SubmissionReport(
            submission_id,
            submission,
            rows,
            checked.summary,
            matched=sum(1 for entry in matched if entry.row_id in mine),
            expired=len(expired),
        )

    def _submission_events(
        self,
        actor: SwitchingActor,
        tag: SwitchingAuditTag,
        submission_id: int,
        checked: CheckedFile[Any],
        changes: Sequence[HistoryEntry],
    ) -> list[AccessEvent]:
        counts = {state.value: sum(1 for c in changes if c.state is state) for state in CaseState}
        events = [
            self._events.event(
                actor,
                Action.UPDATE,
                tag,
                ids=sorted({c.supply_point_id for c in changes}),
                categories=checked.categories,
                submission=submission_id,
                changes={k: v for k, v in counts.items() if v},
                **summary_detail(checked.summary),
            )
        ]
        if checked.locked_claims:
            events.append(
                self._events.event(
                    actor,
                    Action.UPDATE,
                    SwitchingAuditTag.CHANGE_REFUSED,
                    outcome=Outcome.DENIED,
                    submission=submission_id,
                    applications=list(checked.locked_claims),
                    reason="matched applications cannot be changed",
                )
            )
        return events

    def _expire(self, uow: UnitOfWork, keeper: CaseKeeper, actor: SwitchingActor) -> list[HistoryEntry]:
        """Expiry with its own access event, kept whatever the rest of the transaction then refuses."""
        expired = keeper.expire()
        if expired:
            uow.log.append([self._changed(actor, SwitchingAuditTag.EXPIRED, expired)])
        return expired

    def _changed(
        self, actor: SwitchingActor, tag: SwitchingAuditTag, changes: Sequence[HistoryEntry], **detail: Any
    ) -> AccessEvent:
        ids = sorted({c.supply_point_id for c in changes})
        applications = [c.application_id for c in changes]
        return self._events.event(actor, Action.UPDATE, tag, ids=ids, applications=applications, **detail)

    def _refuse(
        self,
        uow: UnitOfWork,
        actor: SwitchingActor,
        tag: SwitchingAuditTag,
        ids: Sequence[str],
        action: Action = Action.UPDATE,
        **detail: Any,
    ) -> None:
        """A refused request is logged and committed before the refusal is raised (with whatever the same
        transaction legitimately did first, such as expiry)."""
        uow.log.append([self._events.event(actor, action, tag, ids=ids, outcome=Outcome.DENIED, **detail)])
        uow.commit()

    def _keeper(self, uow: UnitOfWork, actor: SwitchingActor) -> CaseKeeper:
        return CaseKeeper(uow, actor.account_id, self._events.now(), self._days)

    @staticmethod
    def _covers(uow: UnitOfWork, actor: SwitchingActor, supply_point_id: str) -> bool:
        if actor.area is None:
            return True
        point = uow.registry.get_supply_point(supply_point_id)
        return point is not None and actor.covers(point.area)


def _record(form: FileForm[Any], row: CheckedRow[Any]) -> ApplicationRecord:
    result = row.result
    common: dict[str, Any] = {
        "line": result.line,
        "half": form.half,
        "application_id": result.application_id,
        "result": result.result,
        "error_codes": result.codes,
        "strict_error_codes": row.strict_codes,
        "message": result.message,
        "state": _STATE_OF[result.result],
    }
    app = row.application
    if isinstance(app, Application):
        return ApplicationRecord(
            **common,
            claims_id=True,
            supply_point_id=app.supply_point_id,
            received_at=app.received_at,
            current_retailer_code=app.current_retailer_code,
            new_retailer_code=app.new_retailer_code,
            new_retailer_staff=app.new_retailer_staff,
            building=app.building,
            switch_date=app.cancel_date,
        )
    if isinstance(app, StartApplication):
        return ApplicationRecord(
            **common,
            claims_id=True,
            supply_point_id=app.supply_point_id,
            received_at=app.received_at,
            current_retailer_code="",
            new_retailer_code=app.new_retailer_code,
            new_retailer_staff=app.new_retailer_staff,
            building="",
            switch_date=app.start_date,
        )
    return _invalid_record(common, row.cells)


def _invalid_record(common: dict[str, Any], cells: Mapping[str, str]) -> ApplicationRecord:
    """What an invalid row says of itself, as written (it holds no application id)."""
    return ApplicationRecord(
        **common,
        claims_id=False,
        supply_point_id=canonicalise(cells.get("supply_point_id", "")),
        received_at=readable_timestamp(cells.get("received_at", "")),
        current_retailer_code=fold_code(cells.get("current_retailer_code", "")),
        new_retailer_code=fold_code(cells.get("new_retailer_code", "")),
        new_retailer_staff=cells.get("new_retailer_staff", ""),
        building=cells.get("building", ""),
        switch_date=None,
    )
