"""Engines for SQLite (WAL, the embedded default) and PostgreSQL, and running the migrations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url

from shadan.store.sqlite_writes import WRITE_WAIT_S, GatedConnection, WriteGate, gate_for

MIGRATIONS = Path(__file__).with_name("migrations")
# anyio's default limit of worker threads, which run the blocking part of each request: with a pool at
# least this large every thread keeps a connection, and none is opened and closed per request.
POOL_SIZE = 40
POOL_OVERFLOW = 10
BUSY_TIMEOUT_S = 30.0
# JSON columns are stored compact, keys sorted, in UTF-8: the form the access log's canonical entry gives
# them (audit/entry.py), so verification can take stored JSON as it is (audit/entry_sql.py).
# One encoder made once: json.dumps with options builds a new one on every call.
JSON_TEXT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def make_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """`busy_timeout_s` (SQLite): how long SQLite itself waits for a writer it does not know about (the
    migrations, a sqlite3 shell). shadan's own writers, in this process or another, queue on the file's
    write gate (sqlite_writes) before SQLite sees them."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
        return create_engine(url, pool_pre_ping=True, json_serializer=JSON_TEXT, **kwargs)
    database = parsed.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if on_disk:
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
    connect_args = {"check_same_thread": False, "timeout": busy_timeout_s, "factory": GatedConnection}
    engine = create_engine(url, connect_args=connect_args, json_serializer=JSON_TEXT, **kwargs)
    # Every engine of this process on the same file shares its gate (tests run "two servers" in one).
    gate = gate_for(database) if on_disk else None

    def on_connect(dbapi_connection: GatedConnection, _record: Any) -> None:
        dbapi_connection.gate = gate
        _sqlite_pragmas(dbapi_connection, busy_timeout_s, gate)

    event.listen(engine, "connect", on_connect)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_s: float, gate: WriteGate | None) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        _switch_to_wal(cursor, gate)
    # FULL: a committed transaction (and so an acknowledged access event) survives power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any, gate: WriteGate | None) -> None:
    """Once per database file (WAL is persistent). The switch needs the file to itself, and two
    connections switching at once refuse each other at once ("database is locked", no busy wait), so
    it queues on the write gate like a writer."""
    if gate is None:
        cursor.execute("PRAGMA journal_mode=WAL")
        return
    gate.acquire(WRITE_WAIT_S)
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        gate.release()


def alembic_config(url: str, app_role: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if app_role:
        config.set_main_option("shadan_app_role", app_role)
    return config


def migrate(url: str, app_role: str | None = None) -> None:
    """Bring the schema to the newest revision; on PostgreSQL `app_role` gets only the grants it needs."""
    command.upgrade(alembic_config(url, app_role), "head")
