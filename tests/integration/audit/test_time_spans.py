"""The log's time spans (audit/time_spans.py) on SQLite and PostgreSQL: the sequencer writes spans that
cover its events' times, a period search through them finds exactly what a scan of the view finds (stray
clocks, events not sequenced yet, spans in more runs than a search reads), and verification reports a
span narrowed or gone, alike with and without workers."""

from __future__ import annotations

import datetime as dt

import pytest
from audit_support import AUDITOR, ORIGIN, SETTLE, Clock, event, sqlite_plans, statements_of
from sqlalchemy import DateTime, Engine, insert, select, text, type_coerce

from shadan.audit.entry import entry_bytes
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import access_events, access_log_entries, event_to_row
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.span_blocks import BLOCK
from shadan.audit.time_spans import MOST_RANGES, blocks_meeting, first_uncovered, seq_ranges
from shadan.audit.tree_tables import log_time_spans
from shadan.audit.verification import LogAudit
from shadan.audit.verify_chunks import Parallelism
from shadan.domain.events import AccessEvent
from shadan.services.audit_filters import EventFilters
from shadan.services.audit_log import AuditLogService, LogFailureKind, VerificationReport

DAY_0 = dt.date(2025, 4, 1)
# seq -> day (after DAY_0) of the event's time: two events a block for blocks 0-11, one day a block...
STEADY = {block * BLOCK + j: block for block in range(12) for j in (1, 2)}
# ...an event whose clock ran a month ahead, one whose clock was a year behind...
STRAY = {3 * BLOCK + 3: 30, 9 * BLOCK + 3: -400}
# ...days 50 and 60 taking turns block by block: day 50 is in 11 runs of blocks, more than a search reads...
ALTERNATE = {block * BLOCK + 1: 50 if block % 2 == 0 else 60 for block in range(20, 41)}
# ...and, committed after the rest was sequenced, events without a leaf or a span yet.
PENDING = {50 * BLOCK + 1: 5, 50 * BLOCK + 2: 50, 50 * BLOCK + 3: -400}

PERIODS = [(day, day) for day in (-400, -10, 0, 3, 5, 9, 11, 30, 50, 60, 99)] + [
    (0, 5),
    (30, None),
    (None, 3),
    (45, 65),
]


def _noon_in_japan(day: int) -> dt.datetime:
    return dt.datetime.combine(DAY_0 + dt.timedelta(days=day), dt.time(3), tzinfo=dt.UTC)


def _put(engine: Engine, days: dict[int, int]) -> None:
    """An event at each seq, at noon (Japan time) of its day."""
    rows = [
        {"seq": seq, "entry": _entry(event(seq, ts=_noon_in_japan(day)), seq)} for seq, day in days.items()
    ]
    with engine.begin() as connection:
        connection.execute(insert(access_log_entries), rows)


def _entry(logged: AccessEvent, seq: int) -> str:
    return entry_bytes(event_to_row(logged) | {"seq": seq}).decode("utf-8")


def _sequence(service: AuditLogService, clock: Clock) -> None:
    """Sequence everything, then again once the gaps between the seqs have settled: the horizon passes
    every event, so a period search reads them through their spans only."""
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()


def _filters(first: int | None, last: int | None) -> EventFilters:
    def day(n: int | None) -> dt.date | None:
        return None if n is None else DAY_0 + dt.timedelta(days=n)

    return EventFilters(date_from=day(first), date_to=day(last))


def _scanned(engine: Engine, filters: EventFilters) -> list[int]:
    """What the period holds, by a scan of every event through the view."""
    c = access_events.c
    query = select(c.seq).order_by(c.seq.desc())
    if filters.since is not None:
        query = query.where(c.ts >= filters.since)
    if filters.until is not None:
        query = query.where(c.ts < filters.until)
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def _spans(engine: Engine) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    s, view_time = log_time_spans.c, DateTime(timezone=True)
    query = select(s.block, type_coerce(s.earliest, view_time), type_coerce(s.latest, view_time))
    with engine.connect() as connection:
        return {block: (_utc(e), _utc(la)) for block, e, la in connection.execute(query)}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value  # SQLite's are naive UTC


