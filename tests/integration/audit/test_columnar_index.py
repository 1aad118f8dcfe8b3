"""A worker's check of the search index (columnar_chunks.ChunkChecker): the quick comparison settles the
usual events (no id, one id), the exact one every other list, and neither lets a wrong index row through.

The reports of whole verifications are compared in test_log_maintenance_parallel.py; here the worker's
own answer is asked for, since a worker that wrongly calls a chunk dirty still gives the right report
(the parent checks the chunk again), only far slower. The last test holds what the sequencer indexes to
the definition verification checks against, for entries of any shape.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from audit_support import event
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from shadan.audit.chunk_fields import checks_hold
from shadan.audit.chunk_index import index_check
from shadan.audit.columnar_chunks import ChunkChecker
from shadan.audit.event_view import column_expression
from shadan.audit.log import SqlAccessLog
from shadan.audit.search_index import first_index_difference
from shadan.audit.sequencer import Sequencer
from shadan.audit.verify_chunks import adbc_database
from shadan.services.audit_log import AuditLogService

# Lists of every shape: the usual single id, none, several (out of order, repeated), and items the
# index leaves out (numbers, objects).
RESOURCE_LISTS: Sequence[tuple[object, ...]] = (
    ("0600001111222233300001",),
    (),
    ("0600001111222233300009", "0600001111222233300003"),
    ("0600001111222233300004", "0600001111222233300004"),
    (7, "0600001111222233300005"),
    ({"id": "0600001111222233300006"},),
    ('ID"with\\quotes',),
    ("東京-0001",),
)


@pytest.fixture
def sequenced(engine: Engine, service: AuditLogService) -> int:
    """One event of each list shape, sequenced; returns the number of leaves."""
    with engine.begin() as connection:
        SqlAccessLog(connection).append(
            [event(i + 1, resource_ids=ids) for i, ids in enumerate(RESOURCE_LISTS)]
        )
    service.checkpoint()
    return len(RESOURCE_LISTS)


def index_agrees(duck: duckdb.DuckDBPyConnection, events: pa.Table, index: pa.Table) -> bool:
    check = index_check(events, index)
    return check is not None and checks_hold(duck, "sqlite", events, [check])


def _worker_vouches(engine: Engine, size: int) -> bool:
    checker = ChunkChecker(adbc_database(engine.url), None)
    try:
        return checker.check(0, size, 3) is not None
    finally:
        checker.close()


def test_every_list_shape_is_settled_in_the_worker(engine: Engine, sequenced: int) -> None:
    assert _worker_vouches(engine, sequenced)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM log_resource_ids WHERE seq = 1",  # the one id hidden
        "DELETE FROM log_resource_ids WHERE seq = 3 AND resource_id = '0600001111222233300003'",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300099', 2)",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300099', 1)",
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('7', 5)",  # a number is not an id
        "UPDATE log_resource_ids SET resource_id = 'ID' WHERE seq = 7",
    ],
)
def test_a_wrong_index_row_makes_the_chunk_dirty(
    engine: Engine, owner_engine: Engine, sequenced: int, statement: str
) -> None:
    with owner_engine.begin() as connection:
        connection.execute(text(statement))
    assert not _worker_vouches(engine, sequenced)


# Entries the sequencer never writes are still possible in a database someone edited: the check must hold
# for any JSON, spelled any way (escapes, spaces), not only for canonical entries.
_CHARS = st.characters(exclude_categories=("Cs",))  # Arrow and SQLite text is valid UTF-8
_IDS = st.sampled_from(["0600001111222233300001", "0600001111222233300002", "東京", 'a"b', "\\", ""])
_ITEMS = (
    _IDS | st.text(_CHARS, max_size=3) | st.integers() | st.none() | st.dictionaries(_IDS, _IDS, max_size=1)
)
_VALUES = st.lists(_ITEMS, max_size=4) | _ITEMS  # usually a list


@st.composite
def _entry(draw: st.DrawFn, seq: int) -> str:
    document: dict[str, Any] = {"seq": seq, "extra": draw(st.dictionaries(st.just("resource_ids"), _VALUES))}
    if draw(st.integers(min_value=0, max_value=9)):  # now and then no list at all
        document["resource_ids"] = draw(_VALUES)
    return json.dumps(document, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1])))


def _indexed_ids(entry: str) -> set[str]:
    """The strings of the entry's `resource_ids` list, as every reader reads an entry `json.dumps` wrote
    (no repeated key, no name spelled with escapes)."""
    value = json.loads(entry).get("resource_ids")
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


@st.composite
def _events_and_index(draw: st.DrawFn) -> tuple[list[tuple[int, str]], list[tuple[str, int]], bool]:
    """Events (seq, entry), an index that may be edited (rows of other seqs are allowed in it), and whether
    it still holds exactly the events' ids."""
    seqs = sorted(draw(st.sets(st.integers(min_value=1, max_value=40), min_size=1, max_size=8)))
    events = [(seq, draw(_entry(seq))) for seq in seqs]
    rows = {(resource_id, seq) for seq, entry in events for resource_id in _indexed_ids(entry)}
    index = set(rows)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        if index and draw(st.booleans()):
            index.discard(draw(st.sampled_from(sorted(index))))
        else:  # mostly a row for one of the events, now and then one for another seq
            seq = draw(st.sampled_from(seqs) | st.integers(min_value=0, max_value=41))
            index.add((draw(_IDS), seq))
    wanted = {row for row in index if row[1] in seqs}
    return events, sorted(index, key=lambda row: (row[1], row[0])), wanted == rows


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


