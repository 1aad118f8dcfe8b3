"""The DuckDB entry expression of archived columns (entry_sql.py) against entry.py, on generated rows.

Soundness is what matters: verify-archive trusts the columns only when the bytes built from them equal
the segment's entry. So: whenever they do, the columns must be the entry's very values, whatever was
changed in them. Speed is the second property: columns as shadan writes them build their entries.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from audit_support import event
from entry_strategies import logged_event
from hypothesis import given, settings
from hypothesis import strategies as st

from shadan.audit.entry import JSON_FIELDS, TEXT_FIELDS, entry_bytes
from shadan.audit.entry_sql import ARCHIVED_ENTRY
from shadan.audit.log import event_to_row
from shadan.audit.segment_columns import ColumnCheck
from shadan.audit.segment_file import COLUMNS, SCHEMA, defined_batch, write_segment_file


def _respelled(value: Any, draw: st.DrawFn) -> Any:
    """Another value of the same column type, close to the original where that is harder to catch."""
    if isinstance(value, list):
        return draw(st.sampled_from([[*value, "x"], value[:-1], [None, *value], [*value, ""]]))
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=draw(st.sampled_from([1, -1, 1000])))
    if isinstance(value, int):
        return value + 1
    return draw(st.sampled_from([value + " ", " " + value, value.replace('"', "'"), value.upper(), ""]))


@settings(max_examples=200)
@given(st.lists(logged_event(), min_size=1, max_size=6), st.data())
def test_archived_columns_that_build_the_entry_are_the_entrys(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    entries = [entry_bytes(row) for row in rows]
    decoded = defined_batch(0, entries).to_pylist()
    edited = [dict(row) for row in decoded]
    for row in edited:
        for name in data.draw(st.lists(st.sampled_from(COLUMNS[3:]), max_size=2)):
            row[name] = _respelled(row[name], data.draw)
    built = _archived(edited)
    for row, expected, fast in zip(edited, decoded, built, strict=True):
        if fast == row["entry"]:
            assert row == expected


def test_archived_columns_of_plain_events_build_their_entries() -> None:
    rows = [
        {
            **dict.fromkeys(TEXT_FIELDS, '東京 "x"'),
            "seq": i,
            "ts": dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
            **{name: ["a"] for name in JSON_FIELDS},
            "extra": {"n": i, "b": ["c"]},
        }
        for i in range(1, 4)
    ]
    entries = [entry_bytes(row) for row in rows]
    assert _archived(defined_batch(0, entries).to_pylist()) == entries


def _archived(rows: list[dict[str, Any]]) -> list[bytes | None]:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    with duckdb.connect() as db:
        db.execute("SET TimeZone = 'Asia/Tokyo'")  # the entry's UTC must not depend on the session's zone
        db.register("segment", table)
        return db.sql(f"SELECT {ARCHIVED_ENTRY} AS entry FROM segment").fetchnumpy()["entry"].tolist()


def test_the_column_check_agrees_with_a_written_file_only(tmp_path: Path) -> None:
    entries = [entry_bytes(event_to_row(event(i)) | {"seq": i}) for i in range(1, 6)]
    written, tampered = tmp_path / "written.parquet", tmp_path / "tampered.parquet"
    batch = defined_batch(10, entries)
    write_segment_file(written, iter([batch]))
    rows = batch.to_pylist()
    rows[3]["purpose"] = "営業活動"
    write_segment_file(tampered, iter([pa.RecordBatch.from_pylist(rows, schema=SCHEMA)]))
    check = ColumnCheck()
    try:
        assert check.start(written, 10).result()
        assert not check.start(written, 11).result()  # leaf indices out of place
        assert not check.start(tampered, 10).result()
        assert not check.start(tmp_path / "missing.parquet", 10).result()
    finally:
        check.close()
