"""The access-log event schema and its append path, in one module (DESIGN §4.3).

Events are appended inside the caller's transaction, so an event is durable exactly when the work it
records commits; a failure to write it aborts that work (fail closed).

What is stored is each event's canonical entry (entry.py), the exact text its Merkle leaf covers, in
`access_log_entries`; the view `access_events` derives its columns (event_view.py), by whose expressions
the readers find entries, and the readers take each event from its entry's text (entry_events.py). The entry
holds the event's `seq`, so the number is taken as the row is written: on SQLite from the largest seq in
the INSERT statement itself, which runs under the database's one write lock; on PostgreSQL from the
table's sequence, for the whole batch first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    cast,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from shadan.audit.entry import entry_around_seq
from shadan.audit.entry_events import event_from_entry
from shadan.audit.event_view import column_expression
from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.services.log_sink import UNAVAILABLE_MESSAGE

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The sequence number is the order of insertion; the sequencer gives leaf indices (sequencer.py).
access_log_entries = Table(
    "access_log_entries",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("entry", Text, nullable=False),
)

# The view of the entries' columns (event_view.py): read only, and not part of the tables Alembic
# compares (the migration creates it).
access_events = Table(
    "access_events",
    MetaData(),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("system", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("company_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_ids", JSON, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("withheld_categories", JSON, nullable=False),
    Column("terminal_id", String(128), nullable=False),
    Column("source_ip", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("policy_ids", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Column("extra", JSON, nullable=False),
)


# Events a statement: SQLite allows 32,766 parameters, two an event.
_BATCH = 5000
_NUMBERING_INSERT = (
    "INSERT INTO access_log_entries (seq, entry)"
    " SELECT last.seq + 1 + v.column1, v.column2 || (last.seq + 1 + v.column1) || v.column3"
    " FROM (SELECT coalesce(max(seq), 0) AS seq FROM access_log_entries) AS last,"
    " (VALUES {values}) AS v ORDER BY v.column1"
)
_NEXT_NUMBERS = text(
    "SELECT nextval(pg_get_serial_sequence('access_log_entries', 'seq')) FROM generate_series(1, :n)"
)
# One statement for the batch: the driver's executemany sent one INSERT a row (in a pipeline), and the
# server's work a statement cost more than the row's. The entries go as one text split on the server:
# an array parameter is escaped element by element in Python, and JSON text never holds a raw control
# character such as the record separator U+001E (inside strings it is written \u001e); were one there,
# the split would give more entries than numbers and unnest's NULLs would fail the insert.
_NUMBERED_INSERT = text(
    "INSERT INTO access_log_entries (seq, entry)"
    " SELECT * FROM unnest(CAST(:seqs AS bigint[]), string_to_array(:entries, chr(30)))"
)


def event_to_row(event: AccessEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "ts": event.ts.astimezone(dt.UTC),
        "system": event.system,
        "account_id": event.account_id,
        "person_id": event.person_id,
        "company_id": event.company_id,
        "action": str(event.action),
        "resource_type": str(event.resource_type),
        "resource_ids": list(event.resource_ids),
        "categories": list(event.categories),
        "withheld_categories": list(event.withheld_categories),
        "terminal_id": event.terminal_id,
        "source_ip": event.source_ip,
        "outcome": str(event.outcome),
        "purpose": event.purpose,
        "policy_ids": list(event.policy_ids),
        "detail": event.detail,
        "extra": dict(event.extra),
    }


def _entry_around_seq(event: AccessEvent) -> tuple[str, str]:
    halves = entry_around_seq(row := event_to_row(event))
    # JSON writes a NUL as \u0000: only an entry with that text (a NUL, or a backslash followed by
    # "u0000") is built again, without NULs.
    if any("\\u0000" in half for half in halves):
        halves = entry_around_seq(_without_nul(row))
    return halves


def _without_nul(value: Any) -> Any:
    """The value with every NUL character as U+FFFD. Neither database's view could give a NUL back
    (SQLite's JSON functions end the text there, PostgreSQL's text cannot hold it), and a request that
    sends one (a garbage id) must still be logged and answered."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_nul(v) for v in value]
    return value