def test_the_sequencer_writes_each_blocks_earliest_and_latest_time(
    engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    _put(engine, STEADY | STRAY)
    _sequence(service, clock)
    expected = {block: (_noon_in_japan(block), _noon_in_japan(block)) for block in range(12)}
    expected[3] = (_noon_in_japan(3), _noon_in_japan(30))
    expected[9] = (_noon_in_japan(-400), _noon_in_japan(9))
    assert _spans(engine) == expected
    _put(engine, {11 * BLOCK + 10: -10, 12 * BLOCK: 12})  # a later batch widens a span and starts one
    _sequence(service, clock)
    assert _spans(engine) == expected | {
        11: (_noon_in_japan(-10), _noon_in_japan(11)),
        12: (_noon_in_japan(12),) * 2,
    }


def test_a_period_search_finds_what_a_scan_of_the_view_finds(
    engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    _put(engine, STEADY | STRAY | ALTERNATE)
    _sequence(service, clock)
    _put(engine, PENDING)
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    for first, last in PERIODS:
        filters = _filters(first, last)
        expected = _scanned(engine, filters)
        assert [e.seq for e in search.search(filters, None, 1000)] == expected, (first, last)
        assert search.page(filters, None, 1, 1000)[1] == len(expected)
        assert search.page(filters, None, 1, 2)[1] == min(2, len(expected))
        paged, before = [], None
        while page := search.search(filters, before, 2):
            paged += [e.seq for e in page]
            before = page[-1].seq
        assert paged == expected
    with engine.connect() as connection:
        blocks = blocks_meeting(connection, _filters(50, 50).since, _filters(50, 50).until)
    assert len(seq_ranges(blocks, 50 * BLOCK)) == MOST_RANGES  # 11 runs and the rest: merged


def test_a_search_by_period_reads_ranges_of_seqs_not_every_event(
    engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    _put(engine, STEADY | ALTERNATE)
    _sequence(service, clock)
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    reads = (
        lambda: search.search(_filters(5, 5), None, 50),
        lambda: search.page(_filters(50, 50), None, 50, 100),
    )
    for run in reads:
        statements = [s for s in statements_of(engine, run) if "access_log_entries" in s[0]]
        assert statements
        for _, plan in sqlite_plans(engine, statements):
            assert not [step for step in plan if step.startswith("SCAN access_log_entries")], plan


_SPANS_KEY, _KEY = "pk_log_time_spans", "PRIMARY KEY (block)"


def test_a_block_given_twice_is_read_once(
    engine: Engine, owner_engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    """With the table's key dropped, a block can have two spans: its events are still found once each."""
    _put(engine, STEADY)
    _sequence(service, clock)
    without_key = {
        "sqlite": [
            "CREATE TABLE spans_copy AS SELECT * FROM log_time_spans",
            "DROP TABLE log_time_spans",
            "ALTER TABLE spans_copy RENAME TO log_time_spans",
        ],
        "postgresql": [f"ALTER TABLE log_time_spans DROP CONSTRAINT {_SPANS_KEY}"],
    }
    with owner_engine.begin() as connection:
        for statement in without_key[connection.dialect.name]:
            connection.execute(text(statement))
        connection.execute(text("INSERT INTO log_time_spans SELECT * FROM log_time_spans WHERE block = 4"))
    try:
        day_4 = _filters(4, 4)
        found = SqlLogSearch(engine, time_limit_seconds=10.0).search(day_4, None, 50)
        assert [e.seq for e in found] == _scanned(engine, day_4) == [4 * BLOCK + 2, 4 * BLOCK + 1]
    finally:
        if owner_engine.dialect.name == "postgresql":  # the session's database: the key back for the next
            with owner_engine.begin() as connection:
                connection.execute(text("DELETE FROM log_time_spans"))
                connection.execute(text(f"ALTER TABLE log_time_spans ADD CONSTRAINT {_SPANS_KEY} {_KEY}"))


def _audit(engine: Engine, keys: FileKeyStore, workers: bool) -> VerificationReport:
    parallelism = Parallelism(workers=2, chunk_level=2, min_chunks=1) if workers else Parallelism(workers=1)
    audit = LogAudit(engine, keys.verifiers(), ORIGIN, chunk=3, parallelism=parallelism)
    return audit.run(None, lambda _total, _done: None)


TAMPERING = {
    "narrowed to its earliest time": (
        "UPDATE log_time_spans SET latest = earliest WHERE block = 3",
        3 * BLOCK + 3,
    ),
    "gone": ("DELETE FROM log_time_spans WHERE block = 9", 9 * BLOCK + 1),
    "moved to another block": ("UPDATE log_time_spans SET block = 99 WHERE block = 5", 5 * BLOCK + 1),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_span_narrowed_hides_events_from_a_period_search_and_verification_reports_it(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, service: AuditLogService, clock: Clock, how: str
) -> None:
    _put(engine, STEADY | STRAY)
    _sequence(service, clock)
    assert _audit(engine, keys, workers=False).ok
    statement, first_hidden = TAMPERING[how]
    with owner_engine.begin() as connection:
        connection.execute(text(statement))
    day = {3 * BLOCK + 3: 30, 9 * BLOCK + 1: 9, 5 * BLOCK + 1: 5}[first_hidden]
    found = SqlLogSearch(engine, time_limit_seconds=10.0).search(_filters(day, day), None, 50)
    assert first_hidden not in [e.seq for e in found]  # what the attacker wanted
    serial, parallel = _audit(engine, keys, workers=False), _audit(engine, keys, workers=True)
    assert [(f.kind, f.seq) for f in serial.failures] == [(LogFailureKind.TIME_SPANS, first_hidden)]
    assert serial.exit_code == 24
    assert parallel == serial
    report = service.verify(run_by=AUDITOR)
    assert (
        report.failures[0].detail_ja
        == f"連番 {first_hidden} のイベントの時刻が、そのブロックの時刻範囲に含まれていません"
    )


def test_an_entry_waiting_with_no_time_does_not_stop_verification(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, service: AuditLogService, clock: Clock
) -> None:
    """An entry written straight into the table with a `ts` that is no time: the sequencer stops on it,
    and it waits without a leaf. Only the leaves' events are read for their time; PostgreSQL used to test
    every entry's while it scanned them, and the failed cast stopped the run instead of the report."""
    _put(engine, STEADY)
    _sequence(service, clock)
    with owner_engine.begin() as connection:
        connection.execute(
            text("""INSERT INTO access_log_entries (seq, entry) VALUES (:seq, '{"ts":"no time"}')"""),
            {"seq": 12 * BLOCK + 1},
        )
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":  # the plan of a larger log: a hash join scans every entry
            connection.exec_driver_sql("SET enable_nestloop = off")
            connection.exec_driver_sql("SET enable_mergejoin = off")
        assert first_uncovered(connection, 0, len(STEADY)) is None
    report = _audit(engine, keys, workers=False)
    assert (report.ok, report.pending_events) == (True, 1)


def test_a_span_that_is_not_text_is_no_span_on_sqlite(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, service: AuditLogService, clock: Clock
) -> None:
    """SQLite compares a BLOB as greater than any text: a span whose earliest time is one meets no period."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's types")
    _put(engine, STEADY)
    _sequence(service, clock)
    with owner_engine.begin() as connection:
        connection.execute(
            text("UPDATE log_time_spans SET earliest = CAST(earliest AS BLOB) WHERE block = 4")
        )
    assert SqlLogSearch(engine, time_limit_seconds=10.0).search(_filters(4, 4), None, 50) == []
    serial, parallel = _audit(engine, keys, workers=False), _audit(engine, keys, workers=True)
    assert [(f.kind, f.seq) for f in serial.failures] == [(LogFailureKind.TIME_SPANS, 4 * BLOCK + 1)]
    assert parallel == serial


def test_times_the_workers_cannot_read_as_the_database_are_checked_by_it(
    engine: Engine, keys: FileKeyStore, service: AuditLogService, clock: Clock
) -> None:
    """Entries whose `ts` DuckDB cannot vouch for: another key "ts" inside (PostgreSQL takes the last of
    repeated keys), a time of another shape. The parent asks the database, and the log verifies."""
    odd = {
        1: _entry(event(1, extra={"ts": "2031-01-01T00:00:00.000000Z"}), 1),
        2: _entry(event(2), 2).replace(".000000Z", "+00:00"),
    }
    with engine.begin() as connection:
        connection.execute(insert(access_log_entries), [{"seq": s, "entry": e} for s, e in odd.items()])
    _put(engine, dict.fromkeys(range(3, 12), 0))
    _sequence(service, clock)
    serial, parallel = _audit(engine, keys, workers=False), _audit(engine, keys, workers=True)
    assert serial.ok
    assert parallel == serial
    day_0 = _filters(0, 0)
    assert [e.seq for e in SqlLogSearch(engine, time_limit_seconds=10.0).search(day_0, None, 50)] == _scanned(
        engine, day_0
    )
