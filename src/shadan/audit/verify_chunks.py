"""Verification on every core: worker processes check aligned chunks of leaves (see verification.py).

The leaves are cut into chunks of 2**level leaves, aligned on their size, and a pool of worker processes
checks them column-wise (columnar_chunks.py), each in its own connection: every leaf in the chunk has
its event, every event's stored entry hashes to the stored leaf hash, and the complete subtrees
inside the chunk — rebuilt from those hashes — equal the stored ones. A worker answers with hashes only
(the compact range of the chunk at its end and at every checkpoint size inside it), never with rows, so
the parent's share is a few hash folds per chunk.

Workers only ever vouch for an intact chunk. A chunk they find anything wrong with is checked again by the
parent with the one-process code, in the parent's snapshot, and that check names the failure: the
report is the same with and without workers. On PostgreSQL the workers read the parent's snapshot itself
(`pg_export_snapshot`). SQLite cannot share a snapshot between connections, so a worker's transaction
starts a little later than the parent's; rows below the verified tree size are append-only for the
application, so an intact log reads the same in both, and whatever a worker finds wrong is decided in the
parent's snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from threading import Thread
from typing import Any

from sqlalchemy import URL, Connection, Engine, Select, and_, func, select

from shadan.audit.chunk_worker import ChunkResult, check_chunk, open_worker, started
from shadan.audit.columnar_chunks import AdbcDatabase
from shadan.audit.cores import in_order, usable_cores, worker_pool
from shadan.audit.log import access_log_entries
from shadan.audit.merkle import CompactRange, NodeId, fold_right
from shadan.audit.readahead import Readahead, memory_available
from shadan.audit.tree_store import node_reader
from shadan.audit.tree_tables import log_leaves


@dataclass(frozen=True, slots=True)
class Parallelism:
    """How verification spreads over processes. `workers` < 2, or a log shorter than `min_chunks` chunks,
    is verified in one process: starting the workers (a fresh interpreter each) costs a few tenths of a
    second. `readahead`: a SQLite file is read into the page cache ahead of the workers (readahead.py)."""

    workers: int = field(default_factory=usable_cores)
    chunk_level: int = 17  # 131,072 leaves a chunk: a chunk costs about 5 ms beyond its leaves
    min_chunks: int = 4
    readahead: bool = True

    def pays_off(self, size: int) -> bool:
        return self.workers >= 2 and size >= self.min_chunks << self.chunk_level


def leaf_range_query(begin: int, end: int) -> Select[Any]:
    """Leaves [begin, end) in order, each with its event's `seq` and stored `entry` (None when the event
    is gone).

    The events are looked up only between the smallest and the largest seq of these leaves: without
    that bound PostgreSQL hashes the leaves and scans the whole events table for every range."""
    leaves = (
        select(log_leaves.c.leaf_index, log_leaves.c.seq, log_leaves.c.leaf_hash)
        .where(log_leaves.c.leaf_index >= begin, log_leaves.c.leaf_index < end)
        .cte("range_leaves")
        .prefix_with("MATERIALIZED")  # computed once, not again for each bound
    )
    entries = access_log_entries.c
    seq = entries.seq
    in_range = and_(
        seq == leaves.c.seq,
        seq >= select(func.min(leaves.c.seq)).scalar_subquery(),
        seq <= select(func.max(leaves.c.seq)).scalar_subquery(),
    )
    return (
        select(leaves.c.leaf_index, leaves.c.seq.label("leaf_seq"), leaves.c.leaf_hash, seq, entries.entry)
        .select_from(leaves.outerjoin(access_log_entries, in_range))
        .order_by(leaves.c.leaf_index)
    )


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL or SQLite in memory."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def adbc_database(url: URL) -> AdbcDatabase:
    """What a worker reads, from the application's database URL: a read-only SQLite file or PostgreSQL."""
    if url.get_backend_name() != "sqlite":
        return AdbcDatabase(
            "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
    path = _sqlite_file(url)
    if path is None:
        raise ValueError("column-wise verification needs a database file")
    return AdbcDatabase("sqlite", path.resolve().as_uri() + "?mode=ro")


def file_readahead(url: URL) -> Readahead | None:
    """The SQLite file read ahead of the workers, within half the memory available (the rest is the
    workers' and everyone else's); None for PostgreSQL, which reads its own files."""
    path, available = _sqlite_file(url), memory_available()
    return Readahead.of_file(path, available // 2) if path is not None and available else None


def snapshot_of(connection: Connection) -> str | None:
    """The id of the connection's snapshot for the workers to read (PostgreSQL), None on SQLite."""
    if connection.dialect.name == "sqlite":
        return None
    return str(connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())


class ChunkWorkers:
    """A verification's worker processes, started as soon as the parent knows the tree's size (a fresh
    interpreter each: 0.14 s of imports, then DataFusion's first use), while the parent reads and checks
    the checkpoints and the deletion records; meanwhile a SQLite file is read ahead of them (readahead.py).
    A context manager: leaving it drops the chunks not started yet (the caller stops early at a missing
    leaf), stops the readahead and waits for the processes to end."""

    def __init__(self, engine: Engine, snapshot: str | None, parallelism: Parallelism) -> None:
        self._parallelism = parallelism
        self._pool = worker_pool(parallelism.workers, open_worker, (adbc_database(engine.url), snapshot))
        self._readahead = file_readahead(engine.url) if parallelism.readahead else None
        self._pool.submit(started)  # a pool of spawned processes starts them all with its first task
        self._ending: Thread | None = None

    def __enter__(self) -> ChunkWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        if self._readahead is not None:
            self._readahead.stop()
        if self._ending is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        else:
            self._ending.join()

    def check(self, size: int, checkpoint_sizes: Iterable[int]) -> Iterator[ChunkResult]:
        """The results for every chunk of [0, size), in order, a few chunks ahead of the caller."""
        span = 1 << self._parallelism.chunk_level
        wanted = sorted(set(checkpoint_sizes))

        def submit(begin: int) -> Future[ChunkResult]:
            end = min(begin + span, size)
            sizes = tuple(s for s in wanted if begin < s <= end)
            return self._pool.submit(check_chunk, begin, end, sizes, self._parallelism.chunk_level)

        for result in in_order(map(submit, range(0, size, span)), 2 * self._parallelism.workers):
            if self._readahead is not None:
                self._readahead.advance(result.end / size)
            yield result
        if self._readahead is not None:
            self._readahead.stop()
        # Every chunk is checked: the processes end (a tenth of a second or more) while the caller makes
        # its last checks; leaving the context waits for them.
        self._ending = Thread(target=self._pool.shutdown, name="chunk-workers-ending")
        self._ending.start()


def fold_chunk(
    tree: CompactRange, chunk: ChunkResult, roots: Mapping[int, Sequence[bytes]], level: int
) -> tuple[CompactRange, dict[NodeId, bytes]] | None:
    """The tree after a clean chunk and the complete subtrees above the chunk's level that it finished;
    None if a signed root inside the chunk does not match (the caller then checks the chunk itself)."""
    for size, edge in chunk.edges.items():
        if any(fold_right([*tree.edge, *edge]) != root for root in roots.get(size, ())):
            return None
    tail = chunk.edges[chunk.end]
    if chunk.end - chunk.begin < 1 << level:  # the last, partial chunk: no subtree above it finishes
        return CompactRange(chunk.end, [*tree.edge, *tail]), {}
    # At a multiple of 2**level the edge holds subtrees of that level and above only: appending the chunk
    # as one leaf of a tree whose leaves are such subtrees gives the real edge and the real new nodes.
    coarse = CompactRange(tree.size >> level, tree.edge)
    finished: dict[NodeId, bytes] = {}
    coarse.append(tail[0], lambda node, h: finished.__setitem__(NodeId(node.level + level, node.index), h))
    return CompactRange(coarse.size << level, coarse.edge), finished


def stored_nodes_differ(connection: Connection, built: Mapping[NodeId, bytes]) -> bool:
    if not built:
        return False
    return dict(node_reader(connection)(sorted(built))) != dict(built)
