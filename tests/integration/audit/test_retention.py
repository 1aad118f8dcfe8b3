"""Retention on SQLite and PostgreSQL: whole expired segments are deleted with the owner role under a signed
record, the log and the archive still verify afterwards, events deleted without a valid record are still
caught, a legal hold keeps its segments, and the application role can never delete an event."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from archive_support import OPERATOR, kinds, log_month, utc
from audit_support import AUDITOR, Clock
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from shadan.audit.archive_check import ParquetArchiveChecker
from shadan.audit.archive_format import DeletionRecord
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import access_events
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.note import Signer
from shadan.audit.record_tables import log_deletions, log_segments
from shadan.audit.segment_hashes import stored_subtrees
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_store import node_reader
from shadan.audit.verification import LogAudit
from shadan.audit.verify_chunks import Parallelism
from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.vocabulary import AuditTag
from shadan.services.archive import ArchiveService
from shadan.services.archive_report import ArchiveProblem
from shadan.services.audit_log import AuditLogService, LogFailureKind


@pytest.fixture
def old_months(engine: Engine, tlog: SqlTransparencyLog, clock: Clock, archive: ArchiveService) -> None:
    """April, May and June 2019 (10 events each) archived in July 2019; now it is 15 June 2024."""
    for month, first in ((4, 1), (5, 11), (6, 21)):
        log_month(engine, tlog, clock, utc(2019, month, 10), range(first, first + 10))
    clock.now = utc(2019, 7, 2)
    assert len(archive.archive(OPERATOR).segments) == 3
    tlog.sequence()  # the archiving's own event, as the periodic job sequences it within seconds
    clock.now = utc(2024, 6, 15)


def events_left(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(select(access_events.c.seq).order_by(access_events.c.seq)).scalars())


def check_archive(directory: Path, keys: FileKeyStore) -> list[str]:
    report = ParquetArchiveChecker().check(directory, [keys.signer().verifier.text()], lambda _t, _d: None)
    return kinds(report.failures)


def test_the_plan_lists_what_has_expired(archive: ArchiveService, old_months: None) -> None:
    plan = archive.retention_plan()
    # April 2019 expired on 1 May 2024, May on 1 June; June 2019 is kept until 1 July 2024.
    assert [(i.segment.segment, i.expired_at) for i in plan.expired] == [
        ("2019-04", utc(2024, 5, 1)),
        ("2019-05", utc(2024, 6, 1)),
    ]
    assert len(plan.deletable) == 2


def test_expired_segments_are_deleted_whole_with_a_signed_record(
    archive: ArchiveService,
    old_months: None,
    engine: Engine,
    service: AuditLogService,
    keys: FileKeyStore,
    archive_dir: Path,
) -> None:
    result = archive.apply_retention(OPERATOR)
    assert [(d.segment, d.first_leaf, d.end_leaf, d.event_count) for d in result.deleted] == [
        ("2019-04", 0, 10, 10),
        ("2019-05", 10, 20, 10),
    ]
    # The events of the two months are gone, June's and the log's own events stay.
    left = events_left(engine)
    assert not set(range(1, 21)) & set(left)
    assert set(range(21, 31)) <= set(left)
    with engine.connect() as connection:
        records = connection.execute(select(log_deletions).order_by(log_deletions.c.first_leaf)).all()
        deleted_at = connection.execute(select(log_segments.c.segment_id, log_segments.c.deleted_at)).all()
        tags = connection.execute(
            select(access_events.c.resource_ids).where(
                access_events.c.detail == AuditTag.LOG_SEGMENT_DELETED.value
            )
        ).scalars()
        assert sorted(ids[0] for ids in tags) == ["2019-04", "2019-05"]
    assert {s: at is not None for s, at in deleted_at} == {"2019-04": True, "2019-05": True, "2019-06": False}
    record = DeletionRecord.open(records[0].record, [keys.signer().verifier], keys.signer().name)
    assert (record.segment, record.first_leaf, record.end_leaf, record.count) == ("2019-04", 0, 10, 10)
    assert "5 年" in record.reason
    # The tree is untouched: `verify` passes, the deleted events excused by their records.
    report = service.verify(run_by=AUDITOR)
    assert report.ok, report.failures
    assert report.tree_size == 31  # the months' 30 events and the archiving's own
    # The archive keeps the records where the months were, and still verifies with the key alone.
    assert sorted(p.name for p in archive_dir.iterdir()) == [
        "2019-04.deletion",
        "2019-05.deletion",
        "2019-06.manifest.json",
        "2019-06.parquet",
    ]
    assert (archive_dir / "2019-04.deletion").read_text(encoding="utf-8") == records[0].record
    assert check_archive(archive_dir, keys) == []
    assert archive.retention_plan().expired == ()


def test_the_status_counts_match_the_events_left_without_counting_them(
    archive: ArchiveService, old_months: None, engine: Engine
) -> None:
    archive.apply_retention(OPERATOR)
    counts = SqlLogSearch(engine, time_limit_seconds=10.0).counts()
    assert counts.deleted_events == 20
    assert counts.events_total == len(events_left(engine))
    assert counts.events_total == counts.tree_size + counts.pending_events - 20


def test_events_deleted_without_a_record_are_still_caught(
    archive: ArchiveService, old_months: None, owner_engine: Engine, service: AuditLogService
) -> None:
    archive.apply_retention(OPERATOR)
    with owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 25"))
    report = service.verify(run_by=AUDITOR)
    assert kinds(report.failures) == [LogFailureKind.EVENT_MISSING]
    assert report.first_bad_seq == 25
    assert report.exit_code == 11


def test_a_forged_deletion_record_does_not_excuse_anything(
    archive: ArchiveService,
    old_months: None,
    owner_engine: Engine,
    service: AuditLogService,
    keys: FileKeyStore,
) -> None:
    """The owner deletes June's events and writes a record for them, right in every hash but signed by a
    key of their own under the log's name."""
    archive.apply_retention(OPERATOR)
    forger = Signer.generate(keys.signer().name)
    with owner_engine.begin() as connection:
        subtrees = stored_subtrees(node_reader(connection), 20, 30)
        june = DeletionRecord(
            forger.name, "2019-06", 20, 30, 10, "0" * 64, utc(2024, 6, 15), "forged", subtrees
        )
        connection.execute(text("DELETE FROM access_log_entries WHERE seq BETWEEN 21 AND 30"))
        connection.execute(
            log_deletions.insert().values(
                segment_id="2019-06",
                first_leaf=20,
                end_leaf=30,
                record=june.sign(forger),
                deleted_at=utc(2024, 6, 15),
            )
        )
    report = service.verify(run_by=AUDITOR)
    assert kinds(report.failures) == [LogFailureKind.DELETION_RECORD_INVALID, LogFailureKind.EVENT_MISSING]
    assert report.exit_code == 18
    assert "2019-06" in report.failures[0].detail_en
    assert report.first_bad_seq == 21


