"""Do the decoded columns of a segment file say exactly what its entries say? One DuckDB query a file.

The entries are what the archive proves; the other columns serve analysis engines, so verify-archive must
hold every one of them against its entry. Decoding each entry in Python (segment_file.defined_batch)
costs about 10 µs a row; building each row's entry from its columns in DuckDB (entry_sql.ARCHIVED_ENTRY)
and comparing bytes costs well under one, and runs on its own thread (DuckDB releases the GIL) while the
caller hashes the entries. A file that does not plainly agree — a tampered column, a row the expression
cannot build, a file DuckDB cannot read — is then compared batch by batch by the caller, which names the
first difference, so this check only ever says "all agree".
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from shadan.audit.entry_sql import ARCHIVED_ENTRY

_DIFFERING = (
    "SELECT count(*) FROM read_parquet($path, file_row_number = true)"  # noqa: S608 -- fixed text
    f" WHERE leaf_index IS DISTINCT FROM $first + file_row_number OR {ARCHIVED_ENTRY} IS DISTINCT FROM entry"
)


class ColumnCheck:
    """One DuckDB connection on one thread of its own; close() when done."""

    def __init__(self) -> None:
        self._duck = duckdb.connect()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="segment-columns")

    def start(self, path: Path, first_leaf: int) -> Future[bool]:
        """Whether the file's rows are leaves first_leaf, first_leaf + 1, ... in order and every row's
        columns build exactly its entry — answered in the background."""
        return self._thread.submit(self._agrees, path, first_leaf)

    def _agrees(self, path: Path, first_leaf: int) -> bool:
        try:
            differing = self._duck.execute(_DIFFERING, {"path": str(path), "first": first_leaf}).fetchall()
        except duckdb.Error:
            return False
        return differing == [(0,)]

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._duck.close()
