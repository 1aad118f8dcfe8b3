"""What is done to the log is itself recorded: every verification run (in `log_verifications`, read back
by `last_verification`) and every proof handed out are access events; a run is recorded whatever it
finds, and a database that refuses the record does not hide the findings."""

from __future__ import annotations

import json

import pytest
from audit_support import AUDITOR, ORIGIN, Clock, append, edit_sql
from sqlalchemy import Engine, select, text

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import access_log_entries
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, AuditTag, Outcome, ResourceType
from shadan.services.audit_log import AuditLogService, LogFailureKind


def _events_tagged(engine: Engine, tag: AuditTag) -> list[AccessEvent]:
    with engine.connect() as connection:
        rows = connection.execute(select(access_log_entries).order_by(access_log_entries.c.seq)).all()
    events = [event_from_entry(int(seq), entry) for seq, entry in rows]
    assert None not in events  # every entry here is one shadan wrote
    return [e for e in events if e is not None and e.detail == str(tag)]


def test_a_verification_run_is_recorded_with_its_access_event(
    engine: Engine, service: AuditLogService
) -> None:
    assert service.last_verification() is None
    append(engine, 1, 25)
    exported = service.checkpoint()
    report = service.verify(exported.note, run_by=AUDITOR)
    assert report.ok
    assert report.recorded

    run = service.last_verification()
    assert run is not None
    assert (run.run_by, run.origin, run.tree_size, run.events_checked) == (AUDITOR, ORIGIN, 25, 25)
    assert (run.ok, run.exit_code, run.first_bad_seq, run.failures) == (True, 0, None, ())
    assert run.trusted_size == 25
    assert run.started_at <= run.finished_at
    assert run.started_at.tzinfo is not None

    (event,) = _events_tagged(engine, AuditTag.LOG_VERIFIED)
    assert (event.account_id, event.action, event.outcome) == (AUDITOR, Action.ADMIN, Outcome.ALLOWED)
    assert (event.resource_type, event.resource_ids) == (ResourceType.ACCESS_LOG, (ORIGIN,))
    assert event.extra == {
        "ok": True,
        "exit_code": 0,
        "first_bad_seq": None,
        "tree_size": 25,
        "trusted_size": 25,
    }
    # The event is an ordinary event: the next run logs it (after sequencing), it is not a failure.
    service.checkpoint()
    assert service.verify(run_by=AUDITOR).tree_size == 26


def test_a_failed_run_is_recorded_with_every_kind_it_found(
    engine: Engine, owner_engine: Engine, service: AuditLogService
) -> None:
    append(engine, 1, 20)
    service.checkpoint()
    with owner_engine.begin() as connection:
        connection.execute(text(edit_sql(7, "purpose", "託送業務", "営業")))
    report = service.verify(run_by=AUDITOR)

    run = service.last_verification()
    assert run is not None
    assert (run.ok, run.exit_code, run.first_bad_seq) == (False, 10, 7)
    assert run.failures == report.failures  # kinds, places and both languages survive the round trip
    assert run.failures[0].kind is LogFailureKind.EVENT_CHANGED
    assert run.trusted_size is None
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT failures FROM log_verifications")).scalar_one()
    assert json.loads(stored)[0]["detail_ja"].startswith("連番 7")
    (event,) = _events_tagged(engine, AuditTag.LOG_VERIFIED)
    assert event.extra["exit_code"] == 10
    assert event.extra["first_bad_seq"] == 7


def test_the_latest_run_is_the_last_verification(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 5)
    service.checkpoint()
    service.verify(run_by="system:first")
    service.verify(run_by="system:second")
    run = service.last_verification()
    assert run is not None
    assert run.run_by == "system:second"


def test_a_proof_handed_out_is_an_export_event(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 12)
    text_ = service.export_proof(9, "system:auditor-2")
    assert text_.startswith("c2sp.org/tlog-proof@v1\n")
    (event,) = _events_tagged(engine, AuditTag.LOG_PROOF_EXPORTED)
    assert (event.account_id, event.action) == ("system:auditor-2", Action.EXPORT)
    assert (event.resource_type, event.resource_ids, event.extra) == (
        ResourceType.ACCESS_LOG,
        ("9",),
        {"seq": 9},
    )
    # `proof` alone (the auditors' pages log their downloads themselves) records nothing.
    service.proof(9)
    assert len(_events_tagged(engine, AuditTag.LOG_PROOF_EXPORTED)) == 1


def test_the_seq_of_an_event_is_found_by_its_id(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 3)
    assert service.seq_of_event("ev-000002") == 2
    assert service.seq_of_event("no-such-event") is None


class RefusingLog:
    """The transparency log over a database that refuses every append (e.g. a renumbered sequence)."""

    def __init__(self, tlog: SqlTransparencyLog) -> None:
        self._tlog = tlog

    def __getattr__(self, name: str) -> object:
        return getattr(self._tlog, name)

    def record_verification(self, *_: object) -> None:
        raise AuditUnavailable("アクセスログを記録できないため、処理を中止しました。")

    def record_event(self, *_: object) -> None:
        raise AuditUnavailable("アクセスログを記録できないため、処理を中止しました。")


def test_an_unrecordable_run_still_reports_what_it_found_and_a_proof_is_not_handed_out(
    engine: Engine, owner_engine: Engine, tlog: SqlTransparencyLog, service: AuditLogService, clock: Clock
) -> None:
    append(engine, 1, 10)
    service.checkpoint()
    with owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 4"))
    refusing = AuditLogService(RefusingLog(tlog), clock, system="shadan")  # type: ignore[arg-type]
    report = refusing.verify(run_by=AUDITOR)
    assert not report.recorded
    assert report.failures[0].kind is LogFailureKind.EVENT_MISSING
    assert service.last_verification() is None
    # No record of the export, no proof (fail closed).
    with pytest.raises(AuditUnavailable):
        refusing.export_proof(2, AUDITOR)
