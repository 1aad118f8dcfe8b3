"""The records of entries the sequencer left out, and what verification holds them against.

An entry the sequencer cannot read stays out of the tree (sequencer.py). Without a record of it, its row
removed by hand would look like a seq that a rolled-back transaction never used. So the sequencer records
each one as an access event (`log:entry_left_out`, by `system:sequencer`, with the SHA-256 of the
entry's bytes; services/entry_set_aside.py), appended under the log's lock in the commit that finds it
still there, and that event gets a leaf like any other. Once it is in the tree, verification asks of
each record: is the row still there with these bytes (then it is reported as not in the tree, exit 12,
until it is set aside), or was it set aside with these bytes (`log:entry_set_aside`)? A row gone without
that event is reported as deleted, other bytes as changed.

Verification finds the records through the view's index of accounts; the sequencer (whether one is
recorded already) and verification (the set-aside events) find the events naming a seq through the search
index and among the events still waiting for a leaf, each read in Python (entry_events.py), so an entry
that is no event stops neither. A verification reads a few rows for each record, none where there are
none. Retention keeps a month whose records are still open, or whose setting aside closes a record still
there (`open_records`): without its record, an entry left out could be removed unseen; without its
setting aside, a record would report its entry as removed unrecorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, select
from sqlalchemy.exc import DataError, OperationalError

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import access_log_entries, stated, stored_entry
from shadan.audit.search_index import naming
from shadan.audit.tree_tables import log_leaves
from shadan.domain.vocabulary import AuditTag
from shadan.services.entry_set_aside import SEQUENCER, LeftOutEntry, RecordedEntry, recorded_entry

_seq = access_log_entries.c.seq


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    """An entry left out whose row is gone without being set aside (`changed` False), or whose bytes are
    not those recorded when it was left out or set aside (`changed` True)."""

    seq: int
    changed: bool


def stored_bytes(connection: Connection, seq: int) -> bytes | None:
    """The entry of `seq` as the database holds it (UTF-8 or not); None if there is no such row."""
    query = select(stored_entry(connection.dialect.name)).where(_seq == seq)
    value = connection.execute(query).scalar_one_or_none()
    return value.encode("utf-8") if isinstance(value, str) else value


def has_leaf(connection: Connection, seq: int) -> bool:
    return connection.execute(select(log_leaves.c.seq).where(log_leaves.c.seq == seq)).first() is not None


def is_recorded(connection: Connection, seq: int) -> bool:
    """Whether an entry left out at `seq` has its record already, in the tree or waiting for a leaf."""
    records = _naming(connection, seq, seq, AuditTag.LOG_ENTRY_LEFT_OUT, SEQUENCER.account_id)
    return any(True for _ in records)


def still_left_out(connection: Connection, limit: int) -> tuple[int, ...] | None:
    """The first `limit` seqs of entries recorded as left out whose rows are still there, to be set aside,
    in order; None where an entry that is no JSON keeps the records from being found by the index (the
    log status does not read every row)."""
    records = _records_by_account(connection)
    if records is None:
        return None
    named = {record.seq for _, record in _possible(connection, records)}
    there = select(_seq).where(_seq.in_(named)).order_by(_seq).limit(limit)
    return tuple(connection.execute(there).scalars())


def broken_records(connection: Connection) -> list[BrokenRecord]:
    """What the records in the tree find wrong, in seq order."""
    found = (_broken(connection, record_seq, record) for record_seq, record in _records(connection))
    return sorted((broken for broken in found if broken is not None), key=lambda broken: broken.seq)


def _broken(connection: Connection, record_seq: int, record: RecordedEntry) -> BrokenRecord | None:
    stored = stored_bytes(connection, record.seq)
    if stored is not None:
        same = LeftOutEntry(record.seq, stored).sha256 == record.sha256
        return None if same else BrokenRecord(record.seq, changed=True)
    set_asides = [
        sha256 for _, sha256 in _naming(connection, record_seq, record.seq, AuditTag.LOG_ENTRY_SET_ASIDE)
    ]
    if record.sha256 in set_asides:
        return None
    return BrokenRecord(record.seq, changed=bool(set_asides))


def open_records(connection: Connection, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, ...]]:
    """For each range of leaves [first, end), the seqs of the entries left out it must be kept for, in
    order: those named by a record among them that was not set aside as recorded (the row still there, or
    gone or changed without that), and those set aside among them whose record, before them, is still
    there (held, or kept for this rule). Verification holds each entry to its record, and each record to
    the event that set its entry aside. The records are read once for all the ranges."""
    records = [(at, record, _closing(connection, at, record)) for at, record in _records(connection)]
    return [_kept_for(connection, first, end, records) for first, end in ranges]


def _kept_for(
    connection: Connection,
    first_leaf: int,
    end_leaf: int,
    records: list[tuple[int, RecordedEntry, int | None]],
) -> tuple[int, ...]:
    ends = select(log_leaves.c.seq).where(log_leaves.c.leaf_index.in_((first_leaf, end_leaf - 1)))
    seqs = connection.execute(ends).scalars().all()
    if not seqs:
        return ()
    # Leaves are given in seq order, so the range's events are those between its two ends' seqs.
    low, high = min(seqs), max(seqs)
    kept = {
        record.seq
        for at, record, closing in records
        if (closing is None and low <= at <= high) or (closing is not None and at < low <= closing <= high)
    }
    return tuple(sorted(kept))


def _closing(connection: Connection, record_seq: int, record: RecordedEntry) -> int | None:
    """The seq of the event after the record that set the entry aside with the bytes recorded, once its row
    is gone; None while it is open."""
    if stored_bytes(connection, record.seq) is not None:
        return None
    set_asides = _naming(connection, record_seq, record.seq, AuditTag.LOG_ENTRY_SET_ASIDE)
    return next((seq for seq, sha256 in set_asides if sha256 == record.sha256), None)


def _records(connection: Connection) -> list[tuple[int, RecordedEntry]]:
    """The records in the tree, found by the view's index of accounts. Where an entry is no JSON at all
    (stored only once the table's check was dropped, which verification reports) the database cannot
    compute that column for it: the rows in the tree are then read one by one instead."""
    found = _records_by_account(connection)
    if found is None:
        every_row = connection.execution_options(stream_results=True).execute(_in_tree(connection))
        found = list(_named(every_row, AuditTag.LOG_ENTRY_LEFT_OUT, SEQUENCER.account_id))
    return _possible(connection, found)


def _possible(
    connection: Connection, records: list[tuple[int, RecordedEntry]]
) -> list[tuple[int, RecordedEntry]]:
    """The records the sequencer could have made: of an entry found before (a lower seq) that has no
    leaf. Any other is forged by a direct write and says nothing of an entry left out: it is held against
    nothing, named on no page and keeps no month (it stays in the log, found by a search by account)."""
    return [
        (at, record) for at, record in records if record.seq < at and not has_leaf(connection, record.seq)
    ]


def _records_by_account(connection: Connection) -> list[tuple[int, RecordedEntry]] | None:
    """The records in the tree by the view's index of accounts; None where an entry stops that column."""
    by_sequencer = stated(connection.dialect.name, "account_id") == SEQUENCER.account_id
    # A failed statement ends PostgreSQL's transaction (verification's snapshot) but for a savepoint.
    savepoint = connection.begin_nested() if connection.dialect.name == "postgresql" else nullcontext()
    try:
        with savepoint:
            rows = connection.execute(_in_tree(connection).where(by_sequencer)).all()
    except (DataError, OperationalError):
        return None
    return list(_named(rows, AuditTag.LOG_ENTRY_LEFT_OUT))


def _in_tree(connection: Connection) -> Select[Any]:
    return (
        select(_seq, stored_entry(connection.dialect.name))
        .where(_seq.in_(select(log_leaves.c.seq)))
        .order_by(_seq)
    )


def _naming(
    connection: Connection, after: int, seq: int, tag: AuditTag, account: str | None = None
) -> Iterator[tuple[int, str]]:
    """The (seq, SHA-256) of each event of `tag` (by `account`, if given) after `after` that names `seq`,
    in the tree or waiting for a leaf."""
    dialect = connection.dialect.name
    query = select(_seq, stored_entry(dialect)).where(_seq > after, naming(dialect, str(seq)))
    found = _named(connection.execute(query), tag, account)
    return ((at, record.sha256) for at, record in found if record.seq == seq)


def _named(
    rows: Iterable[Any], tag: AuditTag, account: str | None = None
) -> Iterator[tuple[int, RecordedEntry]]:
    """The (seq, record) of the rows that are events of `tag`, of `account` if given."""
    for seq, stored in rows:
        event = event_from_entry(int(seq), stored)
        record = recorded_entry(event, tag)
        if record is not None and event is not None and account in (None, event.account_id):
            yield int(seq), record
