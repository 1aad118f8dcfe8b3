"""Setting aside an entry the sequencer left out (services/entry_set_aside.py) on both databases: only such
an entry, only as read, on the owner's connection, recorded in the log; verification passes again."""

from __future__ import annotations

import hashlib

import pytest
from audit_support import AUDITOR, SETTLE, Clock, append, event
from sqlalchemy import Engine, select, text

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.set_aside import SqlLeftOutEntries
from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.vocabulary import AuditTag
from shadan.services.archive import DeletionFailed
from shadan.services.audit_log import AuditLogService
from shadan.services.entry_set_aside import EntrySetAsideService, LeftOutEntry
from shadan.services.identity import Actor
from shadan.store.database import make_engine

OPERATOR = Actor.operator("k.suzuki", terminal_id="OSK-ADM-01")


@pytest.fixture
def crafted(engine: Engine, owner_engine: Engine) -> str:
    """Seq 11: an entry the sequencer cannot read, between two runs of events (seq 12 after it)."""
    entry = '{"ts":"\\ud800"}' if engine.dialect.name == "sqlite" else '{"ts":"no time"}'
    append(engine, 1, 10)
    with owner_engine.begin() as connection:
        connection.execute(text("INSERT INTO access_log_entries (entry) VALUES (:entry)"), {"entry": entry})
    append(engine, 12, 1)
    return entry


def _set_aside(engine: Engine, owner_url: str, clock: Clock) -> EntrySetAsideService:
    return EntrySetAsideService(SqlLeftOutEntries(engine, lambda: make_engine(owner_url)), clock, "shadan")


def test_a_left_out_entry_is_set_aside_recorded_and_the_log_verifies_again(
    engine: Engine, owner_url: str, service: AuditLogService, clock: Clock, crafted: str
) -> None:
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()  # the horizon passes 11
    assert service.verify(None, run_by=AUDITOR).exit_code == 12
    set_aside = _set_aside(engine, owner_url, clock)
    entry = set_aside.entry(11)
    assert entry.stored == crafted.encode("utf-8")
    recorded = set_aside.set_aside(entry, "  事案 2026-17：\\u 検証で発見  ", OPERATOR)
    with engine.connect() as connection:
        assert (
            connection.execute(select(access_log_entries.c.seq).where(access_log_entries.c.seq == 11)).all()
            == []
        )
        seq, stored = connection.execute(
            select(access_log_entries).order_by(access_log_entries.c.seq.desc()).limit(1)
        ).one()
    logged = event_from_entry(int(seq), stored)
    assert logged == recorded
    assert (logged.detail, logged.resource_ids, logged.account_id) == (
        str(AuditTag.LOG_ENTRY_SET_ASIDE),
        ("11",),
        "cli:k.suzuki",
    )
    digest = hashlib.sha256(crafted.encode("utf-8")).hexdigest()
    assert logged.extra == {"sha256": digest, "bytes": len(crafted), "reason": "事案 2026-17：\\u 検証で発見"}
    service.checkpoint()
    report = service.verify(None, run_by=AUDITOR)
    assert report.ok, report.failures


def test_only_an_entry_without_a_leaf_that_the_sequencer_cannot_read_is_set_aside(
    engine: Engine, owner_url: str, service: AuditLogService, clock: Clock, crafted: str
) -> None:
    set_aside = _set_aside(engine, owner_url, clock)
    with pytest.raises(NotFound, match="連番 99 のエントリはありません"):
        set_aside.entry(99)
    with pytest.raises(InvalidInput, match="順序付けで読めるため"):
        set_aside.entry(12)  # waiting, readable
    service.checkpoint()
    with pytest.raises(InvalidInput, match="木に記録されているため"):
        set_aside.entry(10)
    with pytest.raises(InvalidInput, match="理由を入力"):
        set_aside.set_aside(set_aside.entry(11), " \u3000 ", OPERATOR)
    assert set_aside.entry(11).stored == crafted.encode("utf-8")  # nothing removed


def test_an_entry_changed_after_it_was_read_is_not_removed(
    engine: Engine, owner_engine: Engine, owner_url: str, clock: Clock, crafted: str
) -> None:
    set_aside = _set_aside(engine, owner_url, clock)
    entry = set_aside.entry(11)
    with owner_engine.begin() as connection:
        changed = crafted[:-1] + ',"x":1}'  # still unreadable, other bytes
        connection.execute(text("UPDATE access_log_entries SET entry = :e WHERE seq = 11"), {"e": changed})
    with pytest.raises(InvalidInput, match="読んだ後に変わった"):
        set_aside.set_aside(entry, "reason", OPERATOR)
    with engine.connect() as connection:
        readable = connection.execute(
            text("SELECT entry FROM access_log_entries WHERE seq = 12")
        ).scalar_one()
    forged = LeftOutEntry(
        12, readable.encode("utf-8")
    )  # a readable event's own bytes, never read as left out
    with pytest.raises(InvalidInput, match="順序付けで読めるため"):
        set_aside.set_aside(forged, "reason", OPERATOR)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM access_log_entries")).scalar_one() == 12


def test_the_application_role_cannot_set_an_entry_aside(
    engine: Engine, db_url: str, clock: Clock, crafted: str
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("roles are PostgreSQL's")
    set_aside = _set_aside(engine, db_url, clock)  # the application role's URL where the owner's belongs
    with pytest.raises(DeletionFailed, match="SHADAN_MIGRATION_DATABASE_URL"):
        set_aside.set_aside(set_aside.entry(11), "reason", OPERATOR)
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(13)])  # the failed transaction left the log usable
        assert connection.execute(text("SELECT count(*) FROM access_log_entries")).scalar_one() == 13
