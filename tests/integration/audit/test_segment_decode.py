"""segment_decode.segment_batch (DuckDB, vouched for row by row) against segment_file.defined_batch.

The fast path may only ever be faster: for any entries — as shadan writes them, respelled in ways shadan
never writes, or no access event at all — it returns the very batch the definition returns, or the same
error.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from entry_strategies import JSON_VALUES, logged_event
from hypothesis import given, settings
from hypothesis import strategies as st

from shadan.audit.entry import JSON_FIELDS, TEXT_FIELDS, entry_bytes
from shadan.audit.segment_decode import segment_batch
from shadan.audit.segment_file import EntryError, defined_batch


def _respelled(entry: bytes, draw: st.DrawFn) -> bytes:
    """The entry's event written otherwise: keys unsorted, ASCII escapes, spaces, or one value changed."""
    document: dict[str, Any] = json.loads(entry)
    how = draw(st.sampled_from(["unsorted", "ascii", "spaced", "value", "extra unsorted"]))
    if how == "value":
        document[draw(st.sampled_from(sorted(document)))] = draw(JSON_VALUES)
    if how == "extra unsorted":
        document["extra"] = dict(reversed(list(document["extra"].items())))
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return json.dumps(
        document,
        sort_keys=how != "unsorted",
        ensure_ascii=how == "ascii",
        separators=(", ", ": ") if how == "spaced" else (",", ":"),
    ).encode()


def _decoded(decode: Any, first: int, entries: list[bytes]) -> Any:
    try:
        return decode(first, entries).to_pylist()
    except EntryError:
        return EntryError


@settings(max_examples=150)
@given(st.lists(logged_event(), min_size=1, max_size=8), st.data())
def test_the_fast_batch_is_the_defined_one(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    entries = [entry_bytes(row) for row in rows]
    for i in data.draw(st.lists(st.integers(0, len(entries) - 1), max_size=3)):
        entries[i] = _respelled(entries[i], data.draw)
    first = data.draw(st.integers(0, 2**40))
    assert _decoded(segment_batch, first, entries) == _decoded(defined_batch, first, entries)


def test_rows_the_definition_decodes_keep_their_place() -> None:
    rows = [{"seq": i, "extra": {"b": i, "a": [1, "x"]}} for i in range(1, 7)]
    entries = [entry_bytes(_plain_row(row)) for row in rows]
    entries[2] = entries[2].replace(b'"a":[1,"x"],"b":3', b'"b":3,"a":[1,"x"]')  # not canonical
    entries[4] = entries[4].replace(b'"resource_ids":["r"]', b'"resource_ids":[5]')  # not a string
    batch = segment_batch(100, entries)
    assert batch.equals(defined_batch(100, entries))
    assert batch.column("leaf_index").to_pylist() == list(range(100, 106))
    assert batch.column("extra")[2].as_py() == '{"a":[1,"x"],"b":3}'
    assert batch.column("resource_ids")[4].as_py() == ["5"]


@pytest.mark.parametrize(
    "broken",
    [b"\xff\xfe", b"not json", b"[1, 2]", b'{"seq": 1}'],
    ids=["not UTF-8", "not JSON", "not an object", "not an event"],
)
def test_an_entry_that_is_no_event_is_refused_as_the_definition_refuses_it(broken: bytes) -> None:
    entries = [entry_bytes(_plain_row({"seq": 1})), broken]
    with pytest.raises(EntryError):
        defined_batch(0, entries)
    with pytest.raises(EntryError):
        segment_batch(0, entries)


def _plain_row(changes: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "t") | {"ts": dt.datetime(2025, 4, 1, tzinfo=dt.UTC)}
    row |= {name: ["r"] for name in JSON_FIELDS} | {"extra": {}}
    return row | changes


def test_a_batch_with_no_row_duckdb_vouches_for_is_the_defined_one() -> None:
    entries = [entry_bytes(_plain_row({"seq": i, "resource_ids": [i]})) for i in range(1, 5)]
    batch = segment_batch(7, entries)
    assert batch.equals(defined_batch(7, entries))
    assert batch.column("resource_ids").to_pylist() == [["1"], ["2"], ["3"], ["4"]]
