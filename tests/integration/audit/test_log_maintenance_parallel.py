"""Verification on several processes gives the same report as on one, for an intact log and for every
kind of tampering, whether it falls inside a chunk, on a chunk's edge or in a subtree above the chunks.

Chunks of 4 leaves and 2 workers over 30 events with checkpoints at 10, 20 and 30: the checkpoints fall
inside a chunk, on a chunk boundary and in the last, partial chunk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest
from audit_support import ORIGIN, SETTLE, Clock, append, append_at, edit_sql, event
from sqlalchemy import Connection, Engine, delete, insert, select, text, update

from shadan.audit.chunk_worker import ChunkResult
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.merkle import CompactRange, NodeId, leaf_hash
from shadan.audit.node_keys import TILE_NODES, node_key
from shadan.audit.tree_tables import log_leaves, log_nodes
from shadan.audit.verification import LogAudit
from shadan.audit.verify_chunks import ChunkWorkers, Parallelism, snapshot_of
from shadan.services.audit_log import AuditLogService, LogFailureKind, VerificationReport

SMALL_CHUNKS = Parallelism(workers=2, chunk_level=2, min_chunks=1)
EDIT_SEQ_12 = edit_sql(12, "purpose", "託送業務", "営業活動")
LEVEL_4 = node_key(NodeId(4, 0))  # the subtree over leaves 0..15, above the chunks' level

TAMPERING: dict[str, Sequence[str]] = {
    "an edited event": [EDIT_SEQ_12],
    "a deleted event": ["DELETE FROM access_log_entries WHERE seq = 6"],
    "a missing leaf": ["DELETE FROM log_leaves WHERE leaf_index = 13"],
    "a wrong subtree hash inside a chunk": [
        f"UPDATE log_nodes SET hash = (SELECT hash FROM log_nodes WHERE node_key = {node_key(NodeId(1, 3))})"
        f" WHERE node_key = {node_key(NodeId(1, 2))}"
    ],
    "a wrong subtree hash above the chunks": [
        f"UPDATE log_nodes SET hash = (SELECT leaf_hash FROM log_leaves WHERE leaf_index = 0)"
        f" WHERE node_key = {LEVEL_4}"
    ],
    "an extra subtree hash": [
        f"INSERT INTO log_nodes (node_key, hash)"
        f" SELECT {node_key(NodeId(4, 7))}, hash FROM log_nodes WHERE node_key = {LEVEL_4}"
    ],
    "a truncated tree": ["DELETE FROM log_leaves WHERE leaf_index >= 27"],
    "a leaf below index 0": [
        "INSERT INTO log_leaves (leaf_index, seq, leaf_hash, sequenced_at)"
        " SELECT -1, 1000, leaf_hash, sequenced_at FROM log_leaves WHERE leaf_index = 0"
    ],
    "an event inserted below every leaf": [
        'INSERT INTO access_log_entries SELECT 0, replace(entry, \'"event_id":"\', \'"event_id":"forged-\')'
        " FROM access_log_entries WHERE seq = 1"
    ],
    "an access hidden from the search index": ["DELETE FROM log_resource_ids WHERE seq = 12"],
    "an access shown falsely by the search index": [
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300020', 3)"
    ],
    "an access hidden from a search by period": ["UPDATE log_time_spans SET latest = earliest"],
    "a time span gone": ["DELETE FROM log_time_spans"],
}


@pytest.fixture
def logged(engine: Engine, service: AuditLogService) -> None:
    for first in (1, 11, 21):
        append(engine, first, 10)
        service.checkpoint()


def _both(engine: Engine, keys: FileKeyStore) -> tuple[VerificationReport, VerificationReport]:
    def audit(parallelism: Parallelism) -> VerificationReport:
        return LogAudit(engine, keys.verifiers(), ORIGIN, chunk=3, parallelism=parallelism).run(
            None, lambda _total, _done: None
        )

    return audit(Parallelism(workers=1)), audit(SMALL_CHUNKS)


def test_an_intact_log(engine: Engine, keys: FileKeyStore, logged: None) -> None:
    serial, parallel = _both(engine, keys)
    assert serial.ok
    assert parallel == serial


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_reported_alike(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, logged: None, how: str
) -> None:
    with owner_engine.begin() as connection:
        for statement in TAMPERING[how]:
            connection.execute(text(statement))
    serial, parallel = _both(engine, keys)
    assert not serial.ok
    assert parallel == serial


# A second list the workers' DuckDB would read instead of the database's (chunk_fields.py): under a key
# spelled with escapes, first (SQLite reads the other list); under the same key again (PostgreSQL reads
# the last list, DuckDB the first).
SECOND_LISTS = {
    "a key spelled with escapes": '"r\\u0065source_ids":["0600001111222233399999"],"resource_ids":[',
    "a repeated key": '"resource_ids":["0600001111222233399999"],"resource_ids":[',
}


@pytest.mark.parametrize("how", list(SECOND_LISTS))
def test_an_index_edited_to_a_list_only_duckdb_reads_is_reported_alike(
    engine: Engine, owner_engine: Engine, service: AuditLogService, keys: FileKeyStore, how: str
) -> None:
    """An entry rewritten before it was sequenced, then its index rows edited to the list DuckDB reads
    first: where the database reads the other list, a search by its id would miss the event."""
    append(engine, 1, 30)
    with owner_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE access_log_entries SET entry = replace(entry, '\"resource_ids\":[', :second)"
                " WHERE seq = 12"
            ),
            {"second": SECOND_LISTS[how]},
        )
    service.checkpoint()
    with owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM log_resource_ids WHERE seq = 12"))
        connection.execute(
            text("INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233399999', 12)")
        )
    serial, parallel = _both(engine, keys)
    assert parallel == serial
    database_reads_the_second = how == "a key spelled with escapes" or engine.dialect.name == "postgresql"
    assert serial.ok is not database_reads_the_second


# A second list placed before or after the entry's own, under the plain name or one spelled with escapes:
# Python's JSON reader takes the last and reads escaped names, SQLite the first list under the plain name.
CRAFTED_LISTS = {
    "an escaped key before": (
        '"resource_ids":[',
        '"r\\u0065source_ids":["0600001111222233399999"],"resource_ids":[',
    ),
    "a repeated key before": (
        '"resource_ids":[',
        '"resource_ids":["0600001111222233399999"],"resource_ids":[',
    ),
    "an escaped key after": ('"v":1,', '"r\\u0065source_ids":["0600001111222233399999"],"v":1,'),
    "a repeated key after": ('"v":1,', '"resource_ids":["0600001111222233399999"],"v":1,'),
}


@pytest.mark.parametrize("how", list(CRAFTED_LISTS))
def test_a_crafted_entry_is_indexed_as_the_database_reads_it(
    engine: Engine, owner_engine: Engine, service: AuditLogService, keys: FileKeyStore, how: str
) -> None:
    """An entry written into the table before it was sequenced, with two lists: the sequencer indexes the
    list the database's view reads (the one a search of the unsequenced events reads too), so
    verification finds nothing wrong."""
    append(engine, 1, 30)
    old, new = CRAFTED_LISTS[how]
    with owner_engine.begin() as connection:
        connection.execute(
            text("UPDATE access_log_entries SET entry = replace(entry, :old, :new) WHERE seq = 12"),
            {"old": old, "new": new},
        )
    service.checkpoint()
    with engine.connect() as connection:
        entry = connection.execute(text("SELECT entry FROM access_log_entries WHERE seq = 12")).scalar_one()
        assert new in entry
        listed = connection.execute(
            text("SELECT resource_ids FROM access_events WHERE seq = 12")
        ).scalar_one()
        indexed = connection.execute(
            text("SELECT resource_id FROM log_resource_ids WHERE seq = 12")
        ).scalars()
        assert sorted(indexed) == sorted(listed if isinstance(listed, list) else json.loads(listed))
    serial, parallel = _both(engine, keys)
    assert serial.ok
    assert parallel == serial


@pytest.mark.parametrize("forged", [True, False])
@pytest.mark.parametrize("before_gap", [30, 28])  # the gap inside the last chunk's seqs; between two chunks'
def test_an_event_inserted_into_a_settled_gap_is_found_alike(
    engine: Engine,
    owner_engine: Engine,
    service: AuditLogService,
    clock: Clock,
    keys: FileKeyStore,
    before_gap: int,
    forged: bool,
) -> None:
    """The workers count the events between each chunk's lowest and highest seq, and the parent those
    outside every chunk's: an event backdated into a gap is found wherever the gap lies."""
    append(engine, 1, before_gap)
    append_at(engine, 40)  # the seqs in between never committed
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()  # the gap has settled: the sequencer no longer waits for it
    if forged:
        append_at(owner_engine, 35)
        service.checkpoint()
    serial, parallel = _both(engine, keys)
    expected = [(LogFailureKind.EVENT_UNLOGGED, 35)] if forged else []
    assert [(f.kind, f.seq) for f in serial.failures] == expected
    assert parallel == serial