def stored_entry(dialect: str) -> ColumnElement[Any]:
    """The `entry` column as readers select it: as bytes on SQLite, which stores text that is no UTF-8
    (given to it as a blob cast to text) and could not hand such text to Python at all."""
    entry = access_log_entries.c.entry
    return cast(entry, LargeBinary).label("entry") if dialect == "sqlite" else entry


def stated(dialect: str, name: str) -> ColumnElement[str]:
    """A field as the entry states it, computed by the database as the view computes its column: what
    the view's indexes cover (event_view.py). `ts` is the stated text here, never a cast that one
    crafted entry could make fail (canonical times sort as their text)."""
    expression = column_expression(dialect, name) if name != "ts" else STATED_TIME[dialect]
    return literal_column(expression, String)


STATED_TIME = {"sqlite": "json_extract(entry, '$.ts')", "postgresql": "(entry::jsonb ->> 'ts')"}


def _events(rows: Iterable[Any]) -> Iterator[AccessEvent]:
    """The events of (seq, stored entry) rows, read as they are needed; an entry that is no event is the
    auditors' to see (entry_events.py), not a person's own history."""
    events = (event_from_entry(int(seq), entry) for seq, entry in rows)
    return (event for event in events if event is not None)


class SqlAccessLog:
    """Append and query the access log on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, events: Sequence[AccessEvent]) -> None:
        try:
            for start in range(0, len(events), _BATCH):
                halves = [_entry_around_seq(e) for e in events[start : start + _BATCH]]
                if self._connection.dialect.name == "sqlite":
                    self._insert_numbering_in_sqlite(halves)
                else:
                    self._insert_numbered(halves)
        except SQLAlchemyError as exc:
            raise AuditUnavailable(UNAVAILABLE_MESSAGE) from exc

    def _insert_numbering_in_sqlite(self, halves: list[tuple[str, str]]) -> None:
        values = ", ".join(f"({i}, ?, ?)" for i in range(len(halves)))
        # One statement: the largest seq is read under the write lock that the insert itself holds. The
        # driver's own placeholders: thousands of bound texts a statement, no per-value processing due.
        self._connection.exec_driver_sql(
            _NUMBERING_INSERT.format(values=values), tuple(part for pair in halves for part in pair)
        )

    def _insert_numbered(self, halves: list[tuple[str, str]]) -> None:
        numbers = self._connection.execute(_NEXT_NUMBERS, {"n": len(halves)}).scalars().all()
        entries = [f"{before}{seq}{after}" for seq, (before, after) in zip(numbers, halves, strict=True)]
        self._connection.execute(_NUMBERED_INSERT, {"seqs": numbers, "entries": "\x1e".join(entries)})

    def events_of_account(self, account_id: str, limit: int) -> list[AccessEvent]:
        dialect = self._connection.dialect.name
        seq = access_log_entries.c.seq
        query = (
            select(seq, stored_entry(dialect))
            .where(stated(dialect, "account_id") == account_id)
            .order_by(seq.desc())
            .limit(limit)
        )
        return list(_events(self._connection.execute(query)))

    def events_for_resource(self, resource_id: str, limit: int) -> list[AccessEvent]:
        # A LIKE on the entry's text narrows portably (ids are quoted in it); the list then decides.
        seq = access_log_entries.c.seq
        query = (
            select(seq, stored_entry(self._connection.dialect.name))
            .where(access_log_entries.c.entry.like(f'%"{resource_id}"%'))
            .order_by(seq.desc())
        )
        found = (e for e in _events(self._connection.execute(query)) if resource_id in e.resource_ids)
        return list(islice(found, limit))
