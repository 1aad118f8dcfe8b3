"""The sequencer: gives committed access events gapless leaf indices and stores their hashes.

`seq` (audit/log.py) is the order of insertion but not a gapless count (a PostgreSQL sequence skips numbers
of rolled-back transactions) and not the order of commit (a slow transaction can commit seq 10 after seq 11
is visible). So the sequencer keeps a *horizon*: every seq at or below it is a leaf or a settled gap. Each
run gives leaves, in seq order, to the committed events above the horizon that have none, then moves the
horizon up over contiguous leaves and over gaps whose next event was sequenced more than `settle` ago. A
transaction slower than `settle` is thus still logged if it commits within the window, and reported by
verification as unlogged if it commits later; an owner who inserts a row into an old gap is caught the
same way.

The work is done optimistically outside the lock (reading events, hashing) and committed under it only if
no other sequencer moved the state meanwhile, so app servers' writes are blocked for the inserts only.

An entry the database cannot read (only one written straight into the table can be such) is left out of
the tree, named in the log as critical, and the events after it are sequenced as ever: it becomes a gap
that the horizon passes once settled, and verification then reports it as an event not in the tree.
Stopping at it instead would keep every later event out of the tree, where whoever wrote it could change
them unnoticed. The commit that first finds it still there appends an access event recording it (seq and
SHA-256, left_out_records.py), once whichever server finds it: that event gets a leaf, so a later
removal of the row is known from a seq never used, and an entry left out as the newest is passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, Select, insert, select, update
from sqlalchemy.exc import DataError, OperationalError

from shadan.audit.entry import as_utc
from shadan.audit.left_out_records import is_recorded, stored_bytes
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.log_completeness import unsequenced
from shadan.audit.merkle import CompactRange, NodeId, leaf_hash, range_nodes
from shadan.audit.search_index import index_rows, listed_ids
from shadan.audit.span_blocks import block_of
from shadan.audit.time_spans import Span, event_time, stored_spans, widened, write_spans
from shadan.audit.tree_store import insert_nodes, insert_rows, locked, node_reader
from shadan.audit.tree_tables import log_leaves, log_resource_ids, log_state
from shadan.domain.vocabulary import AuditTag
from shadan.services.audit_log import LogIntegrityError
from shadan.services.entry_set_aside import SEQUENCER, LeftOutEntry
from shadan.services.identity import SYSTEM_NAME, EventFactory

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
STATE_ID = 1


@dataclass(frozen=True, slots=True)
class LogState:
    tree_size: int
    horizon_seq: int


@dataclass(frozen=True, slots=True)
class _Batch:
    state: LogState
    leaves: list[dict[str, Any]]
    nodes: dict[NodeId, bytes]
    resources: list[dict[str, Any]]  # the search index rows of these events (search_index.py)
    # The time spans of their blocks as stored, and those to write (time_spans.py): unchanged while the
    # state is, since only a sequencer's commit writes both.
    stored_spans: dict[int, Span[Any]]
    spans: dict[int, Span[Any]]


def read_state(connection: Connection) -> LogState:
    row = connection.execute(
        select(log_state.c.tree_size, log_state.c.horizon_seq).where(log_state.c.state_id == STATE_ID)
    ).first()
    return LogState(0, 0) if row is None else LogState(int(row[0]), int(row[1]))


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settle: dt.timedelta = dt.timedelta(seconds=60),
        batch: int = 5000,
        system: str = SYSTEM_NAME,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._settle = settle
        self._batch = batch
        self._events = EventFactory(system)  # the records of entries left out
        self._left_out: frozenset[int] = frozenset()  # unreadable entries above the horizon
        self._unrecorded: dict[int, bytes] = {}  # of those, found here and not yet recorded: their bytes

    def sequence(self) -> int:
        """Sequence every pending committed event; returns the tree size."""
        while True:
            added, size, recorded = self._one_batch()
            if added < self._batch and not recorded:
                return size

    def _one_batch(self) -> tuple[int, int, bool]:
        """(leaves added, tree size, whether records of entries left out were appended)."""
        while True:
            with self._engine.connect() as connection:
                batch = self._prepare(connection)
                if not batch.leaves and not self._unrecorded and self._horizon_stays(connection, batch.state):
                    return 0, batch.state.tree_size, False  # nothing to write: no lock, no commit
            with locked(self._engine) as connection:
                if read_state(connection) != batch.state:
                    continue  # another app server sequenced meanwhile: redo with its result
                self._commit(connection, batch)
                recorded = self._record_left_out(connection)
            self._unrecorded = {}
            return len(batch.leaves), batch.state.tree_size + len(batch.leaves), recorded

    def _record_left_out(self, connection: Connection) -> bool:
        """Under the lock: append a record of each entry left out that is still as it was found and has
        none yet (another server may have recorded it); an entry changed since is read again."""
        records = []
        for seq, found in sorted(self._unrecorded.items()):
            stored = stored_bytes(connection, seq)
            if stored != found:
                self._left_out -= {seq}
            elif not is_recorded(connection, seq):
                entry = LeftOutEntry(seq, stored)
                records.append(
                    entry.event(self._events, self._clock(), SEQUENCER, AuditTag.LOG_ENTRY_LEFT_OUT)
                )
        SqlAccessLog(connection).append(records)
        return bool(records)

    def _horizon_stays(self, connection: Connection, state: LogState) -> bool:
        settled_before = self._clock() - self._settle
        return advance_horizon(connection, state.horizon_seq, settled_before) == state.horizon_seq

    def _prepare(self, connection: Connection) -> _Batch:
        state = read_state(connection)
        events, resources = self._read_pending(connection, state.horizon_seq)
        edge_ids = range_nodes(0, state.tree_size)
        edge = node_reader(connection)(edge_ids)
        if len(edge) != len(edge_ids):
            raise LogIntegrityError("木の部分木ハッシュが欠けているため、順序付けを中止しました。")
        tree = CompactRange(state.tree_size, [edge[n] for n in edge_ids])
        nodes: dict[NodeId, bytes] = {}
        now = self._clock()
        leaves = []
        for row in events:
            h = leaf_hash(row["entry"].encode("utf-8"))
            leaves.append({"leaf_index": tree.size, "seq": row["seq"], "leaf_hash": h, "sequenced_at": now})
            tree.append(h, nodes.__setitem__)
        times = [(row["seq"], row["ts"]) for row in events]
        stored = stored_spans(connection, {block_of(seq) for seq, _ in times})
        return _Batch(state, leaves, nodes, resources, stored, widened(stored, times))

    def _read_pending(
        self, connection: Connection, horizon: int
    ) -> tuple[Sequence[RowMapping], list[dict[str, Any]]]:
        """The batch's events and their search index rows, less the entries the database cannot read:
        each is found when a read fails on it, named in the log and left out from then on. Any other
        error is raised."""
        self._left_out = frozenset(seq for seq in self._left_out if seq > horizon)
        self._unrecorded = {seq: found for seq, found in self._unrecorded.items() if seq in self._left_out}
        while True:
            try:
                return _read_events(connection, horizon, self._batch, self._left_out)
            except _READING_ERRORS as exc:
                if not _unreadable(exc):
                    raise
                connection.rollback()  # a failed statement ends PostgreSQL's transaction
                seq = self._first_unreadable(horizon)
                if seq is None:
                    raise
                logger.critical(
                    "seq %d のエントリを読めないため木から外しました（検証で「木に記録されていない」と"
                    "報告されます） / the entry of seq %d cannot be read: left out of the tree",
                    seq,
                    seq,
                )
                self._left_out |= {seq}
                with self._engine.connect() as reading:
                    found = stored_bytes(reading, seq)
                if found is not None:
                    self._unrecorded[seq] = found

    def _first_unreadable(self, horizon: int) -> int | None:
        """The batch's first event whose entry cannot be read: the shortest failing prefix of the batch,
        found by bisection; then that event alone, since a commit may have moved the batch meanwhile."""
        with self._engine.connect() as connection:
            seqs = connection.execute(_batch(horizon, self._batch, self._left_out)).scalars().all()
        first = bisect_left(range(1, len(seqs) + 1), True, key=lambda count: self._fails(horizon, count))
        if first == len(seqs):
            return None
        seq = int(seqs[first])
        return seq if self._fails(seq - 1, 1) else None

    def _fails(self, horizon: int, count: int) -> bool:
        return _fails(self._engine, horizon, count, self._left_out)

    def _commit(self, connection: Connection, batch: _Batch) -> None:
        insert_rows(connection, log_leaves, batch.leaves)
        insert_nodes(connection, batch.nodes)
        insert_rows(connection, log_resource_ids, batch.resources)
        write_spans(connection, batch.stored_spans, batch.spans)
        now = self._clock()
        horizon = advance_horizon(connection, batch.state.horizon_seq, now - self._settle)
        size = batch.state.tree_size + len(batch.leaves)
        _save_state(connection, batch.state, LogState(size, horizon), now)


def batch_events(
    dialect: str, horizon: int, limit: int, left_out: frozenset[int] = frozenset()
) -> Select[Any]:
    """The batch: the first `limit` committed events above the horizon without a leaf and not left out, in
    seq order, with their entries and the `ts` and `resource_ids` the database reads in them
    (time_spans.py, search_index.py)."""
    # The limit in a subquery of its own: a plan that sorts every waiting event under the limit (a hash
    # anti join, chosen on statistics from before a burst) then parses only the batch's entries.
    batch = _batch(horizon, limit, left_out, access_log_entries.c.entry).subquery()
    return select(batch.c.seq, batch.c.entry, event_time(dialect), listed_ids(dialect)).order_by(batch.c.seq)


def _batch(horizon: int, limit: int, left_out: frozenset[int], *columns: ColumnElement[Any]) -> Select[Any]:
    """The seqs (and these columns) of the first `limit` events above the horizon without a leaf."""
    seq = access_log_entries.c.seq
    query = unsequenced(horizon, seq, *columns)
    if left_out:
        query = query.where(seq.not_in(sorted(left_out)))
    return query.order_by(seq).limit(limit)


def _read_events(
    connection: Connection, horizon: int, limit: int, left_out: frozenset[int]
) -> tuple[Sequence[RowMapping], list[dict[str, Any]]]:
    events = (
        connection.execute(batch_events(connection.dialect.name, horizon, limit, left_out)).mappings().all()
    )
    return events, index_rows(events)


def entry_unreadable(engine: Engine, seq: int) -> bool:
    """Whether the sequencer cannot read the entry of `seq`, an event without a leaf."""
    return _fails(engine, seq - 1, 1, frozenset())


def _fails(engine: Engine, horizon: int, count: int, left_out: frozenset[int]) -> bool:
    """Whether reading the first `count` events above the horizon fails on an entry; in a transaction of
    its own, since a failed statement ends PostgreSQL's."""
    with engine.connect() as connection:
        try:
            _read_events(connection, horizon, count, left_out)
        except _READING_ERRORS as exc:
            if _unreadable(exc):
                return True
            raise
    return False


