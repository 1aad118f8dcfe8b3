"""Helpers of the tamper-evident log tests: a test clock, events through the real append path, and the
RFC 6962 root computed the naive way."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy import event as sql_events

from shadan.audit.entry import entry_bytes
from shadan.audit.log import SqlAccessLog, access_log_entries, event_to_row
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType

ORIGIN = "test.example/access-log"
SETTLE = dt.timedelta(seconds=30)
AUDITOR = "system:auditor"  # who runs `verify` in these tests (recorded with every run)

# Each key column of the log and the constraint that keeps it unique, as the migrations make it.
KEY_CONSTRAINTS = {
    "access_log_entries.seq": ("pk_access_log_entries", "PRIMARY KEY"),
    "log_leaves.leaf_index": ("pk_log_leaves", "PRIMARY KEY"),
    "log_leaves.seq": ("uq_log_leaves_seq", "UNIQUE"),
    "log_nodes.node_key": ("pk_log_nodes", "PRIMARY KEY"),
}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 4, 1, 0, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def event(i: int, **changes: Any) -> AccessEvent:
    values: dict[str, Any] = {
        "event_id": f"ev-{i:06d}",
        "ts": dt.datetime(2025, 4, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
        "system": "shadan",
        "account_id": "k.tanaka",
        "person_id": "p001",
        "company_id": "td06",
        "action": Action.VIEW,
        "resource_type": ResourceType.SUPPLY_POINT,
        "resource_ids": (f"06000011112222333{i:05d}",),
        "categories": ("supply_point", "location"),
        "outcome": Outcome.ALLOWED,
        "purpose": "託送業務",
        "terminal_id": "OSK-TD-0612",
        "source_ip": "10.0.0.7",
        "extra": {"n": i},
    }
    return AccessEvent(**(values | changes))


def append(engine: Engine, first: int, count: int) -> None:
    """Events through the production append path, committed together."""
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(i) for i in range(first, first + count)])


def append_at(engine: Engine, seq: int, i: int | None = None) -> None:
    """One event with an explicit seq: a gap or a late commit, on SQLite as on PostgreSQL."""
    entry = entry_bytes(event_to_row(event(i or seq)) | {"seq": seq}).decode("utf-8")
    with engine.begin() as connection:
        connection.execute(insert(access_log_entries).values(seq=seq, entry=entry))


def edit_sql(seq: int, field: str, old: str, new: str) -> str:
    """The same edit as one SQL statement (for a tampering done inside a test's transaction)."""
    return (
        f'UPDATE access_log_entries SET entry = replace(entry, \'"{field}":"{old}"\', \'"{field}":"{new}"\')'
        f" WHERE seq = {seq}"
    )


def edit_entry(engine: Engine, seq: int, **changes: Any) -> None:
    """What an owner could do to a stored event: rewrite fields of its entry, which stays well-formed
    canonical JSON (so only the log's hashes can tell)."""
    entries = access_log_entries.c
    with engine.begin() as connection:
        stored = connection.execute(select(entries.entry).where(entries.seq == seq)).scalar_one()
        edited = json.dumps(
            json.loads(stored) | changes, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )
        connection.execute(update(access_log_entries).where(entries.seq == seq).values(entry=edited))


def naive_root(hashes: list[bytes]) -> bytes:
    """MTH exactly as RFC 6962 §2.1 writes it, for comparison with the stored tree."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_root(hashes[:k]) + naive_root(hashes[k:])).digest()


@contextmanager
def listening(engine: Engine, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` hears the engine's event `name` (e.g. "after_cursor_execute") within the block only."""
    sql_events.listen(engine, name, listener)
    try:
        yield
    finally:
        sql_events.remove(engine, name, listener)


def statements_of(engine: Engine, action: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters) the engine runs for `action`, to explain their plans."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    with listening(engine, "before_cursor_execute", record):
        action()
    return seen


def sqlite_plans(engine: Engine, statements: list[tuple[str, Any]]) -> Iterator[tuple[str, list[str]]]:
    """Each statement with SQLite's plan for it, a step a line (EXPLAIN QUERY PLAN's detail column)."""
    with engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            yield statement, [row[3] for row in rows]