FORGED_BESIDE_SEQ_12 = (
    "INSERT INTO access_log_entries SELECT seq, replace(replace(entry, '託送業務', '営業活動'),"
    " 'ev-000012', 'ev-forged') FROM access_log_entries WHERE seq = 12"
)
# The hash of node (1, 2) stored under the key before it too, its own row moved to where no node is: the
# range of the chunk's tier still holds as many rows as it has keys, so a worker places them by order.
NODE_2 = node_key(NodeId(1, 2))
NODE_SHIFT = (
    f"INSERT INTO log_nodes SELECT node_key - 1, hash FROM log_nodes WHERE node_key = {NODE_2}",
    f"UPDATE log_nodes SET node_key = {TILE_NODES * 4} WHERE node_key = {NODE_2}",
)


@pytest.mark.parametrize(
    ("key", "statements"),
    [
        ("access_log_entries.seq", [FORGED_BESIDE_SEQ_12]),
        ("log_nodes.node_key", list(NODE_SHIFT)),
    ],
)
def test_rows_under_a_key_whose_constraint_was_dropped_are_found_by_both(
    engine: Engine,
    owner_engine: Engine,
    keys: FileKeyStore,
    logged: None,
    drop_key: Callable[[str], None],
    key: str,
    statements: list[str],
) -> None:
    """A worker reads by key and places a tier's hashes by their keys' order: with the constraint gone,
    both processes' reports name it (what else each finds may differ)."""
    drop_key(key)
    with owner_engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    for report in _both(engine, keys):
        assert LogFailureKind.KEY_CONSTRAINT in {f.kind for f in report.failures}


