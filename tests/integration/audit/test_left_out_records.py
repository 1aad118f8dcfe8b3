"""The records of entries the sequencer left out (left_out_records.py) on both databases: each is recorded
once, in the tree; an entry left out as the newest is passed, not taken for a stall; a row removed without
being set aside, or changed, is reported."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from functools import partial

import pytest
from archive_support import OPERATOR as ARCHIVIST
from archive_support import log_month, utc
from audit_support import AUDITOR, SETTLE, Clock, append
from sqlalchemy import Engine, select, text

from shadan.audit.entry_events import event_from_entry
from shadan.audit.event_view import INDEXES
from shadan.audit.left_out_records import open_records
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.sequencer import Sequencer
from shadan.audit.set_aside import SqlLeftOutEntries
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_tables import log_leaves
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import AuditTag
from shadan.services.archive import ArchiveService
from shadan.services.audit_log import AuditLogService, LogFailureKind, VerificationReport
from shadan.services.entry_set_aside import SEQUENCER, EntrySetAsideService, LeftOutEntry
from shadan.services.identity import Actor, EventFactory
from shadan.store.database import make_engine

OPERATOR = Actor.operator("k.suzuki")


def unreadable(engine: Engine, ts: str = "2025-04-01T00:00:11Z") -> str:
    """An entry the sequencer cannot read: on SQLite an id of a lone surrogate escape (its `ts` a time),
    on PostgreSQL a `ts` that is no time."""
    if engine.dialect.name == "sqlite":
        return f'{{"ts":"{ts}","resource_ids":["\\ud800"]}}'
    return '{"ts":"no time"}'


def write(owner_engine: Engine, entry: str) -> None:
    with owner_engine.begin() as connection:
        connection.execute(text("INSERT INTO access_log_entries (entry) VALUES (:entry)"), {"entry": entry})


def records(engine: Engine) -> list[tuple[int, AccessEvent, bool]]:
    """Every `log:entry_left_out` event: its seq, the event, whether it has a leaf."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(access_log_entries.c.seq, access_log_entries.c.entry, log_leaves.c.leaf_index)
            .outerjoin(log_leaves, log_leaves.c.seq == access_log_entries.c.seq)
            .order_by(access_log_entries.c.seq)
        ).all()
    events = [(int(seq), event_from_entry(int(seq), entry), leaf is not None) for seq, entry, leaf in rows]
    return [
        (seq, logged, has_leaf)
        for seq, logged, has_leaf in events
        if logged is not None and logged.detail == str(AuditTag.LOG_ENTRY_LEFT_OUT)
    ]


def findings(report: VerificationReport) -> list[tuple[LogFailureKind, int | None]]:
    return [(failure.kind, failure.seq) for failure in report.failures]


def settled(service: AuditLogService, clock: Clock) -> None:
    """Sequenced, and again once settled: the horizon passes the entries left out."""
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()


def set_aside(engine: Engine, owner_url: str, clock: Clock, seq: int) -> None:
    service = EntrySetAsideService(SqlLeftOutEntries(engine, lambda: make_engine(owner_url)), clock, "shadan")
    service.set_aside(service.entry(seq), "事案 2026-17", OPERATOR)


def test_an_entry_left_out_is_recorded_once_whichever_server_finds_it(
    engine: Engine, owner_engine: Engine, db_url: str, clock: Clock
) -> None:
    append(engine, 1, 10)
    entry = unreadable(engine)
    write(owner_engine, entry)  # seq 11
    append(engine, 12, 1)
    assert Sequencer(engine, clock, SETTLE).sequence() == 12  # and its record, in the same run
    [(seq, record, has_leaf)] = records(engine)
    assert (seq, has_leaf) == (13, True)
    assert (record.account_id, record.system, record.resource_ids) == (
        SEQUENCER.account_id,
        "shadan",
        ("11",),
    )
    assert record.extra == {"sha256": hashlib.sha256(entry.encode("utf-8")).hexdigest(), "bytes": len(entry)}
    assert record.ts == clock()
    other_server = make_engine(db_url)
    try:
        assert Sequencer(other_server, clock, SETTLE).sequence() == 12  # finds 11 again, recorded already
    finally:
        other_server.dispose()
    assert len(records(engine)) == 1


