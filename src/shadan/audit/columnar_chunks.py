"""A worker's check of one chunk of leaves, column-wise: ADBC reads the leaves and their stored entries as
Arrow, and the leaf and subtree hashes are made a column at a time (merkle_columns.py).

The log stores what its leaves cover (event_view.py), so a chunk is checked by hashing the entries as
they are: the database driver does the per-row work in native code, and so does SHA-256. The chunk's
rows of the search index and its time spans are compared with its entries in DuckDB, each entry parsed
once for both (chunk_fields.py).
A chunk with anything wrong is reported dirty, and the parent process checks it again row by row in its
own snapshot (verify_chunks.py), so this module never decides what a failure is.

A worker process opens only ADBC connections to the database: two SQLite libraries in one process (ADBC
bundles its own) must never hold the same file, because a POSIX lock released by one releases the
other's.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import adbc_driver_manager
import duckdb
import numpy as np
import pyarrow as pa

from shadan.audit.chunk_fields import checks_hold
from shadan.audit.chunk_index import index_check
from shadan.audit.chunk_times import SPANS, span_rows, times_check
from shadan.audit.merkle import edge_of
from shadan.audit.merkle_columns import leaf_hash_column, subtree_level_columns
from shadan.audit.node_keys import level_keys, tier_key_ranges, tier_of
from shadan.audit.seq_span import SeqSpan
from shadan.audit.span_blocks import block_of

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
# The driver infers each column's type from its values, so a chunk whose events are all gone has
# NULL-typed columns: casting gives every chunk the same types.
_LEAF_ROWS = pa.schema([("leaf_index", pa.int64()), ("seq", pa.int64()), ("leaf_hash", pa.binary())])
_EVENT_ROWS = pa.schema([("seq", pa.int64()), ("entry", pa.string())])
_INDEX_ROWS = pa.schema([("resource_id", pa.string()), ("seq", pa.int64())])
# Whatever goes wrong reading or building a chunk only makes it dirty: the parent then checks it.
_CHUNK_ERRORS = (adbc_driver_manager.Error, duckdb.Error, pa.ArrowException, UnicodeError)


_NODES = "FROM log_nodes WHERE node_key BETWEEN {low} AND {high} ORDER BY node_key"


def chunk_queries() -> tuple[str, str, str, str, str]:
    """A worker's statements: a chunk's leaves, the events between two seqs, a range of subtree hashes
    (alone, and with their keys), the index rows between two seqs; each in key order, its bounds to be
    written in (`bounded`).

    Leaves and events are read apart and matched by seq in the worker: two range scans of primary keys.
    PostgreSQL joined them by hashing every event of the chunk and sorting the result again, often on
    disk (376 ms a chunk where the two scans take 56)."""
    return (
        "SELECT leaf_index, seq, leaf_hash FROM log_leaves WHERE leaf_index >= {low} AND leaf_index < {high}"
        " ORDER BY leaf_index",
        "SELECT seq, entry FROM access_log_entries WHERE seq BETWEEN {low} AND {high} ORDER BY seq",
        "SELECT hash " + _NODES,
        "SELECT node_key, hash " + _NODES,
        "SELECT resource_id, seq FROM log_resource_ids WHERE seq BETWEEN {low} AND {high} ORDER BY seq",
    )


def bounded(statement: str, low: int, high: int) -> str:
    """A worker's statement with its bounds written in, not bound as parameters: ADBC's PostgreSQL driver
    reads the result of a statement without parameters with COPY in binary (a chunk's events 0.56–0.71 µs
    an event against 1.12–1.15 for a prepared statement's rows), its SQLite driver a little faster too.
    The bounds are integers (operator.index refuses anything else), so only digits and a sign are
    written."""
    return statement.format(low=operator.index(low), high=operator.index(high))


@dataclass(frozen=True, slots=True)
class IntactChunk:
    levels: list[pa.Array]  # the chunk's subtree levels (merkle.subtree_levels)
    span: SeqSpan


@dataclass(frozen=True, slots=True)
class AdbcDatabase:
    """The database a worker reads: `sqlite` with a read-only file URI, or `postgresql` with a libpq URI
    (verify_chunks.adbc_database makes one from the application's URL)."""

    dialect: str
    uri: str

    def connect(self) -> Any:
        if self.dialect == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite_adbc

            return sqlite_adbc.connect(self.uri, autocommit=True)
        import adbc_driver_postgresql.dbapi as postgresql_adbc

        return postgresql_adbc.connect(self.uri, autocommit=True)


class ChunkChecker:
    """One worker's connections (database and DuckDB), kept from chunk to chunk."""

    def __init__(self, database: AdbcDatabase, snapshot: str | None) -> None:
        if snapshot is not None and not _SNAPSHOT_ID.fullmatch(snapshot):
            raise ValueError("not a snapshot id")
        self._dialect = database.dialect
        queries = chunk_queries()
        self._leaves_sql, self._entries_sql, self._nodes_sql, self._keyed_nodes_sql, self._index_sql = queries
        self._spans_sql = SPANS[database.dialect]
        self._connection = database.connect()
        self._snapshot = snapshot
        self._duck = duckdb.connect()
        self._duck.execute("SET threads = 1")  # one worker per core already

    def check(self, begin: int, end: int, level: int) -> IntactChunk | None:
        """The subtree levels and seq span of leaves [begin, end) if every leaf has its event, every event
        hashes to its leaf, every stored inner node inside the chunk is the one rebuilt, the search index
        holds exactly the events' ids and their time spans cover their times; None otherwise."""
        cursor = self._connection.cursor()
        if self._dialect == "sqlite":
            # A chunk in one Arrow batch: the driver's default of 1,024 rows a batch costs a fifth more.
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(end - begin)})
        try:
            self._begin(cursor)
            try:
                return self._check(cursor, begin, end, level)
            except _CHUNK_ERRORS:
                return None
            finally:
                cursor.execute("ROLLBACK")
        finally:
            cursor.close()

    def close(self) -> None:
        self._connection.close()
        self._duck.close()

    def _begin(self, cursor: Any) -> None:
        if self._snapshot is None:
            cursor.execute("BEGIN")  # one WAL read transaction for the chunk
            return
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")  # checked: hex digits and '-'

    def _check(self, cursor: Any, begin: int, end: int, level: int) -> IntactChunk | None:
        cursor.execute(bounded(self._leaves_sql, begin, end))
        leaves = cursor.fetch_arrow_table().cast(_LEAF_ROWS).combine_chunks()
        if not np.array_equal(leaves.column("leaf_index").to_numpy(), np.arange(begin, end)):
            return None
        if leaves.column("seq").null_count:
            return None  # a leaf names no event (numpy would make the seqs floats)
        found = self._events_of(cursor, leaves.column("seq").to_numpy())
        if found is None:
            return None  # an event is gone
        events, span = found
        hashes = leaf_hash_column(events.column("entry").chunk(0))
        if not hashes.equals(leaves.column("leaf_hash").chunk(0)):
            return None
        levels = subtree_level_columns(hashes, level)
        derived_agree = self._nodes_agree(cursor, levels, begin) and self._entries_agree(cursor, events, span)
        return IntactChunk(levels, span) if derived_agree else None

    def _nodes_agree(self, cursor: Any, levels: Sequence[pa.Array], begin: int) -> bool:
        """Whether the stored subtree hashes of the chunk's levels above the leaves are the rebuilt ones.

        A tier's nodes of the chunk are one key range (node_keys.py). When every key of the range is
        stored, a node's place in it follows from its key (the keys are unique: verification reports a
        dropped constraint, key_constraints.py); otherwise (a chunk smaller than a tile, whose
        range holds places of nodes the tree does not have yet; a node gone) the keys are read too."""
        wanted = {
            lvl: range(begin >> lvl, (begin >> lvl) + len(levels[lvl]))
            for lvl in range(1, len(levels))
            if len(levels[lvl])
        }
        for tier, (low, high) in tier_key_ranges(wanted).items():
            lvls = [lvl for lvl in wanted if tier_of(lvl) == tier]
            keys = {lvl: level_keys(lvl, np.arange(wanted[lvl].start, wanted[lvl].stop)) for lvl in lvls}
            # Reading the keys as well costs a third more: only when the places are not known.
            cursor.execute(bounded(self._nodes_sql, low, high))
            stored = cursor.fetch_arrow_table().column("hash").combine_chunks().cast(pa.binary())
            places = {lvl: k - low for lvl, k in keys.items()}
            if len(stored) != high - low + 1:
                cursor.execute(bounded(self._keyed_nodes_sql, low, high))
                table = cursor.fetch_arrow_table()
                stored = table.column("hash").combine_chunks().cast(pa.binary())
                found = _places(table.column("node_key").to_numpy(), keys)
                if found is None:
                    return False
                places = found
            if not all(stored.take(pa.array(places[lvl])).equals(levels[lvl]) for lvl in lvls):
                return False
        return True

    def _events_of(self, cursor: Any, seqs: np.ndarray[Any, Any]) -> tuple[pa.Table, SeqSpan] | None:
        """The events (seq, entry) of the leaves' seqs, in the leaves' order, and the span of those seqs;
        None if one is missing."""
        lowest, highest = int(seqs.min()), int(seqs.max())
        cursor.execute(bounded(self._entries_sql, lowest, highest))
        stored = cursor.fetch_arrow_table().cast(_EVENT_ROWS).combine_chunks()
        span = SeqSpan(lowest, highest, stored.num_rows)
        stored_seqs = stored.column("seq").to_numpy()
        if np.array_equal(stored_seqs, seqs):
            return stored, span  # the usual chunk: its events are the seqs in its range, in leaf order
        at = np.searchsorted(stored_seqs, seqs)
        found = stored_seqs[np.minimum(at, len(stored_seqs) - 1)] if len(stored_seqs) else None
        if found is None or not np.array_equal(found, seqs):
            return None
        return stored.take(at).combine_chunks(), span

    def _entries_agree(self, cursor: Any, events: pa.Table, span: SeqSpan) -> bool:
        """Whether the search index holds exactly the events' ids and their time spans cover their times."""
        cursor.execute(bounded(self._index_sql, span.lowest, span.highest))
        index = index_check(events, cursor.fetch_arrow_table().cast(_INDEX_ROWS))
        cursor.execute(bounded(self._spans_sql, block_of(span.lowest), block_of(span.highest)))
        times = times_check(self._dialect, cursor.fetch_arrow_table().cast(span_rows(self._dialect)))
        return index is not None and checks_hold(self._duck, self._dialect, events, (index, times))


def edges_at(levels: Sequence[pa.Array], begin: int, sizes: Sequence[int]) -> dict[int, tuple[bytes, ...]]:
    """The compact range of [begin, size) for each size, from the chunk's subtree levels (columns)."""
    return {size: tuple(node.as_py() for node in edge_of(levels, size - begin)) for size in sizes}


def _places(
    stored: np.ndarray[Any, Any], wanted: dict[int, np.ndarray[Any, Any]]
) -> dict[int, np.ndarray[Any, Any]] | None:
    """Where each level's wanted keys are among the stored keys (in order); None if one is not there."""
    places = {}
    for level, keys in wanted.items():
        at = np.searchsorted(stored, keys)
        if at[-1] >= len(stored) or not np.array_equal(stored[at], keys):
            return None
        places[level] = at
    return places
