"""Fixtures of the tamper-evident log tests: a migrated database (SQLite and PostgreSQL), the owner's
engine for tampering, a test clock, a key store in a temporary SHADAN_HOME, and the archive service wired
as bootstrap wires it (the owner role for deletions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import ORIGIN, SETTLE, Clock
from sqlalchemy import Engine

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