def test_a_record_still_waiting_for_its_leaf_counts(
    engine: Engine, owner_engine: Engine, clock: Clock
) -> None:
    """Another server's record (seq 6), committed beyond the batch that finds the entry (4 and 5), so that
    it has no leaf when that batch commits."""
    append(engine, 1, 2)
    entry = unreadable(engine)
    write(owner_engine, entry)  # seq 3
    append(engine, 4, 2)
    waiting = LeftOutEntry(3, entry.encode("utf-8")).event(
        EventFactory("shadan"), clock(), SEQUENCER, AuditTag.LOG_ENTRY_LEFT_OUT
    )
    with engine.begin() as connection:
        SqlAccessLog(connection).append([waiting])
    assert Sequencer(engine, clock, SETTLE, batch=2).sequence() == 5
    assert [(seq, has_leaf) for seq, _, has_leaf in records(engine)] == [(6, True)]


def test_a_record_by_another_account_does_not_stand_for_the_sequencers(
    engine: Engine, owner_engine: Engine, clock: Clock
) -> None:
    """An event tagged as a record and naming the entry, by an operator's account (seq 4): verification
    holds entries only to the sequencer's records, so it must not keep the sequencer from making one."""
    append(engine, 1, 2)
    entry = unreadable(engine)
    write(owner_engine, entry)  # seq 3
    impostor = LeftOutEntry(3, entry.encode("utf-8")).event(
        EventFactory("shadan"), clock(), OPERATOR, AuditTag.LOG_ENTRY_LEFT_OUT
    )
    with engine.begin() as connection:
        SqlAccessLog(connection).append([impostor])
    assert Sequencer(engine, clock, SETTLE).sequence() == 4  # 1, 2, 4 and the sequencer's record
    assert [(seq, record.account_id) for seq, record, _ in records(engine)] == [
        (4, OPERATOR.account_id),
        (5, SEQUENCER.account_id),
    ]


@pytest.mark.parametrize("then", ["kept", "set aside"])
def test_an_entry_changed_after_it_was_left_out_is_reported(
    engine: Engine, owner_engine: Engine, owner_url: str, service: AuditLogService, clock: Clock, then: str
) -> None:
    """Other bytes in its row than those recorded, or set aside as other bytes: the record and the row
    disagree, reported as a changed event (exit 10); the row still waiting outside the tree besides."""
    append(engine, 1, 10)
    write(owner_engine, unreadable(engine))  # seq 11
    append(engine, 12, 1)
    settled(service, clock)
    with owner_engine.begin() as connection:
        changed = unreadable(engine)[:-1] + ',"x":1}'
        connection.execute(text("UPDATE access_log_entries SET entry = :e WHERE seq = 11"), {"e": changed})
    expected = [(LogFailureKind.EVENT_CHANGED, 11), (LogFailureKind.EVENT_UNLOGGED, 11)]
    if then == "set aside":
        set_aside(engine, owner_url, clock, 11)
        service.checkpoint()
        expected = [(LogFailureKind.EVENT_CHANGED, 11)]
    report = service.verify(None, run_by=AUDITOR)
    assert findings(report) == expected
    assert report.exit_code == 10
    assert (
        report.failures[0].detail_en
        == "the entry of seq 11 differs from what it was when it was left out of the tree"
    )


@pytest.mark.parametrize("why", ["by hand", "set aside"])
def test_an_entry_left_out_as_the_newest_is_passed_not_taken_for_a_stall(
    engine: Engine, owner_engine: Engine, owner_url: str, service: AuditLogService, clock: Clock, why: str
) -> None:
    """Its own time is an hour before the newest event's: without its record after it, nothing after it
    would get a leaf, the horizon would never pass it, and verification would name it as a stalled
    sequencer's (exit 25) rather than as an entry left out (exit 12)."""
    if engine.dialect.name == "postgresql":
        pytest.skip("an entry PostgreSQL cannot read states no time to wait since")
    append(engine, 1, 10)
    write(owner_engine, unreadable(engine))  # seq 11, stating the time of the events around it
    settled(service, clock)
    clock.advance(2 * 3600)
    report = service.verify(None, run_by=AUDITOR)
    assert findings(report) == [(LogFailureKind.EVENT_UNLOGGED, 11)]
    status = SqlLogSearch(engine, time_limit_seconds=10)
    assert status.left_out_entries(5) == (11,)
    if why == "by hand":
        with owner_engine.begin() as connection:
            connection.execute(text("DELETE FROM access_log_entries WHERE seq = 11"))
        report = service.verify(None, run_by=AUDITOR)
        assert findings(report) == [(LogFailureKind.EVENT_MISSING, 11)]
        assert (report.exit_code, report.first_bad_seq) == (11, 11)
        assert "set-aside" in report.failures[0].detail_en
    else:
        set_aside(engine, owner_url, clock, 11)
        assert status.left_out_entries(5) == ()
        assert service.verify(None, run_by=AUDITOR).ok  # the set-aside event still waiting
        service.checkpoint()
        assert service.verify(None, run_by=AUDITOR).ok


