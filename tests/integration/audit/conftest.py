"""Fixtures of the tamper-evident log tests: a migrated database (SQLite and PostgreSQL), the owner's
engine for tampering, a test clock, and a key store in a temporary SHADAN_HOME."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import ORIGIN, SETTLE, Clock
from sqlalchemy import Engine

from shadan.audit.keys import FileKeyStore
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.services.audit_log import AuditLogService, CheckpointPolicy
from shadan.store.database import make_engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def owner_engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The table owner: on PostgreSQL the only role that can rewrite the log (the attacker's view)."""
    url = db_url if db_url.startswith("sqlite") else request.getfixturevalue("postgres_database")[0]
    engine = make_engine(url)
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