@settings(max_examples=300)
@given(_events_and_index())
def test_the_index_check_agrees_with_the_definition(
    duck: duckdb.DuckDBPyConnection, case: tuple[list[tuple[int, str]], list[tuple[str, int]], bool]
) -> None:
    events, index, holds = case
    events_table = pa.table(
        {"seq": pa.array([s for s, _ in events], pa.int64()), "entry": [e for _, e in events]}
    )
    index_table = pa.table(
        {
            "resource_id": pa.array([r for r, _ in index], pa.string()),
            "seq": pa.array([s for _, s in index], pa.int64()),
        }
    )
    assert index_agrees(duck, events_table, index_table) is holds


def test_an_index_out_of_seq_order_is_never_vouched_for(duck: duckdb.DuckDBPyConnection) -> None:
    events = pa.table(
        {"seq": pa.array([1, 2], pa.int64()), "entry": ['{"resource_ids":["a"]}', '{"resource_ids":["b"]}']}
    )
    rows = [("b", 2), ("a", 1)]
    index = pa.table({"resource_id": [r for r, _ in rows], "seq": pa.array([s for _, s in rows], pa.int64())})
    assert not index_agrees(duck, events, index)
    assert index_agrees(duck, events, index.sort_by("seq"))


def test_one_row_that_spells_a_list_of_two_is_not_taken_for_it(duck: duckdb.DuckDBPyConnection) -> None:
    events = pa.table({"seq": pa.array([1], pa.int64()), "entry": ['{"resource_ids":["a","b"]}']})
    forged = pa.table({"resource_id": ['a","b'], "seq": pa.array([1], pa.int64())})
    assert not index_agrees(duck, events, forged)
    real = pa.table({"resource_id": ["a", "b"], "seq": pa.array([1, 1], pa.int64())})
    assert index_agrees(duck, events, real)


@pytest.mark.parametrize(
    "entry", ['{"seq":1}', '{"seq":1,"resource_ids":null}', '{"seq":1,"resource_ids":"a"}']
)
@pytest.mark.parametrize("ids", [["a"], ["a", "b"], ["a", "b", "c"]])
def test_rows_for_an_event_without_a_list_are_never_vouched_for(
    duck: duckdb.DuckDBPyConnection, entry: str, ids: list[str]
) -> None:
    events = pa.table({"seq": pa.array([1], pa.int64()), "entry": [entry]})
    index = pa.table({"resource_id": ids, "seq": pa.array([1] * len(ids), pa.int64())})
    assert not index_agrees(duck, events, index)
    assert index_agrees(duck, events, index.slice(0, 0))


def test_rows_in_another_order_than_the_list_are_still_the_same_ids(duck: duckdb.DuckDBPyConnection) -> None:
    events = pa.table({"seq": pa.array([1, 2], pa.int64()), "entry": ['{"resource_ids":["b","a"]}', "[]"]})
    index = pa.table({"resource_id": ["a", "b"], "seq": pa.array([1, 1], pa.int64())})
    assert index_agrees(duck, events, index)
    assert not index_agrees(duck, events, index.slice(0, 1))


ESCAPED_FIRST = '{"r\\u0065source_ids":["A"],"resource_ids":["B"],"seq":1}'
# Escaped spellings of several of the name's characters (`\u005f` and `\u005F` alike).
ESCAPED_NAMES = ("r\\u0065source_ids", "resource_id\\u0073", "resource\\u005fids", "resource\\u005Fids")
REPEATED = '{"resource_ids":["A"],"resource_ids":["B"],"seq":1}'


def _one_event_vouched(duck: duckdb.DuckDBPyConnection, dialect: str, entry: str, ids: list[str]) -> bool:
    events = pa.table({"seq": pa.array([1], pa.int64()), "entry": [entry]})
    index = pa.table({"resource_id": ids, "seq": pa.array([1] * len(ids), pa.int64())})
    check = index_check(events, index)
    return check is not None and checks_hold(duck, dialect, events, [check])


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name", ESCAPED_NAMES)
def test_a_list_under_a_key_spelled_with_escapes_is_never_vouched_for(
    duck: duckdb.DuckDBPyConnection, dialect: str, name: str
) -> None:
    """DuckDB reads `r\\u0065source_ids` as `resource_ids` and takes it, the first; SQLite reads only the
    second: an index edited to the first list would hide the event from a search by the second."""
    entry = ESCAPED_FIRST.replace("r\\u0065source_ids", name)
    assert not _one_event_vouched(duck, dialect, entry, ["A"])
    assert not _one_event_vouched(duck, dialect, entry, ["B"])


