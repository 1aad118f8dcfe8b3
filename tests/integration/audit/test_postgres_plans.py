"""PostgreSQL's plans for the log's reads that must not grow with it (the verification workers' chunks, a
proof's hashes, the witnesses' cosignatures, the status page's counts, a search by period's ranges): each
a lookup or a range scan of an index in the order asked for, never a scan of the whole table or a sort of
the rows read.

On the small tables of a test the planner rightly prefers scanning the table (or a bitmap of it, sorted
afterwards), so both are switched off for the session: what is checked is that an index serves each read
in the order asked for, as it does for a chunk of a log of millions of events. The plan that cost most
before was a join of a chunk's leaves and events that hashed every event and sorted the result again
(columnar_chunks.chunk_queries).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from audit_support import SETTLE, Clock, append, append_at, statements_of
from sqlalchemy import Connection, Engine

from shadan.audit.chunk_times import SPANS
from shadan.audit.columnar_chunks import bounded, chunk_queries
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import node_key
from shadan.audit.sequencer import batch_events
from shadan.audit.span_blocks import BLOCK
from shadan.audit.transparency_log import WITNESS_NAMES, cosignatures_newest_first, newest_of
from shadan.services.audit_filters import EventFilters
from shadan.services.audit_log import AuditLogService

pytestmark = pytest.mark.postgres


@pytest.fixture
def planner(engine: Engine, service: AuditLogService, db_url: str) -> Iterator[Connection]:
    """A connection to a logged and analysed database that plans as for a large log."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's plans")
    append(engine, 1, 40)
    service.checkpoint()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_bitmapscan = off")
        yield connection


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def explain(connection: Connection, statement: str, parameters: Any = None) -> list[dict[str, Any]]:
    """The plan's nodes, the top first."""
    document = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
    return list(plan_nodes((json.loads(document) if isinstance(document, str) else document)[0]["Plan"]))


def test_every_worker_read_is_an_index_range_scan_in_order(planner: Connection) -> None:
    for statement in (*chunk_queries(), SPANS["postgresql"]):
        nodes = explain(planner, bounded(statement, 0, 1 << 20))
        kinds = [node["Node Type"] for node in nodes]
        assert kinds[0] in {"Index Scan", "Index Only Scan"}, (statement, kinds)
        assert not {"Sort", "Seq Scan"} & set(kinds), (statement, kinds)
        assert "Index Cond" in nodes[0], statement  # the range bounds the scan, not a filter after it
        assert nodes[0].get("Scan Direction") == "Forward", statement


def test_a_proofs_reads_look_up_the_keys_in_their_indexes(planner: Connection) -> None:
    """An inclusion proof reads its 2·log2(n) hashes by key (tree_store.node_reader): index lookups."""
    keys = ", ".join(str(node_key(NodeId(level, 1))) for level in range(1, 5))
    reads = [
        f"SELECT node_key, hash FROM log_nodes WHERE node_key IN ({keys})",
        "SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index IN (3, 17)",
    ]
    for statement in reads:
        top = explain(planner, statement)[0]
        assert top["Node Type"] in {"Index Scan", "Index Only Scan"}, statement
        assert "Index Cond" in top, statement


def test_the_witnessed_checkpoint_is_found_from_the_newest_cosignature_down(planner: Connection) -> None:
    """A proof's checkpoint is looked for in the cosignatures, newest first: an index scan backward that
    stops early, never a sort of them all (nor a walk of every checkpoint)."""
    query = cosignatures_newest_first(3).compile(
        dialect=planner.dialect, compile_kwargs={"literal_binds": True}
    )
    nodes = explain(planner, str(query))
    assert nodes[0]["Node Type"] == "Index Scan", nodes[0]
    assert nodes[0].get("Scan Direction") == "Backward"
    assert "Sort" not in {node["Node Type"] for node in nodes}


