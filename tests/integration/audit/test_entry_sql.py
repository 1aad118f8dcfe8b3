"""The DuckDB entry expression (entry_sql.py) against entry.py, on generated stored rows.

Soundness is what matters: verification trusts the fast bytes only when they hash to the leaf, that is
when they ARE a canonical entry. So: whenever the fast bytes are a canonical entry, they must be the
entry entry.py makes of the same stored row — whatever the stored texts (other JSON spellings, broken
JSON, JSON followed by more fields, timestamps of another shape). Speed is the second property: rows as
shadan stores them come out exact.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from audit_support import append, event
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from shadan.audit.columnar_chunks import CHUNK_ROWS, chunk_queries
from shadan.audit.entry import FIELDS, JSON_FIELDS, TEXT_FIELDS, entry_bytes, entry_bytes_from_json_text
from shadan.audit.entry_sql import ARCHIVED_ENTRY, STORED_ENTRY
from shadan.audit.log import SqlAccessLog, event_to_row
from shadan.audit.merkle import leaf_hash
from shadan.audit.segment_columns import ColumnCheck
from shadan.audit.segment_file import COLUMNS, SCHEMA, segment_batch, write_segment_file
from shadan.services.audit_log import AuditLogService
from shadan.store.database import JSON_TEXT

_CHARS = st.characters(exclude_categories=("Cs",))  # Arrow and SQLite text is valid UTF-8
_TEXT = st.text(_CHARS, max_size=12)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_SPELLINGS = st.sampled_from(["shadan", "default", "spaced", "ascii"])
_TAILS = st.sampled_from(["", ',"outcome":"allowed"', "]", " ", "x"])


def _spell(value: Any, spelling: str) -> str:
    if spelling == "shadan":
        return JSON_TEXT(value)
    if spelling == "default":
        return json.dumps(value)
    if spelling == "spaced":
        return json.dumps(value, indent=1, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


@st.composite
def stored_json(draw: st.DrawFn) -> str:
    text = _spell(draw(_JSON_VALUES), draw(_SPELLINGS))
    return text + draw(_TAILS) if draw(st.booleans()) else text


@st.composite
def stored_ts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1)))
    shape = draw(st.sampled_from(["stored", "T", "short", "text"]))
    if shape == "stored":
        return moment.isoformat(" ", timespec="microseconds")
    if shape == "T":
        return moment.isoformat("T", timespec="microseconds")
    if shape == "short":
        return moment.isoformat(" ", timespec="seconds")
    return draw(_TEXT)


@st.composite
def stored_row(draw: st.DrawFn, plain: bool = False) -> dict[str, Any]:
    """One access_events row as the database gives it back (timestamps and JSON as stored text)."""
    # Every character but the control characters JSON escapes as \u00XX (DuckDB in capitals).
    usual = st.characters(min_codepoint=0x20, exclude_categories=("Cs",)) | st.sampled_from("\b\t\n\f\r")
    text = st.text(usual, max_size=12) if plain else _TEXT
    row: dict[str, Any] = {name: draw(text) for name in TEXT_FIELDS}
    row["seq"] = draw(st.integers(min_value=1, max_value=2**62))
    if plain:
        moment = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1)))
        row["ts"] = moment.isoformat(" ", timespec="microseconds")
        for name in JSON_FIELDS:
            row[name] = JSON_TEXT(draw(st.lists(text, max_size=3) | st.dictionaries(text, text, max_size=3)))
    else:
        row["ts"] = draw(stored_ts())
        for name in JSON_FIELDS:
            row[name] = draw(stored_json())
    return row


def _fast(rows: list[dict[str, Any]]) -> list[bytes | None]:
    schema = pa.schema([(name, pa.int64() if name == "seq" else pa.string()) for name in FIELDS])
    table = pa.Table.from_pylist(rows, schema=schema)
    with duckdb.connect() as db:
        db.register("stored", table)
        return db.sql(f"SELECT {STORED_ENTRY} AS entry FROM stored").fetchnumpy()["entry"].tolist()


def _exact(row: dict[str, Any]) -> bytes | None:
    """entry.py's bytes for the row, None where the exact path cannot read it either."""
    try:
        return entry_bytes_from_json_text({**row, "ts": dt.datetime.fromisoformat(row["ts"])})
    except ValueError:
        return None


