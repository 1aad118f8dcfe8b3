"""The leaf hashes of a segment file folded into its compact range, on every core.

Hashing is most of verify-archive's own work (read the entries, SHA-256 them a column at a time with
merkle_columns, build the subtrees), so a large file's row groups are split into consecutive runs and each
run is hashed in a worker process, which answers with the compact range of its leaves only (a few
hashes, never the rows). The caller pushes the runs' ranges in order onto one SubtreeStack: merging them
gives the same compact range as pushing every leaf. A small file is hashed in the calling process
(starting workers costs a few tenths of a second).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from shadan.audit.cores import in_order, usable_cores, worker_pool
from shadan.audit.merkle_columns import leaf_hash_column, subtree_root_column
from shadan.audit.segment_hashes import Subtree, SubtreeStack


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive leaves of a file: their count and their compact range."""

    rows: int
    subtrees: tuple[Subtree, ...]


RUN_ROWS = 1 << 17  # about 70 MB of entries in a worker at a time


class SegmentLeaves:
    """Hashes segment files; workers start with the first large file and live until close()."""

    def __init__(self, workers: int | None = None, rows_per_run: int = RUN_ROWS) -> None:
        self.workers = usable_cores() if workers is None else workers
        self.rows_per_run = rows_per_run
        self._pool: ProcessPoolExecutor | None = None

    def runs(self, path: Path, first_leaf: int) -> Iterator[Run]:
        """The file's runs in leaf order (pyarrow errors for an unreadable file)."""
        runs = _plan(path, self.rows_per_run, first_leaf)
        if self.workers < 2 or len(runs) < 2:
            for run, first in runs:
                yield _hash_run(path, run, first)
            return
        pool = self._pool = self._pool or worker_pool(self.workers)
        futures = (pool.submit(_hash_run, path, run, first) for run, first in runs)
        yield from in_order(futures, 2 * self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _plan(path: Path, rows_per_run: int, first_leaf: int) -> list[tuple[tuple[int, ...], int]]:
    """Consecutive row groups of about rows_per_run rows, each run with the leaf index of its first row."""
    metadata = pq.ParquetFile(path).metadata
    runs: list[tuple[tuple[int, ...], int]] = []
    current: list[int] = []
    first = rows = 0
    for group in range(metadata.num_row_groups):
        current.append(group)
        rows += metadata.row_group(group).num_rows
        if rows - first >= rows_per_run or group == metadata.num_row_groups - 1:
            runs.append((tuple(current), first_leaf + first))
            current, first = [], rows
    return runs


def _hash_run(path: Path, groups: tuple[int, ...], first_leaf: int) -> Run:
    """The compact range of the entries in these row groups, whose first row is leaf first_leaf."""
    entries = pq.ParquetFile(path).read_row_groups(list(groups), columns=["entry"], use_threads=False)
    stack = SubtreeStack()
    leaves = leaf_hash_column(entries.column("entry").combine_chunks())
    stack.push_leaves(first_leaf, leaves, subtree_root_column)
    return Run(entries.num_rows, stack.subtrees)