def test_history_rewritten_without_the_key(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, logged: None
) -> None:
    """An edit with every leaf and subtree hash recomputed: each chunk is consistent in itself, only the
    signed roots tell."""
    with owner_engine.begin() as connection:
        connection.execute(text(edit_sql(5, "outcome", "allowed", "denied")))
        _rehash_everything(connection)
    serial, parallel = _both(engine, keys)
    assert [f.kind for f in serial.failures] == [LogFailureKind.CHECKPOINT_MISMATCH]
    assert parallel == serial


def _rehash_everything(connection: Connection) -> None:
    rows = connection.execute(
        select(log_leaves.c.leaf_index, access_log_entries.c.entry)
        .join(access_log_entries, access_log_entries.c.seq == log_leaves.c.seq)
        .order_by(log_leaves.c.leaf_index)
    ).all()
    tree, nodes = CompactRange(), {}
    for row in rows:
        h = leaf_hash(row.entry.encode("utf-8"))
        connection.execute(
            update(log_leaves).where(log_leaves.c.leaf_index == row.leaf_index).values(leaf_hash=h)
        )
        tree.append(h, nodes.__setitem__)
    connection.execute(delete(log_nodes))
    connection.execute(insert(log_nodes), [{"node_key": node_key(n), "hash": h} for n, h in nodes.items()])


def test_workers_are_used_only_where_they_pay_off() -> None:
    assert not Parallelism(workers=1).pays_off(10**9)
    assert not Parallelism(workers=2, chunk_level=16, min_chunks=4).pays_off(4 * 65_536 - 1)
    assert Parallelism(workers=2, chunk_level=16, min_chunks=4).pays_off(4 * 65_536)