def _is_canonical(entry: bytes) -> bool:
    """Whether the bytes are the canonical form of the JSON they hold (as every leaf's entry is)."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_float(text: str) -> Any:
        raise ValueError(f"a number that is not an integer: {text}")

    try:
        document = json.loads(entry, object_pairs_hook=unique, parse_float=no_float, parse_constant=no_float)
    except ValueError:
        return False
    return JSON_TEXT(document).encode("utf-8") == entry


@settings(max_examples=300, deadline=None)
@given(st.lists(stored_row(), min_size=1, max_size=8))
def test_fast_bytes_that_are_an_entry_are_the_rows_entry(rows: list[dict[str, Any]]) -> None:
    for row, fast in zip(rows, _fast(rows), strict=True):
        if fast is not None and _is_canonical(fast):
            assert fast == _exact(row), row


@settings(max_examples=100, deadline=None)
@given(st.lists(stored_row(plain=True), min_size=1, max_size=8))
def test_rows_as_shadan_stores_them_come_out_exact(rows: list[dict[str, Any]]) -> None:
    assert _fast(rows) == [_exact(row) for row in rows]


def test_an_edited_json_column_that_swallows_the_next_field_never_matches() -> None:
    honest = dict.fromkeys(TEXT_FIELDS, "x") | {"seq": 7, "ts": "2025-04-01 00:00:00.000000"}
    honest |= dict.fromkeys(JSON_FIELDS, "[]")
    entry = _exact(honest)
    assert _fast([honest]) == [entry]
    # The entry's own bytes after "categories": pasted into the column, the company_id column emptied.
    swallowing = honest | {"categories": '[],"company_id":"x"', "company_id": ""}
    assert _fast([swallowing]) != [entry]


@st.composite
def logged_event(draw: st.DrawFn) -> dict[str, Any]:
    """An access_events row as the application writes it (entry.entry_bytes takes such rows)."""
    row: dict[str, Any] = {name: draw(_TEXT) for name in TEXT_FIELDS}
    row["seq"] = draw(st.integers(min_value=1, max_value=2**62))
    row["ts"] = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1), timezones=st.just(dt.UTC)))
    for name in JSON_FIELDS:
        row[name] = draw(
            st.dictionaries(_TEXT, _JSON_VALUES, max_size=3)
            if name == "extra"
            else st.lists(_JSON_VALUES, max_size=3)
        )
    return row


def _respelled(value: Any, draw: st.DrawFn) -> Any:
    """Another value of the same column type, close to the original where that is harder to catch."""
    if isinstance(value, list):
        return draw(st.sampled_from([[*value, "x"], value[:-1], [None, *value], [*value, ""]]))
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=draw(st.sampled_from([1, -1, 1000])))
    if isinstance(value, int):
        return value + 1
    return draw(st.sampled_from([value + " ", " " + value, value.replace('"', "'"), value.upper(), ""]))


@settings(max_examples=200, deadline=None)
@given(st.lists(logged_event(), min_size=1, max_size=6), st.data())
def test_archived_columns_that_build_the_entry_are_the_entrys(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    entries = [entry_bytes(row) for row in rows]
    decoded = segment_batch(0, entries).to_pylist()
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
    assert _archived(segment_batch(0, entries).to_pylist()) == entries


def _archived(rows: list[dict[str, Any]]) -> list[bytes | None]:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    with duckdb.connect() as db:
        db.execute("SET TimeZone = 'Asia/Tokyo'")  # the entry's UTC must not depend on the session's zone
        db.register("segment", table)
        return db.sql(f"SELECT {ARCHIVED_ENTRY} AS entry FROM segment").fetchnumpy()["entry"].tolist()


def test_the_column_check_agrees_with_a_written_file_only(tmp_path: Path) -> None:
    entries = [entry_bytes(event_to_row(event(i)) | {"seq": i}) for i in range(1, 6)]
    written, tampered = tmp_path / "written.parquet", tmp_path / "tampered.parquet"
    batch = segment_batch(10, entries)
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


def test_events_as_shadan_writes_them_take_the_fast_path(engine: Engine, service: AuditLogService) -> None:
    """What a worker reads (its own query, on SQLite and PostgreSQL) builds every entry without entry.py:
    a change that sent them all to the slow path would still verify, only many times slower."""
    append(engine, 1, 20)
    with engine.begin() as connection:
        quoted = event(21, detail='say "x" \\ y', extra={"n": 1, "a": ["東京", None, True]})
        SqlAccessLog(connection).append([quoted])
    service.checkpoint()
    dialect = engine.dialect.name
    low, high = ("$1", "$2") if dialect == "postgresql" else ("?", "?")
    worker_query = chunk_queries(dialect)[0].replace(low, ":low", 1).replace(high, ":high", 1)
    with engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text(worker_query), {"low": 0, "high": 21})]
    table = pa.Table.from_pylist([r | {"leaf_hash": bytes(r["leaf_hash"])} for r in rows], schema=CHUNK_ROWS)
    with duckdb.connect() as db:
        db.register("chunk_rows", table)
        built = db.sql(f"SELECT {STORED_ENTRY} AS entry FROM chunk_rows").fetchnumpy()["entry"].tolist()
    assert [leaf_hash(entry) for entry in built] == table.column("leaf_hash").to_pylist()