# What reading an entry can raise because of what it holds: a value PostgreSQL cannot cast (a data
# exception: a `ts` that is no time), text SQLite cannot hand Python as UTF-8 (json_extract makes such text
# of a lone surrogate escape) or an entry SQLite cannot parse (stored with its checks switched off), an id
# Python cannot encode for the index.
_READING_ERRORS = (DataError, OperationalError, UnicodeError)
# SQLite's and sqlite3's messages for those; any other operational error is the database's, not the entry's.
_SQLITE_ENTRY_ERRORS = ("Could not decode to UTF-8", "malformed JSON")


def _unreadable(exc: Exception) -> bool:
    return not isinstance(exc, OperationalError) or str(exc.orig).startswith(_SQLITE_ENTRY_ERRORS)


def advance_horizon(connection: Connection, horizon: int, settled_before: dt.datetime) -> int:
    """Move the horizon over contiguous leaves and over gaps that can no longer fill."""
    while True:
        run_end = _end_of_run(connection, horizon)
        if run_end is not None:
            horizon = run_end
            continue
        after = connection.execute(
            select(log_leaves.c.seq, log_leaves.c.sequenced_at)
            .where(log_leaves.c.seq > horizon)
            .order_by(log_leaves.c.seq)
            .limit(1)
        ).first()
        if after is None or as_utc(after[1]) > settled_before:
            return horizon
        horizon = int(after[0])  # the gap before it settled: its numbers were never committed


def _end_of_run(connection: Connection, horizon: int) -> int | None:
    """The last seq of the contiguous leaves from horizon + 1, or None if horizon + 1 is no leaf."""
    start = connection.execute(select(log_leaves.c.seq).where(log_leaves.c.seq == horizon + 1)).first()
    if start is None:
        return None
    following = log_leaves.alias("following")
    gap_before = ~select(following.c.seq).where(following.c.seq == log_leaves.c.seq + 1).exists()
    # ORDER BY ... LIMIT 1 rather than min(): both databases then stop at the first gap they meet.
    end = connection.execute(
        select(log_leaves.c.seq)
        .where(log_leaves.c.seq > horizon, gap_before)
        .order_by(log_leaves.c.seq)
        .limit(1)
    ).scalar_one()
    return int(end)


def _save_state(connection: Connection, old: LogState, new: LogState, now: dt.datetime) -> None:
    values = {"tree_size": new.tree_size, "horizon_seq": new.horizon_seq, "updated_at": now}
    done = connection.execute(update(log_state).where(log_state.c.state_id == STATE_ID).values(**values))
    if done.rowcount == 0:
        connection.execute(insert(log_state).values(state_id=STATE_ID, **values))