def test_a_record_altered_after_signing_does_not_verify(
    archive: ArchiveService, old_months: None, owner_engine: Engine, service: AuditLogService
) -> None:
    archive.apply_retention(OPERATOR)
    with owner_engine.begin() as connection:
        # Widen April's record to cover May's leaves too: its row and text no longer agree with the signature.
        connection.execute(
            update(log_deletions)
            .where(log_deletions.c.segment_id == "2019-04")
            .values(record=func.replace(log_deletions.c.record, "leaves 0 10", "leaves 0 20"), end_leaf=20)
        )
    report = service.verify(run_by=AUDITOR)
    assert LogFailureKind.DELETION_RECORD_INVALID in kinds(report.failures)
    assert report.exit_code == 18


def test_a_legal_hold_keeps_its_segments_until_released(
    archive: ArchiveService, old_months: None, engine: Engine
) -> None:
    hold = archive.place_hold(dt.date(2019, 5, 20), dt.date(2019, 5, 21), "調査 2024-17", OPERATOR)
    plan = archive.retention_plan()
    assert [(i.segment.segment, i.hold and i.hold.hold_id) for i in plan.expired] == [
        ("2019-04", None),
        ("2019-05", hold.hold_id),
    ]
    result = archive.apply_retention(OPERATOR)
    assert [d.segment for d in result.deleted] == ["2019-04"]
    assert [i.segment.segment for i in result.kept] == ["2019-05"]
    assert set(range(11, 21)) <= set(events_left(engine))

    released = archive.release_hold(hold.hold_id, OPERATOR)
    assert released.released_at is not None
    assert not released.active
    with pytest.raises(InvalidInput, match="解除済み"):
        archive.release_hold(hold.hold_id, OPERATOR)
    with pytest.raises(NotFound):
        archive.release_hold(999, OPERATOR)
    assert [d.segment for d in archive.apply_retention(OPERATOR).deleted] == ["2019-05"]
    with engine.connect() as connection:
        tags = connection.execute(
            select(access_events.c.detail).where(access_events.c.detail.like("log:hold%"))
        ).scalars()
        assert sorted(tags) == [AuditTag.LOG_HOLD_PLACED.value, AuditTag.LOG_HOLD_RELEASED.value]
    assert [h.hold_id for h in archive.holds()] == [hold.hold_id]


