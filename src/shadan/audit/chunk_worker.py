"""A verification worker process's side (verify_chunks.py starts the processes): its connections, kept
from chunk to chunk, and its task.

Nothing a worker imports loads SQLAlchemy (about 0.13 s of every worker's start, and the workers' start
is on the path of every parallel verification): the parent hands over the database as an ADBC URI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shadan.audit.columnar_chunks import AdbcDatabase, ChunkChecker, edges_at
from shadan.audit.seq_span import SeqSpan


@dataclass(frozen=True, slots=True)
class ChunkResult:
    begin: int
    end: int
    # The compact range of [begin, size) for each checkpoint size in (begin, end] and for `end` itself,
    # and the seqs the chunk spans; only for a clean chunk (a chunk without a span is not).
    edges: Mapping[int, tuple[bytes, ...]]
    span: SeqSpan | None

    @property
    def clean(self) -> bool:
        return self.span is not None


_worker: dict[str, ChunkChecker] = {}


def open_worker(database: AdbcDatabase, snapshot: str | None) -> None:
    _worker["checker"] = ChunkChecker(database, snapshot)


def started() -> None:
    """Nothing: the task that makes the pool start its processes."""


def check_chunk(begin: int, end: int, sizes: tuple[int, ...], level: int) -> ChunkResult:
    intact = _worker["checker"].check(begin, end, level)
    if intact is None:
        return ChunkResult(begin, end, {}, None)
    return ChunkResult(begin, end, edges_at(intact.levels, begin, (*sizes, end)), intact.span)
