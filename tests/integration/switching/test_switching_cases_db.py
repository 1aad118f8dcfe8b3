"""Stored switching work on SQLite and PostgreSQL: submit, start, matching, expiry, withdrawal, atomicity."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from switching_clock import MovableClock
from switching_registry import (
    MIXED,
    application_line,
    applications_csv,
    point_id,
    start_line,
    starts_csv,
)

from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState, Half, ReplayedSubmission
from shadan.domain.vocabulary import Action, Area, Outcome
from shadan.services.switching_cases import SwitchingCaseService
from shadan.services.switching_events import SwitchingActor
from shadan.store import switching_repo
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

OPERATOR = SwitchingActor("system:switching-test")


def cancels(*lines: str) -> bytes:
    return applications_csv(lines).encode("utf-8")


def starts(*lines: str) -> bytes:
    return starts_csv(lines).encode("utf-8")


def status_of(uow: SqlUnitOfWorkFactory, n: int) -> SupplyPointStatus:
    with uow() as work:
        point = work.registry.get_supply_point(point_id(n))
    assert point is not None
    return point.status


def table_sizes(uow: SqlUnitOfWorkFactory) -> tuple[int, int, int]:
    with uow() as work:
        rows = work.switching.applications_between(
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        )
        return len(rows), len(work.switching.history_of(point_id(1))), len(events(uow))


def events(uow: SqlUnitOfWorkFactory) -> list[tuple[Action, Outcome, dict[str, object]]]:
    with uow() as work:
        found = work.log_reader.events_of_account(OPERATOR.account_id, 50)
    return [(e.action, e.outcome, json.loads(e.detail)) for e in reversed(found)]


def test_submit_stores_every_row_and_makes_accepted_points_pending(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    report = cases.submit(cancels(*MIXED), OPERATOR, source_name="mixed.csv")
    states = [(r.record.application_id, r.record.result, r.record.state) for r in report.rows]
    assert len(states) == len(MIXED)
    assert states[0] == ("AP01", ResultKind.ACCEPTED, CaseState.PENDING)
    assert states[1] == ("AP02", ResultKind.REJECTED, CaseState.REJECTED)
    assert states[-1] == ("AP13", ResultKind.INVALID, CaseState.INVALID)
    assert report.submission.counts == {
        ResultKind.ACCEPTED: 1,
        ResultKind.REJECTED: 11,
        ResultKind.INVALID: 1,
    }
    assert status_of(uow, 1) is SupplyPointStatus.PENDING_CANCELLATION
    assert status_of(uow, 2) is SupplyPointStatus.ACTIVE  # AP04: 01, nothing recorded against the point
    with uow() as work:
        (entry,) = work.switching.history_of(point_id(1))
        stored = work.switching.rows_of_submission(report.submission_id)
    assert (entry.application_id, entry.state, entry.registry_status) == (
        "AP01",
        CaseState.PENDING,
        SupplyPointStatus.PENDING_CANCELLATION,
    )
    assert entry.changed_by == OPERATOR.account_id
    assert "2025-04-08" in entry.reason
    assert stored == list(report.rows)
    ((action, outcome, detail),) = events(uow)
    assert (action, outcome) == (Action.UPDATE, Outcome.ALLOWED)
    assert detail["tag"] == "switching:submitted"
    assert detail["submission"] == report.submission_id
    assert detail["accepted"] == 1
    assert detail["changes"] == {"pending": 1}


def test_the_same_file_twice_is_a_replay_and_changes_nothing(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    data = cancels(application_line("AP01", 1))
    cases.submit(data, OPERATOR)
    before = table_sizes(uow)
    with pytest.raises(ReplayedSubmission, match="既に登録されています"):
        cases.submit(data, OPERATOR, source_name="renamed.csv")
    rows, history, logged = table_sizes(uow)
    assert (rows, history) == before[:2]
    assert logged == before[2] + 1
    assert events(uow)[-1][1] is Outcome.DENIED


def test_an_application_id_already_stored_for_the_retailer_is_invalid(cases: SwitchingCaseService) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    again = cases.submit(cancels(application_line("AP01", 3), application_line("AP02", 4)), OPERATOR)
    first, second = again.rows
    assert first.record.result is ResultKind.INVALID
    assert "申込番号（application_id）" in first.record.message
    assert "既に登録" in first.record.message
    assert second.record.result is ResultKind.ACCEPTED
    # Another new retailer may use the same number.
    other = cases.submit(cancels(application_line("AP01", 5, new_retailer_code="C0003")), OPERATOR)
    assert other.rows[0].record.result is ResultKind.ACCEPTED


def test_a_start_matches_its_cancellation_and_locks_the_point(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    report = cases.start(starts(start_line("ST01", 1)), OPERATOR)
    assert report.matched == 1
    (start,) = report.rows
    assert start.record.state is CaseState.MATCHED
    assert status_of(uow, 1) is SupplyPointStatus.LOCKED
    with uow() as work:
        history = work.switching.history_of(point_id(1))
        cancel = work.switching.row_by_claim("AP01", "B0002")
    assert cancel is not None
    assert cancel.record.state is CaseState.MATCHED
    assert (cancel.partner_row_id, start.partner_row_id) == (start.row_id, cancel.row_id)
    assert [(h.application_id, h.state) for h in history] == [
        ("AP01", CaseState.PENDING),
        ("ST01", CaseState.PENDING),
        ("ST01", CaseState.MATCHED),
        ("AP01", CaseState.MATCHED),
    ]
    assert history[-1].registry_status is SupplyPointStatus.LOCKED


def test_after_matching_neither_half_can_be_withdrawn_or_sent_again(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    cases.start(starts(start_line("ST01", 1)), OPERATOR)
    for application_id in ("AP01", "ST01"):
        with pytest.raises(InvalidInput, match="マッチング済み"):
            cases.withdraw(application_id, "B0002", "顧客都合", OPERATOR)
    again = cases.submit(cancels(application_line("AP01", 1, cancel_date="2025-04-25")), OPERATOR)
    assert again.rows[0].record.result is ResultKind.INVALID
    assert "マッチング済み" in again.rows[0].record.message
    refusals = [d for _, outcome, d in events(uow) if outcome is Outcome.DENIED]
    assert [d["tag"] for d in refusals] == ["switching:change_refused"] * 3
    assert refusals[-1]["applications"] == ["AP01"]
    with uow() as work:
        rows = work.switching.rows_on(point_id(1))
    assert [r.record.state for r in rows] == [CaseState.MATCHED, CaseState.MATCHED]


def test_a_start_for_another_date_or_retailer_waits(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    report = cases.start(
        starts(
            start_line("ST01", 1, start_date="2025-04-21"), start_line("ST02", 1, new_retailer_code="C0003")
        ),
        OPERATOR,
    )
    assert report.matched == 0
    assert [r.record.state for r in report.rows] == [CaseState.PENDING, CaseState.PENDING]
    assert status_of(uow, 1) is SupplyPointStatus.PENDING_CANCELLATION


def test_halves_expire_after_the_deadline_and_the_point_is_active_again(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory, clock: MovableClock
) -> None:
    # Received Tue 1 April: five business days end on Tue 8 April.
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    clock.now = dt.datetime(2025, 4, 8, 14, 59, tzinfo=dt.UTC)  # 23:59 JST on the deadline day
    assert cases.expire(OPERATOR) == []
    clock.now = dt.datetime(2025, 4, 8, 15, 0, tzinfo=dt.UTC)  # 00:00 JST on 9 April
    (expired,) = cases.expire(OPERATOR)
    assert (expired.application_id, expired.state) == ("AP01", CaseState.EXPIRED)
    assert "2025-04-08" in expired.reason
    assert "開始申込" in expired.reason
    assert expired.registry_status is SupplyPointStatus.ACTIVE
    assert status_of(uow, 1) is SupplyPointStatus.ACTIVE
    # A start received on 2 April is in time by its own deadline (9 April), but its cancellation is gone.
    late = cases.start(starts(start_line("ST01", 1)), OPERATOR)
    assert (late.matched, late.rows[0].record.state) == (0, CaseState.PENDING)
    clock.days_later(1)
    (start,) = cases.expire(OPERATOR)
    assert (start.application_id, start.state) == ("ST01", CaseState.EXPIRED)
    assert "2025-04-09" in start.reason
    assert "廃止申込" in start.reason
    assert [d["tag"] for _, _, d in events(uow)] == [
        "switching:submitted",
        "switching:expired",
        "switching:started",
        "switching:expired",
    ]


def test_an_expired_cancellation_no_longer_blocks_a_new_one(
    cases: SwitchingCaseService, clock: MovableClock
) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    clock.days_later(10)
    report = cases.submit(
        cancels(
            application_line("AP02", 1, received_at="2025-04-11T10:00:00+09:00", cancel_date="2025-04-30")
        ),
        OPERATOR,
    )
    assert report.expired == 1
    assert report.rows[0].record.state is CaseState.PENDING


def test_withdraw_a_pending_cancellation(cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory) -> None:
    cases.submit(cancels(application_line("AP01", 1)), OPERATOR)
    with pytest.raises(NotFound):
        cases.withdraw("AP01", "C0003", "顧客都合", OPERATOR)  # another retailer's number
    with pytest.raises(InvalidInput, match="理由"):
        cases.withdraw("AP01", "B0002", "  ", OPERATOR)
    (entry,) = cases.withdraw("AP01", "Ｂ０００２", "顧客都合により取下げ", OPERATOR)
    assert (entry.state, entry.reason) == (CaseState.WITHDRAWN, "取下げ: 顧客都合により取下げ")
    assert status_of(uow, 1) is SupplyPointStatus.ACTIVE
    with pytest.raises(InvalidInput, match="取下げ"):
        cases.withdraw("AP01", "B0002", "二度目", OPERATOR)


def test_another_areas_points_are_answered_as_unknown(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    tokyo = SwitchingActor("k.tokyo", area=Area.TOKYO)
    report = cases.submit(cancels(application_line("AP01", 1)), tokyo)
    assert report.rows[0].record.error_codes == (ErrorCode.SUPPLY_POINT,)
    assert report.submission.area is Area.TOKYO
    assert status_of(uow, 1) is SupplyPointStatus.ACTIVE
    with pytest.raises(NotFound):
        cases.status(point_id(1), tokyo)
    with pytest.raises(NotFound):
        cases.results(report.submission_id, SwitchingActor("k.osaka", area=Area.KANSAI), Action.VIEW)
    assert cases.results(report.submission_id, tokyo, Action.EXPORT).rows == report.rows


def test_a_failure_midway_leaves_nothing(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(switching_repo.SqlSwitchingRepository, "add_history", broken)
    with pytest.raises(RuntimeError):
        cases.submit(cancels(*MIXED), OPERATOR)
    assert table_sizes(uow) == (0, 0, 0)
    assert status_of(uow, 1) is SupplyPointStatus.ACTIVE
    monkeypatch.undo()
    # The file was not taken: it can be submitted once the fault is gone.
    assert cases.submit(cancels(*MIXED), OPERATOR).rows[0].record.state is CaseState.PENDING


def test_applications_between_is_half_open_and_ordered(
    cases: SwitchingCaseService, uow: SqlUnitOfWorkFactory
) -> None:
    cases.submit(
        cancels(
            application_line("AP03", 3, received_at="2025-04-01T11:00:00+09:00"),
            application_line("AP02", 2, received_at="2025-04-01T10:00:00+09:00"),
            application_line("AP01", 1, received_at="2025-04-01T10:00:00+09:00"),
            application_line("AP04", 4, received_at="2025-04-01T12:00:00+09:00", cancel_date="x"),
        ),
        OPERATOR,
    )
    cases.start(starts(start_line("ST01", 1)), OPERATOR)
    start = dt.datetime(2025, 4, 1, 1, 0, tzinfo=dt.UTC)  # 10:00 JST
    with uow() as work:
        found = work.switching.applications_between(start, start + dt.timedelta(hours=2))
        everything = work.switching.applications_between(start, start + dt.timedelta(days=2))
    assert [a.application_id for a in found] == ["AP01", "AP02", "AP03"]
    assert [a.application_id for a in everything] == ["AP01", "AP02", "AP03", "AP04", "ST01"]
    ap01, invalid, st01 = everything[0], everything[3], everything[4]
    assert ap01.received_at == start
    assert ap01.received_at.tzinfo is not None
    assert (ap01.half, ap01.current_retailer_code, ap01.new_retailer_code) == (Half.CANCEL, "A0001", "B0002")
    assert ap01.submitted_at == dt.datetime(2025, 4, 2, 1, 0, tzinfo=dt.UTC)
    assert (invalid.result, invalid.state, invalid.error_codes) == (ResultKind.INVALID, CaseState.INVALID, ())
    assert (st01.half, st01.state) == (Half.START, CaseState.MATCHED)
    assert st01.state_changed_at == dt.datetime(2025, 4, 2, 1, 0, tzinfo=dt.UTC)