def test_a_segment_not_archived_is_never_deleted(
    archive: ArchiveService, engine: Engine, tlog: SqlTransparencyLog, clock: Clock
) -> None:
    log_month(engine, tlog, clock, utc(2019, 4, 10), range(1, 11))
    clock.now = utc(2026, 1, 1)
    assert archive.retention_plan().expired == ()
    assert archive.apply_retention(OPERATOR).deleted == ()
    assert events_left(engine) == list(range(1, 11))


def test_interrupted_file_work_is_finished_by_the_next_run(
    archive: ArchiveService, old_months: None, archive_dir: Path, keys: FileKeyStore
) -> None:
    archive.apply_retention(OPERATOR)
    (archive_dir / "2019-04.deletion").unlink()  # as if the process died right after the commit
    archive.apply_retention(OPERATOR)
    assert (archive_dir / "2019-04.deletion").exists()
    assert check_archive(archive_dir, keys) == []


def test_a_tampered_deletion_record_in_the_archive_is_caught(
    archive: ArchiveService, old_months: None, archive_dir: Path, keys: FileKeyStore
) -> None:
    archive.apply_retention(OPERATOR)
    path = archive_dir / "2019-05.deletion"
    path.write_text(
        path.read_text(encoding="utf-8").replace("leaves 10 20", "leaves 10 21"), encoding="utf-8"
    )
    assert check_archive(archive_dir, keys)[0] == ArchiveProblem.DELETION_RECORD_INVALID
    path.unlink()
    assert check_archive(archive_dir, keys) == [ArchiveProblem.SEGMENT_MISSING]


def test_the_application_role_cannot_delete_events(
    db_url: str, engine: Engine, archive: ArchiveService, old_months: None
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("roles are PostgreSQL's")
    with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 1"))
    assert archive.apply_retention(OPERATOR).deleted  # the owner role, which retention uses, can


def test_verification_on_worker_processes_accepts_the_records_too(
    archive: ArchiveService, old_months: None, engine: Engine, keys: FileKeyStore, owner_engine: Engine
) -> None:
    """Workers vouch only for intact chunks: deleted ones are checked again in the parent, records and all."""
    archive.apply_retention(OPERATOR)
    workers = Parallelism(workers=2, chunk_level=2, min_chunks=1)

    def audit() -> list[str]:
        report = LogAudit(engine, keys.verifiers(), keys.signer().name, parallelism=workers).run(
            None, lambda *_: None
        )
        return kinds(report.failures)

    assert audit() == []
    with owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 27"))
    assert audit() == [LogFailureKind.EVENT_MISSING]
