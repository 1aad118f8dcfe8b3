"""Verification on several processes gives the same report as on one, for an intact log and for every
kind of tampering, whether it falls inside a chunk, on a chunk's edge or in a subtree above the chunks.

Chunks of 4 leaves and 2 workers over 30 events with checkpoints at 10, 20 and 30: the checkpoints fall
inside a chunk, on a chunk boundary and in the last, partial chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from audit_support import ORIGIN, append, event
from sqlalchemy import Connection, Engine, delete, insert, select, text, update

from shadan.audit.entry import entry_bytes
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog, access_events
from shadan.audit.merkle import CompactRange, leaf_hash
from shadan.audit.tree_store import node_key
from shadan.audit.tree_tables import log_leaves, log_nodes
from shadan.audit.verification import LogAudit
from shadan.audit.verify_chunks import ChunkResult, Parallelism, check_in_parallel, snapshot_of
from shadan.services.audit_log import AuditLogService, LogFailureKind, VerificationReport

SMALL_CHUNKS = Parallelism(workers=2, chunk_level=2, min_chunks=1)
EDIT_SEQ_12 = "UPDATE access_events SET purpose = '営業活動' WHERE seq = 12"
LEVEL_4 = 4 << 48  # node_key of level 4, index 0: the subtree over leaves 0..15, above the chunks' level

TAMPERING: dict[str, Sequence[str]] = {
    "an edited event": [EDIT_SEQ_12],
    "a deleted event": ["DELETE FROM access_events WHERE seq = 6"],
    "a missing leaf": ["DELETE FROM log_leaves WHERE leaf_index = 13"],
    "a wrong subtree hash inside a chunk": [
        f"UPDATE log_nodes SET hash = (SELECT hash FROM log_nodes WHERE node_key = {(1 << 48) | 3})"
        f" WHERE node_key = {(1 << 48) | 2}"
    ],
    "a wrong subtree hash above the chunks": [
        f"UPDATE log_nodes SET hash = (SELECT leaf_hash FROM log_leaves WHERE leaf_index = 0)"
        f" WHERE node_key = {LEVEL_4}"
    ],
    "an extra subtree hash": [
        f"INSERT INTO log_nodes (node_key, hash)"
        f" SELECT {LEVEL_4 + 7}, hash FROM log_nodes WHERE node_key = {LEVEL_4}"
    ],
    "a truncated tree": ["DELETE FROM log_leaves WHERE leaf_index >= 27"],
    "an access hidden from the search index": ["DELETE FROM log_resource_ids WHERE seq = 12"],
    "an access shown falsely by the search index": [
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300020', 3)"
    ],
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


def test_history_rewritten_without_the_key(
    engine: Engine, owner_engine: Engine, keys: FileKeyStore, logged: None
) -> None:
    """An edit with every leaf and subtree hash recomputed: each chunk is consistent in itself, only the
    signed roots tell."""
    with owner_engine.begin() as connection:
        connection.execute(text("UPDATE access_events SET outcome = 'denied' WHERE seq = 5"))
        _rehash_everything(connection)
    serial, parallel = _both(engine, keys)
    assert [f.kind for f in serial.failures] == [LogFailureKind.CHECKPOINT_MISMATCH]
    assert parallel == serial


def _rehash_everything(connection: Connection) -> None:
    rows = connection.execute(
        select(log_leaves.c.leaf_index, access_events)
        .join(access_events, access_events.c.seq == log_leaves.c.seq)
        .order_by(log_leaves.c.leaf_index)
    ).all()
    tree, nodes = CompactRange(), {}
    for row in rows:
        h = leaf_hash(entry_bytes(row._mapping))
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
            return list(check_in_parallel(engine, snapshot, 30, [10, 20, 30], SMALL_CHUNKS))
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


def test_workers_rebuild_exactly_what_the_fast_path_cannot(
    engine: Engine, owner_engine: Engine, service: AuditLogService, keys: FileKeyStore
) -> None:
    """Intact events the column-wise expression cannot build (a control character, a number that is not
    an integer, JSON stored in another spelling) are rebuilt by entry.py in the worker: still clean."""
    with engine.begin() as connection:
        extra = {"b": [1.5], "a": "\x1f"}
        SqlAccessLog(connection).append(
            [event(i, detail=f"line\x01{i}", extra=extra | {"ratio": i / 4}) for i in range(1, 31)]
        )
    service.checkpoint()
    with owner_engine.begin() as connection:  # the same values, spelled as older versions stored them
        connection.execute(
            update(access_events)
            .where(access_events.c.seq == 5)
            .values(categories=text('\'["supply_point", "\\u006cocation"]\''))
        )
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
