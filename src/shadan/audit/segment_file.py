"""The Parquet file of an archive segment: one row per leaf, its entry and the event decoded from it.

`entry` (the exact bytes that were hashed into the leaf) is what the archive proves; the other columns are
a convenience for analysis engines (DuckDB, Spark), decoded from `entry` as `defined_batch` defines — the
writer writes what it returns and the checker compares every column with what it returns for the same
entries (both through segment_decode.segment_batch, which returns the same batch faster), so a convenience
column can never say something the entry does not.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shadan.audit.entry import TEXT_FIELDS

LIST_FIELDS = ("resource_ids", "categories", "withheld_categories", "policy_ids")
_STRINGS = pa.list_(pa.string())

SCHEMA = pa.schema(
    [
        pa.field("leaf_index", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("entry", pa.binary(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        *(pa.field(name, pa.string(), nullable=False) for name in TEXT_FIELDS),
        *(pa.field(name, _STRINGS, nullable=False) for name in LIST_FIELDS),
        pa.field("extra", pa.string(), nullable=False),  # JSON text, keys sorted as in the entry
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
BATCH_ROWS = 50_000


class EntryError(ValueError):
    """An entry that is not the JSON object of an access event."""


def defined_batch(first_leaf: int, entries: Sequence[bytes]) -> Any:
    """The rows of leaves first_leaf, first_leaf + 1, ... as a record batch of SCHEMA."""
    events = [_event(entry) for entry in entries]
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    columns["leaf_index"] = list(range(first_leaf, first_leaf + len(entries)))
    columns["entry"] = list(entries)
    for event in events:
        for name in COLUMNS[3:]:
            columns[name].append(event[name])
        columns["seq"].append(event["seq"])
    return pa.record_batch([pa.array(columns[name], SCHEMA.field(name).type) for name in COLUMNS], SCHEMA)


def write_segment_file(path: Path, batches: Iterator[Any]) -> None:
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)


def read_segment_file(path: Path) -> tuple[Any, Iterator[Any]]:
    """The file's Arrow schema and its record batches (pyarrow errors for an unreadable file)."""
    parquet = pq.ParquetFile(path)
    return parquet.schema_arrow, parquet.iter_batches(batch_size=BATCH_ROWS)


def _event(entry: bytes) -> dict[str, Any]:
    try:
        document = json.loads(entry)
        event: dict[str, Any] = {name: _string(document[name]) for name in TEXT_FIELDS}
        event["seq"] = document["seq"]
        event["ts"] = dt.datetime.fromisoformat(_string(document["ts"]))
        for name in LIST_FIELDS:
            event[name] = [v if isinstance(v, str) else canonical_json(v) for v in _list(document[name])]
        event["extra"] = canonical_json(document["extra"])
    except (ValueError, KeyError, TypeError) as exc:
        raise EntryError(f"not an access event entry: {exc}") from exc
    if type(event["seq"]) is not int:
        raise EntryError("the entry's seq is not an integer")
    return event


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