def test_a_removal_is_found_where_an_entry_that_is_no_json_stops_the_index_of_accounts(
    engine: Engine, owner_engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    """With the view's indexes dropped and the check switched off (reported: exit 22), SQLite cannot
    compute the account of an event in the tree edited into no JSON; verification then reads the records
    from every event in the tree, and still finds the removed entry's. The status page does not: it says
    it cannot tell."""
    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL checks every entry: only its owner could drop the check")
    append(engine, 1, 10)
    with owner_engine.begin() as connection:
        for index in INDEXES:
            connection.exec_driver_sql(f"DROP INDEX {index}")
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")  # this connection's only
        for _ in range(2):
            connection.execute(text("INSERT INTO access_log_entries (entry) VALUES ('no JSON')"))
    settled(service, clock)  # 11 and 12 left out, each recorded
    assert [record.resource_ids for _, record, _ in records(engine)] == [("11",), ("12",)]
    status = SqlLogSearch(engine, time_limit_seconds=10)
    assert status.left_out_entries(5) == (11, 12)
    with owner_engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 11"))
        connection.execute(text("UPDATE access_log_entries SET entry = 'no JSON' WHERE seq = 5"))
    assert status.left_out_entries(5) is None
    report = service.verify(None, run_by=AUDITOR)
    assert findings(report) == [
        (LogFailureKind.EVENT_CHANGED, 5),
        (LogFailureKind.EVENT_MISSING, 11),
        (LogFailureKind.EVENT_UNLOGGED, 12),
        (LogFailureKind.CHECKPOINT_MISMATCH, None),  # of 5, as its index rows below
        (LogFailureKind.SEARCH_INDEX, 5),
        (LogFailureKind.KEY_CONSTRAINT, None),
    ]
    with engine.connect() as connection:  # retention's question, read the same way: both keep their
        # month; the events before the records keep theirs for neither.
        assert open_records(connection, [(0, 12), (0, 10)]) == [(11, 12), ()]


@pytest.fixture
def three_months(
    engine: Engine, owner_engine: Engine, tlog: SqlTransparencyLog, archive: ArchiveService, clock: Clock
) -> Callable[[Callable[[], None]], None]:
    """April, May and June 2019, archived in July; then it is 15 June 2024. In April an entry the sequencer
    cannot read (seq 11) and its record (22); the function given is called before May's events."""
    return partial(_three_months, engine, owner_engine, tlog, archive, clock)


def _three_months(
    engine: Engine,
    owner_engine: Engine,
    tlog: SqlTransparencyLog,
    archive: ArchiveService,
    clock: Clock,
    in_may: Callable[[], None],
) -> None:
    log_month(engine, tlog, clock, utc(2019, 4, 10), range(1, 11))
    write(owner_engine, unreadable(engine, "2019-04-10T00:00:20Z"))  # seq 11
    log_month(engine, tlog, clock, utc(2019, 4, 11), range(11, 21))  # seqs 12-21, the record 22
    clock.advance(SETTLE.total_seconds() + 1)
    tlog.sequence()
    clock.now = utc(2019, 5, 10)
    in_may()
    log_month(engine, tlog, clock, utc(2019, 5, 10), range(21, 31))
    log_month(engine, tlog, clock, utc(2019, 6, 10), range(31, 41))
    clock.now = utc(2019, 7, 2)
    archive.archive(ARCHIVIST)
    tlog.sequence()  # the archiving's own event, as the periodic job sequences it within seconds
    clock.now = utc(2024, 6, 15)


@pytest.mark.parametrize("then", ["set aside", "removed by hand"])
def test_retention_keeps_the_record_of_an_entry_left_out_until_it_is_set_aside(
    three_months: Callable[[Callable[[], None]], None],
    engine: Engine,
    owner_engine: Engine,
    owner_url: str,
    tlog: SqlTransparencyLog,
    service: AuditLogService,
    archive: ArchiveService,
    clock: Clock,
    then: str,
) -> None:
    """The record is April's, and April expires with the entry's row still there: deleting April would take
    the record verification holds the entry to, so April is kept, naming the entry, and May goes. Set
    aside, the entry needs its record no more, and April goes too; removed by hand (reported as deleted),
    it never does."""
    three_months(lambda: None)
    plan = archive.retention_plan()
    assert [(item.segment.segment, item.left_out) for item in plan.expired] == [
        ("2019-04", (11,)),
        ("2019-05", ()),
    ]
    result = archive.apply_retention(ARCHIVIST)
    tlog.sequence()
    assert [deleted.segment for deleted in result.deleted] == ["2019-05"]
    assert [(item.segment.segment, item.left_out) for item in result.kept] == [("2019-04", (11,))]
    assert findings(service.verify(None, run_by=AUDITOR)) == [(LogFailureKind.EVENT_UNLOGGED, 11)]
    if then == "set aside":
        set_aside(engine, owner_url, clock, 11)
    else:
        with owner_engine.begin() as connection:
            connection.execute(text("DELETE FROM access_log_entries WHERE seq = 11"))
    result = archive.apply_retention(ARCHIVIST)
    service.checkpoint()
    report = service.verify(None, run_by=AUDITOR)
    if then == "set aside":
        assert [deleted.segment for deleted in result.deleted] == ["2019-04"]
        assert report.ok, report.failures
    else:
        assert [(item.segment.segment, item.left_out) for item in result.kept] == [("2019-04", (11,))]
        assert findings(report) == [(LogFailureKind.EVENT_MISSING, 11)]


def test_a_record_the_sequencer_could_not_have_made_is_held_against_nothing(
    engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    """Records by `system:sequencer` forged by a direct write: of an event in the tree (seq 5) and of a seq
    after their own (99). Held against their entries, the first would report seq 5 as changed and the
    second 99 as deleted, and both would keep their month from retention; they say nothing of an entry
    left out, and stay in the log like any event."""
    append(engine, 1, 10)
    settled(service, clock)
    forged = [
        LeftOutEntry(seq, b"other bytes").event(
            EventFactory("shadan"), clock(), SEQUENCER, AuditTag.LOG_ENTRY_LEFT_OUT
        )
        for seq in (5, 99)
    ]
    with engine.begin() as connection:
        SqlAccessLog(connection).append(forged)
    settled(service, clock)
    assert [(seq, has_leaf) for seq, _, has_leaf in records(engine)] == [(11, True), (12, True)]
    report = service.verify(None, run_by=AUDITOR)
    assert report.ok, report.failures
    with engine.connect() as connection:
        assert open_records(connection, [(0, 12)]) == [()]
    assert SqlLogSearch(engine, time_limit_seconds=10).left_out_entries(5) == ()


def test_the_month_that_set_an_entry_aside_is_kept_while_its_record_is(
    three_months: Callable[[Callable[[], None]], None],
    engine: Engine,
    owner_url: str,
    tlog: SqlTransparencyLog,
    service: AuditLogService,
    archive: ArchiveService,
    clock: Clock,
) -> None:
    """The record is April's, the setting aside May's, and April is held: deleting May would leave April's
    record without the event that closes it, reported as an entry removed without being set aside, and
    April kept for good. May goes once April has."""
    three_months(lambda: set_aside(engine, owner_url, clock, 11))
    hold = archive.place_hold(dt.date(2019, 4, 1), dt.date(2019, 4, 30), "調査 2024-17", OPERATOR)
    result = archive.apply_retention(ARCHIVIST)
    tlog.sequence()
    assert result.deleted == ()
    assert [(item.segment.segment, item.hold, item.left_out) for item in result.kept] == [
        ("2019-04", hold, ()),
        ("2019-05", None, (11,)),
    ]
    assert service.verify(None, run_by=AUDITOR).ok
    archive.release_hold(hold.hold_id, OPERATOR)
    assert [deleted.segment for deleted in archive.apply_retention(ARCHIVIST).deleted] == ["2019-04"]
    assert [deleted.segment for deleted in archive.apply_retention(ARCHIVIST).deleted] == ["2019-05"]
    tlog.sequence()
    report = service.verify(None, run_by=AUDITOR)
    assert report.ok, report.failures
