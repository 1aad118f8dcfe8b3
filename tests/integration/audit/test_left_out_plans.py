"""The plans of what verification, the status page and retention read for the records of entries left out
(left_out_records.py): the records by the view's index of accounts, the events naming a seq by the search
index, each row by its key; never a walk of every event, which a verification of a large log cannot
afford once a year, let alone the status page at every look."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from audit_support import SETTLE, Clock, append, sqlite_plans, statements_of
from sqlalchemy import Engine, text

from shadan.audit.left_out_records import broken_records, open_records, still_left_out
from shadan.audit.sequencer import Sequencer


@pytest.fixture
def removed(engine: Engine, owner_engine: Engine, clock: Clock) -> None:
    """Seq 41, an entry the sequencer could not read, recorded (seq 43) and then removed by hand."""
    append(engine, 1, 40)
    entry = '{"resource_ids":["\\ud800"]}' if engine.dialect.name == "sqlite" else '{"ts":"no time"}'
    with owner_engine.begin() as connection:
        connection.execute(text("INSERT INTO access_log_entries (entry) VALUES (:entry)"), {"entry": entry})
    append(engine, 42, 1)
    Sequencer(engine, clock, SETTLE).sequence()
    with owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM access_log_entries WHERE seq = 41"))


def _reads(engine: Engine) -> list[tuple[str, Any]]:
    with engine.connect() as connection:

        def read() -> None:
            assert [broken.seq for broken in broken_records(connection)] == [41]
            assert still_left_out(connection, 5) == ()
            assert open_records(connection, [(0, 42)]) == [(41,)]  # retention's question of a month

        return [(s, p) for s, p in statements_of(engine, read) if s.startswith("SELECT")]  # no SAVEPOINT


def test_sqlite_reads_no_table_whole(engine: Engine, removed: None) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    for statement, plan in sqlite_plans(engine, _reads(engine)):
        # `ids` is json_each over one waiting event's list (search_index.naming), not a table.
        walks = [step for step in plan if step.startswith("SCAN") and "VIRTUAL TABLE" not in step]
        assert walks == [], (statement, plan)


def test_postgresql_reads_by_index(engine: Engine, removed: None) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    statements = _reads(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        # A test's tables are small: the planner would rightly walk them (test_postgres_plans.py). A merge
        # or hash join reads one side whole, the leaves here as cheap as a few lookups; in a large log,
        # joined with a few records, it would not be. What is asked: can each table be read by its keys?
        for method in ("seqscan", "bitmapscan", "mergejoin", "hashjoin"):
            connection.exec_driver_sql(f"SET enable_{method} = off")
        for statement, parameters in statements:
            document = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters
            ).scalar_one()
            plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
            for node in _nodes(plan):
                if node.get("Relation Name") in {"access_log_entries", "log_leaves", "log_resource_ids"}:
                    assert "Index Cond" in node, (statement, node)  # a lookup or a range, not a walk


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)
