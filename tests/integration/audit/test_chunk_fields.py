"""The workers' checks of a chunk's entries run as one DuckDB statement (audit/chunk_fields.py): together
they hold only where each holds alone, and an entry DuckDB cannot parse is never vouched for."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from shadan.audit.chunk_fields import EntryCheck, checks_hold
from shadan.audit.chunk_index import index_check
from shadan.audit.chunk_times import span_rows, times_check
from shadan.audit.span_blocks import BLOCK

TIMES = ("2025-04-01T03:00:00.000001Z", "2025-04-01T03:00:00.000002Z")
EVENTS = pa.table(
    {
        "seq": pa.array([7, 8], pa.int64()),
        "entry": [
            '{"resource_ids":["0600001111222233300001"],"seq":7,"ts":"' + TIMES[0] + '","v":1}',
            '{"resource_ids":["a","b"],"seq":8,"ts":"' + TIMES[1] + '","v":1}',
        ],
    }
)
INDEX = pa.table(
    {"resource_id": ["0600001111222233300001", "a", "b"], "seq": pa.array([7, 8, 8], pa.int64())}
)


def _spans(earliest: str, latest: str) -> pa.Table:
    view_time = {"block": [7 // BLOCK], "earliest": [earliest], "latest": [latest]}
    return pa.table(view_time).cast(span_rows("sqlite"))


SPANS = _spans("2025-04-01 03:00:00.000001", "2025-04-01 03:00:00.000002")


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        yield connection


def _hold(duck: duckdb.DuckDBPyConnection, events: pa.Table, index: pa.Table, spans: pa.Table) -> bool:
    check = index_check(events, index)
    assert check is not None
    return checks_hold(duck, "sqlite", events, [check, times_check("sqlite", spans)])


def test_the_checks_hold_together_where_each_holds(duck: duckdb.DuckDBPyConnection) -> None:
    assert _hold(duck, EVENTS, INDEX, SPANS)


def test_a_wrong_index_row_fails_the_checks_together(duck: duckdb.DuckDBPyConnection) -> None:
    assert not _hold(duck, EVENTS, INDEX.slice(0, 2), SPANS)  # "b" of seq 8 gone


def test_a_narrowed_span_fails_the_checks_together(duck: duckdb.DuckDBPyConnection) -> None:
    narrowed = _spans("2025-04-01 03:00:00.000001", "2025-04-01 03:00:00.000001")
    assert not _hold(duck, EVENTS, INDEX, narrowed)


def test_every_check_reads_the_same_fields(duck: duckdb.DuckDBPyConnection) -> None:
    """Each check sees the same fields: the list's JSON text and the time's string, per event."""
    fields = EntryCheck(
        "SELECT count(*) FROM chunk_fields WHERE (seq, resource_ids, ts) NOT IN "
        f"""((7, '["0600001111222233300001"]', '{TIMES[0]}'), (8, '["a","b"]', '{TIMES[1]}'))"""
    )
    count = EntryCheck("SELECT count(*) - 2 FROM chunk_fields")
    assert checks_hold(duck, "sqlite", EVENTS, [fields, count])
    assert not checks_hold(duck, "sqlite", EVENTS, [fields, EntryCheck("SELECT count(*) FROM chunk_fields")])


def test_an_entry_duckdb_cannot_parse_is_an_error(duck: duckdb.DuckDBPyConnection) -> None:
    """An error, which makes the worker call its chunk dirty (columnar_chunks._CHUNK_ERRORS)."""
    broken = pa.table({"seq": pa.array([7], pa.int64()), "entry": ['{"resource_ids":["a"],"ts":']})
    with pytest.raises(duckdb.Error):
        checks_hold(duck, "sqlite", broken, [times_check("sqlite", SPANS)])


def test_one_check_cannot_make_up_for_another(duck: duckdb.DuckDBPyConnection) -> None:
    assert not checks_hold(duck, "sqlite", EVENTS, [EntryCheck("SELECT -1"), EntryCheck("SELECT 1")])
    assert not checks_hold(duck, "sqlite", EVENTS, [EntryCheck("SELECT NULL"), EntryCheck("SELECT 0")])