def _chunks_seen_by_workers(engine: Engine, owner: Engine | None = None, edit: str = "") -> list[ChunkResult]:
    """The workers' answers in a snapshot taken before the owner commits `edit`."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = snapshot_of(connection)
        if owner is not None:
            with owner.begin() as other:
                other.execute(text(edit))
        try:
            with ChunkWorkers(engine, snapshot, SMALL_CHUNKS) as workers:
                return list(workers.check(30, [10, 20, 30]))
        finally:
            connection.rollback()


def test_workers_vouch_for_intact_chunks_only(engine: Engine, owner_engine: Engine, logged: None) -> None:
    intact = _chunks_seen_by_workers(engine)
    assert [(c.begin, c.end) for c in intact] == [(b, min(b + 4, 30)) for b in range(0, 30, 4)]
    assert all(c.clean for c in intact)
    assert set(intact[2].edges) == {10, 12}  # the checkpoint inside the chunk, and its end
    assert len(intact[-1].edges[30]) == 1  # [28, 30): one subtree of two leaves

    with owner_engine.begin() as connection:
        connection.execute(text(EDIT_SEQ_12))
    edited = _chunks_seen_by_workers(engine)
    assert [c.begin for c in edited if not c.clean] == [8]  # leaf 11 (seq 12) is in [8, 12)


def test_workers_match_each_leaf_to_its_event_by_seq(
    engine: Engine, owner_engine: Engine, logged: None
) -> None:
    """Leaves need not be in seq order (PostgreSQL sequences transactions as they commit), so a chunk's seq
    range can hold another chunk's events: leaves 3 and 4 swap events across the chunks [0, 4) and [4, 8)
    in a tree rebuilt to match, and every chunk is still intact."""
    with owner_engine.begin() as connection:
        seq_of = dict(connection.execute(select(log_leaves.c.leaf_index, log_leaves.c.seq)).all())
        for leaf, seq in ((3, -1), (4, seq_of[3]), (3, seq_of[4])):
            connection.execute(update(log_leaves).where(log_leaves.c.leaf_index == leaf).values(seq=seq))
        _rehash_everything(connection)
    assert all(c.clean for c in _chunks_seen_by_workers(engine))


def test_workers_vouch_for_unusual_intact_events(
    engine: Engine, service: AuditLogService, keys: FileKeyStore
) -> None:
    """Control characters, numbers that are not integers, quotes, Japanese and several ids in a list:
    the stored entries hash to their leaves and the search index agrees, in the workers too."""
    with engine.begin() as connection:
        extra = {"b": [1.5], "a": "\x1f", "q": '"東京"'}
        ids = ("0600000000000000000001", 'x"y', "0600000000000000000001", "東京")
        SqlAccessLog(connection).append(
            [
                event(i, detail=f"line\x01{i}", extra=extra | {"ratio": i / 4}, resource_ids=ids[: i % 5])
                for i in range(1, 31)
            ]
        )
    service.checkpoint()
    assert all(c.clean for c in _chunks_seen_by_workers(engine))
    serial, parallel = _both(engine, keys)
    assert serial.ok
    assert parallel == serial


def test_on_postgresql_workers_read_the_parents_snapshot(
    db_url: str, engine: Engine, owner_engine: Engine, logged: None
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite cannot share a snapshot between connections (verify_chunks.py)")
    # The edit commits after the snapshot was exported: the workers must not see it.
    seen = _chunks_seen_by_workers(engine, owner_engine, EDIT_SEQ_12)
    assert all(c.clean for c in seen)
    assert not all(c.clean for c in _chunks_seen_by_workers(engine))  # ... and later snapshots do


def test_worker_processes_load_no_sqlalchemy() -> None:
    # A worker's start is on the path of every parallel verification and verify-archive run (chunk_worker.py).
    modules = ("shadan.audit.chunk_worker", "shadan.audit.segment_leaves")
    code = f"import sys, {', '.join(modules)}; print('sqlalchemy' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
