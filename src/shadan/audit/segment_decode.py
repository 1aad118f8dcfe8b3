"""The decoded columns of an archive segment, built by DuckDB for a whole batch and vouched for row by row.

`segment_file.defined_batch` defines the columns: each entry parsed and decoded in Python, about 10 µs a
row on the reference machine — most of the time of writing a month's segment. Here DuckDB parses a
batch's entries at once (`from_json`, one parse an entry) and builds, from the columns it decoded, the
entry they stand for (entry_sql.ARCHIVED_ENTRY). A row is taken from DuckDB only when those bytes equal
its entry, which makes its columns the entry's very values (the argument is in entry_sql.py), and its
`extra` — the entry's own text there — is the canonical JSON `defined_batch` writes. Every other row
(an item that is not a string, an `extra` spelled otherwise, a batch DuckDB cannot parse) is decoded by
`defined_batch` itself. So the batch is always exactly what `defined_batch` returns for the same
entries, only faster: tests/integration/audit/test_segment_decode.py holds the two against each other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shadan.audit.entry import TEXT_FIELDS
from shadan.audit.entry_sql import ARCHIVED_ENTRY
from shadan.audit.segment_file import COLUMNS, LIST_FIELDS, SCHEMA, canonical_json, defined_batch

_SHAPE = json.dumps(
    {"seq": "BIGINT", "ts": "VARCHAR"}
    | dict.fromkeys(TEXT_FIELDS, "VARCHAR")
    | dict.fromkeys(LIST_FIELDS, "VARCHAR[]")
    | {"extra": "JSON"}
)
_DECODED = ", ".join(
    [
        "d.seq AS seq",
        "entry",
        # Naive UTC, as entry_sql formats it; NULL for any other spelling of the time.
        "try_strptime(d.ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts",
        *(f"d.{name} AS {name}" for name in (*TEXT_FIELDS, *LIST_FIELDS)),
        "CAST(d.extra AS VARCHAR) AS extra",
    ]
)
_QUERY = (
    f"WITH parsed AS (SELECT leaf_index, entry, from_json(decode(entry), '{_SHAPE}') AS d FROM batch),"  # noqa: S608 -- fixed text
    f" decoded AS (SELECT leaf_index, {_DECODED} FROM parsed)"
    f" SELECT {', '.join(COLUMNS)}, {ARCHIVED_ENTRY} IS NOT DISTINCT FROM entry AS fits FROM decoded"
)


def segment_batch(first_leaf: int, entries: Sequence[bytes]) -> Any:
    """The rows of leaves first_leaf, first_leaf + 1, ... as a record batch of SCHEMA: what
    `defined_batch` returns (EntryError for an entry that is not an access event)."""
    if not entries:
        return defined_batch(first_leaf, entries)
    try:
        decoded = _decoded(first_leaf, entries)
    except duckdb.Error:
        return defined_batch(first_leaf, entries)
    fits = _fits(decoded)
    rows = decoded.filter(pa.array(fits)).drop_columns(["fits"]).cast(SCHEMA)
    others = [i for i, fit in enumerate(fits) if not fit]
    if others:
        # One call of the definition for all of them (a batch of ingested events may have no row DuckDB
        # can vouch for), then each row given back its own leaf.
        redone = pa.Table.from_batches([defined_batch(0, [entries[i] for i in others])])
        leaves = pa.array([first_leaf + i for i in others], pa.int64())
        redone = redone.set_column(0, SCHEMA.field("leaf_index"), leaves)
        rows = pa.concat_tables([rows, redone]).sort_by("leaf_index")
    return rows.combine_chunks().to_batches()[0]


def _decoded(first_leaf: int, entries: Sequence[bytes]) -> pa.Table:
    batch = pa.table(
        {
            "leaf_index": pa.array(range(first_leaf, first_leaf + len(entries)), pa.int64()),
            "entry": pa.array(entries, pa.binary()),
        }
    )
    with duckdb.connect() as db:
        db.register("batch", batch)
        return db.sql(_QUERY).to_arrow_table()


def _fits(decoded: pa.Table) -> list[bool]:
    """Whether each row built its entry and has its `extra` written as `defined_batch` writes it (the
    entry's own text could be JSON in another key order: such an entry was not written by shadan)."""
    fits: list[bool] = decoded.column("fits").fill_null(False).to_pylist()
    extras = decoded.column("extra")
    for i in pc.indices_nonzero(pc.not_equal(extras, "{}").fill_null(False)).to_pylist():
        text = extras[i].as_py()
        fits[i] = fits[i] and canonical_json(json.loads(text)) == text
    return fits
