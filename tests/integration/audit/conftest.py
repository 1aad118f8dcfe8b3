"""Fixtures of the tamper-evident log tests: a migrated database (SQLite and PostgreSQL), the owner's
engine for tampering, a test clock, a key store in a temporary SHADAN_HOME, and the archive service wired
as bootstrap wires it (the owner role for deletions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audit_support import KEY_CONSTRAINTS, ORIGIN, SETTLE, Clock
from sqlalchemy import Engine, text

from shadan.audit.archive import SqlSegmentArchive
from shadan.audit.keys import FileKeyStore
from shadan.audit.retention import SqlRetention
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.services.archive import ArchiveService
from shadan.services.audit_log import AuditLogService, CheckpointPolicy
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.store.database import make_engine
from shadan.store.unit_of_work import SqlUnitOfWorkFactory


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def owner_engine(owner_url: str) -> Iterator[Engine]:
    """The table owner: on PostgreSQL the only role that can rewrite the log (the attacker's view)."""
    engine = make_engine(owner_url)
    yield engine
    engine.dispose()


@pytest.fixture
def keys(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "home" / "keys", ORIGIN)


@pytest.fixture
def tlog(engine: Engine, keys: FileKeyStore, clock: Clock) -> SqlTransparencyLog:
    return SqlTransparencyLog(engine, keys, clock, settle=SETTLE)


@pytest.fixture
def service(tlog: SqlTransparencyLog, clock: Clock) -> AuditLogService:
    return AuditLogService(tlog, clock, CheckpointPolicy(every_events=10, every_seconds=60), system="shadan")


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def archive(
    engine: Engine,
    owner_url: str,
    keys: FileKeyStore,
    clock: Clock,
    archive_dir: Path,
    service: AuditLogService,
) -> ArchiveService:
    return ArchiveService(
        service,
        SqlSegmentArchive(engine, archive_dir, keys, clock),
        SqlRetention(engine, lambda: make_engine(owner_url), keys, archive_dir),
        UnitOfWorkLogSink(SqlUnitOfWorkFactory(engine)),
        clock,
        "shadan",
        5,
    )


@pytest.fixture
def drop_key(owner_engine: Engine) -> Iterator[Callable[[str], None]]:
    """What the table owner can do to a key of KEY_CONSTRAINTS: drop its constraint on PostgreSQL; on
    SQLite, where a table keeps its constraints, rebuild the table without any. PostgreSQL's database is
    shared by the session: its constraints are put back (on emptied tables) afterwards."""
    dropped: list[str] = []

    def drop(key: str) -> None:
        table = key.split(".", maxsplit=1)[0]
        with owner_engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {KEY_CONSTRAINTS[key][0]}"))
                dropped.append(key)
                return
            connection.execute(text(f"CREATE TABLE {table}_plain AS SELECT * FROM {table}"))
            connection.execute(text(f"DROP TABLE {table}"))
            connection.execute(text("PRAGMA legacy_alter_table = ON"))  # the view is not checked on rename
            connection.execute(text(f"ALTER TABLE {table}_plain RENAME TO {table}"))

    yield drop
    with owner_engine.begin() as connection:
        for key in dropped:
            table, column = key.split(".")
            name, kind = KEY_CONSTRAINTS[key]
            connection.execute(text(f"TRUNCATE {table}"))
            connection.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {kind} ({column})"))