def test_a_repeated_list_is_read_as_the_first_on_sqlite_and_left_to_postgresql(
    duck: duckdb.DuckDBPyConnection,
) -> None:
    assert _one_event_vouched(duck, "sqlite", REPEATED, ["A"])
    assert not _one_event_vouched(duck, "sqlite", REPEATED, ["B"])
    assert not _one_event_vouched(duck, "postgresql", REPEATED, ["A"])
    assert not _one_event_vouched(duck, "postgresql", REPEATED, ["B"])


@pytest.mark.parametrize(
    "entry", [REPEATED, *(ESCAPED_FIRST.replace("r\\u0065source_ids", n) for n in ESCAPED_NAMES)]
)
def test_workers_vouch_only_for_the_list_the_database_reads(
    engine: Engine, duck: duckdb.DuckDBPyConnection, entry: str
) -> None:
    """Held against each database's view itself: whatever the workers vouch for is what it reads."""
    dialect = engine.dialect.name
    expression = column_expression(dialect, "resource_ids")
    with engine.connect() as connection:
        read = connection.execute(
            text(f"SELECT {expression} FROM (SELECT CAST(:entry AS TEXT) AS entry) AS e"), {"entry": entry}
        ).scalar_one()
    database_reads = json.loads(read) if isinstance(read, str) else read
    for ids in (["A"], ["B"]):
        if _one_event_vouched(duck, dialect, entry, ids):
            assert ids == database_reads


def test_sqlite_reads_the_list_duckdb_reads_only_without_escaped_names() -> None:
    """The premises, in the library the application reads with: SQLite takes the first of repeated keys,
    and does not read a key spelled with escapes as `resource_ids`."""
    with sqlite3.connect(":memory:") as database:
        statement = "SELECT json_extract(?, '$.resource_ids')"
        read = [database.execute(statement, (entry,)).fetchone()[0] for entry in (REPEATED, ESCAPED_FIRST)]
    assert read == ['["A"]', '["B"]']


@st.composite
def _crafted_entry(draw: st.DrawFn, seq: int) -> str:
    """An entry as `_entry` draws it, now and then with a second list first or last: under the same key or
    a key spelled with escapes, which each database reads in its own way."""
    entry = draw(_entry(seq))
    if not draw(st.integers(min_value=0, max_value=3)):
        return entry
    name = draw(st.sampled_from(["resource_ids", *ESCAPED_NAMES]))
    second = f'"{name}":{json.dumps(draw(st.lists(_IDS, min_size=1, max_size=2) | _VALUES))}'
    return f"{{{second},{entry[1:]}" if draw(st.booleans()) else f"{entry[:-1]},{second}}}"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_sequencer_indexes_any_entry_as_verification_reads_it(
    engine: Engine, owner_engine: Engine, data: st.DataObject
) -> None:
    """Whatever is written into the table, the rows the sequencer indexes are the rows verification's
    definition asks for (search_index.first_index_difference): no false alarm, nothing left out. On
    PostgreSQL both read the list by a path, not by the view's column: the rows are the strings of the
    view's list too (on SQLite both are the view's own json_extract)."""
    with owner_engine.begin() as connection:
        seq = connection.execute(
            text("SELECT coalesce(max(seq), 0) + 1 FROM access_log_entries")
        ).scalar_one()
        entry = data.draw(_crafted_entry(seq))
        assume(engine.dialect.name != "postgresql" or "\\u0000" not in entry)  # jsonb refuses it: no entry
        connection.execute(
            text("INSERT INTO access_log_entries (seq, entry) VALUES (:seq, :entry)"),
            {"seq": seq, "entry": entry},
        )
    size = Sequencer(engine, lambda: dt.datetime(2100, 1, 1, tzinfo=dt.UTC)).sequence()
    with engine.connect() as connection:
        assert first_index_difference(connection, size - 1, size) is None  # this entry's leaf
        if engine.dialect.name == "postgresql":
            listed = connection.execute(
                text("SELECT resource_ids FROM access_events WHERE seq = :seq"), {"seq": seq}
            ).scalar_one()
            indexed = connection.execute(
                text("SELECT resource_id FROM log_resource_ids WHERE seq = :seq"), {"seq": seq}
            ).scalars()
            strings = {i for i in listed if isinstance(i, str)} if isinstance(listed, list) else set()
            assert set(indexed) == strings
