"""What the workers' DuckDB vouches for about an event's time (audit/chunk_times.py), held against what the
databases read: DuckDB vouches only where it reads the `ts` the view reads, and otherwise leaves the chunk
to the parent (False), whatever the span says."""

from __future__ import annotations

import datetime as dt
import sqlite3

import duckdb
import pyarrow as pa
import pytest

from shadan.audit.chunk_fields import EntryCheck, checks_hold
from shadan.audit.chunk_times import span_rows, times_check
from shadan.audit.event_view import column_expression
from shadan.audit.span_blocks import BLOCK

TS = "2025-04-01T03:00:00.000001Z"
SQLITE_TS = "2025-04-01 03:00:00.000001"
PG_TS = dt.datetime(2025, 4, 1, 3, 0, 0, 1, tzinfo=dt.UTC)
CANONICAL = '{"account_id":"k.tanaka","extra":{},"seq":5,"ts":"' + TS + '","v":1}'


def times_covered(duck: duckdb.DuckDBPyConnection, dialect: str, events: pa.Table, spans: pa.Table) -> bool:
    return checks_hold(duck, dialect, events, [times_check(dialect, spans)])


def _covered(dialect: str, entries: list[str], earliest: object, latest: object) -> bool:
    events = pa.table({"seq": pa.array(range(5, 5 + len(entries)), pa.int64()), "entry": entries})
    spans = pa.table({"block": [5 // BLOCK], "earliest": [earliest], "latest": [latest]}).cast(
        span_rows(dialect)
    )
    with duckdb.connect() as duck:
        return times_covered(duck, dialect, events, spans)


@pytest.mark.parametrize(("dialect", "time"), [("sqlite", SQLITE_TS), ("postgresql", PG_TS)])
def test_a_canonical_time_is_vouched_for_only_within_its_span(dialect: str, time: object) -> None:
    later = SQLITE_TS.replace("03:00", "04:00") if dialect == "sqlite" else PG_TS + dt.timedelta(hours=1)
    assert _covered(dialect, [CANONICAL], time, time)
    assert _covered(dialect, [CANONICAL], time, later)
    assert not _covered(dialect, [CANONICAL], later, later)
    empty = pa.table({"block": [], "earliest": [], "latest": []}).cast(span_rows(dialect))
    with duckdb.connect() as duck:
        events = pa.table({"seq": pa.array([5], pa.int64()), "entry": [CANONICAL]})
        assert not times_covered(duck, dialect, events, empty)  # no span at all


ODD = {
    "a time of another shape": CANONICAL.replace(".000001Z", "+00:00"),
    "no time": CANONICAL.replace(f'"ts":"{TS}",', ""),
    "a time that is a number": CANONICAL.replace(f'"{TS}"', "20250401"),
    "a key spelled with escapes": CANONICAL.replace('"extra":{}', f'"t\\u0073":"{TS}"'),
}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("how", list(ODD))
def test_times_duckdb_may_read_otherwise_are_left_to_the_database(dialect: str, how: str) -> None:
    time = SQLITE_TS if dialect == "sqlite" else PG_TS
    assert not _covered(dialect, [CANONICAL, ODD[how]], time, time)


def test_a_repeated_ts_is_read_as_the_first_on_sqlite_and_left_to_postgresql() -> None:
    """SQLite (and DuckDB) take the first of repeated keys; PostgreSQL's jsonb keeps the last."""
    twice = CANONICAL.replace('"v":1', '"ts":"2031-01-01T00:00:00.000000Z","v":1')
    assert _covered("sqlite", [twice], SQLITE_TS, SQLITE_TS)
    assert not _covered("postgresql", [twice], PG_TS, PG_TS)


def test_sqlite_reads_the_time_duckdb_reads() -> None:
    """The premises of the SQLite rule, in the library the application reads with: the first of repeated
    keys, and the view's text of a canonical time."""
    view_ts = column_expression("sqlite", "ts")
    twice = CANONICAL.replace('"v":1', '"ts":"2031-01-01T00:00:00.000000Z","v":1')
    with sqlite3.connect(":memory:") as database:
        statement = f"SELECT {view_ts} FROM (SELECT ? AS entry)"
        read = [database.execute(statement, (entry,)).fetchone()[0] for entry in (CANONICAL, twice)]
    events = pa.table({"seq": pa.array([5], pa.int64()), "entry": [twice]})
    read_first = EntryCheck(f"SELECT count(*) FROM chunk_fields WHERE ts IS DISTINCT FROM '{TS}'")
    with duckdb.connect() as duck:
        assert checks_hold(duck, "sqlite", events, [read_first])  # the `ts` the workers' checks read
    assert read == [SQLITE_TS, SQLITE_TS]