def test_each_witness_newest_cosignature_is_found_by_index_lookups(planner: Connection) -> None:
    """The status page's witnesses: a loose index scan for the names, then one lookup each for the
    newest, on the index of name, tree size and id; never a scan or a sort of years of cosignatures."""
    newest = newest_of("egc.example.jp/witness").compile(
        dialect=planner.dialect, compile_kwargs={"literal_binds": True}
    )
    for statement in (WITNESS_NAMES, str(newest)):
        nodes = explain(planner, statement)
        scans = [node for node in nodes if node.get("Relation Name") == "log_cosignatures"]
        assert scans, statement
        for scan in scans:
            assert scan["Node Type"] in {"Index Scan", "Index Only Scan"}, statement
            assert scan["Index Name"] == "ix_log_cosignatures_witness_name_tree_size_cosignature_id"
            assert "Index Cond" in scan, statement  # a lookup, not a walk of the whole index
        assert not {"Seq Scan", "Sort", "Incremental Sort"} & {node["Node Type"] for node in nodes}, statement


def test_the_status_counts_read_ranges_of_the_events_never_all(planner: Connection, engine: Engine) -> None:
    """What the status page counts: the events above the horizon and their leaves by a range of an index
    (the count of every event it replaced walked a whole index: seconds at 100M, minutes from a cold disk)."""
    statements = statements_of(engine, SqlLogSearch(engine, time_limit_seconds=10.0).counts)
    assert statements
    for statement, parameters in statements:
        for node in explain(planner, statement, parameters):
            if node.get("Relation Name") in {"access_log_entries", "log_leaves"}:
                assert node["Node Type"] != "Seq Scan", statement
                assert "Index Cond" in node, (statement, node)  # a range, not a walk of a whole index


def test_a_search_by_period_reads_its_ranges_of_seqs_newest_first(
    planner: Connection, engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    """Each range of seqs the time spans allow (time_spans.py) is a backward scan of the events' primary
    key bounded by the range, so a page stops at its last event; never a scan of every event. Two ranges
    here: the first block's events, and a later block's with those above it."""
    append_at(engine, 2 * BLOCK + 1, 41)
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()  # the gap below it settles: the horizon passes it
    period = EventFilters(date_from=dt.date(2025, 4, 1), date_to=dt.date(2025, 4, 1), purpose="託送業務")
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    for run in (lambda: search.search(period, None, 50), lambda: search.page(period, None, 50, 100)):
        statements = [s for s in statements_of(engine, run) if "access_log_entries" in s[0]]
        assert statements
        for statement, parameters in statements:
            nodes = explain(planner, statement, parameters)
            events = [n for n in nodes if n.get("Relation Name") == "access_log_entries"]
            assert len(events) == 2, [n["Node Type"] for n in nodes]
            for node in events:
                assert node["Node Type"] == "Index Scan", node["Node Type"]
                assert node["Scan Direction"] == "Backward"
                assert "seq" in node["Index Cond"]


def test_the_sequencer_parses_only_the_entries_of_its_batch(planner: Connection) -> None:
    """The sequencer's read of the events waiting for leaves computes each entry's `ts` and `resource_ids`
    (two parses of the JSON) for the batch it takes only, whatever the plan. With statistics from before
    a burst, PostgreSQL chose a hash anti join and a sort of every waiting event under the limit: both
    parses of up to 100,000 entries, for each batch of 5,000 (a step of sequencing took up to seven
    times as long)."""
    planner.exec_driver_sql("SET enable_mergejoin = off")
    planner.exec_driver_sql("SET enable_nestloop = off")
    statement = batch_events("postgresql", 0, 5000).compile(planner, compile_kwargs={"literal_binds": True})
    document = planner.exec_driver_sql(f"EXPLAIN (VERBOSE, FORMAT JSON) {statement}").scalar_one()
    top = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    limits = [node for node in plan_nodes(top) if node["Node Type"] == "Limit"]
    assert limits
    below = [node for limit in limits for child in limit.get("Plans", []) for node in plan_nodes(child)]
    assert {"Sort", "Hash Join"} & {node["Node Type"] for node in below}  # the plan a stale estimate gave
    parsed = [output for node in below for output in node.get("Output", []) if "jsonb" in output]
    assert parsed == []
