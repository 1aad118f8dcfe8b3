"""`verify` finds every kind of tampering, done the way an attacker with the owner role would do it (raw
SQL), and names the first bad sequence number and the failure kind (DESIGN §6 reliability)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_support import (
    AUDITOR,
    KEY_CONSTRAINTS,
    ORIGIN,
    SETTLE,
    Clock,
    append,
    append_at,
    edit_entry,
    event,
)
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.event_view import INDEXES, create_indexes
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import TILE_NODES, node_key
from shadan.audit.note import Signer
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.domain.events import AccessEvent
from shadan.services.audit_log import AuditLogService, LogFailureKind, VerificationReport


@pytest.fixture
def trusted(engine: Engine, service: AuditLogService) -> str:
    """30 events with checkpoints at 10, 20 and 30; the last one was handed to the regulator."""
    for first in (1, 11, 21):
        append(engine, first, 10)
        service.checkpoint()
    latest = service.latest_checkpoint()
    assert latest is not None
    return latest.note


def tamper(owner: Engine, *statements: str) -> None:
    with owner.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def drop_nodes_above(size: int) -> str:
    """Delete the subtree hashes a tree of `size` leaves does not have yet (of the 30 leaves' tree)."""
    keys = [
        node_key(NodeId(level, i))
        for level in range(1, 5)
        for i in range(30 >> level)
        if (i + 1) << level > size
    ]
    return f"DELETE FROM log_nodes WHERE node_key IN ({', '.join(map(str, keys))})"


def only(report: VerificationReport) -> tuple[LogFailureKind, int | None]:
    assert not report.ok
    return report.failures[0].kind, report.first_bad_seq


def test_an_untouched_log_verifies(engine: Engine, service: AuditLogService, trusted: str) -> None:
    append(engine, 31, 2)  # committed, not yet sequenced: pending, not a failure
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.ok
    assert report.exit_code == 0
    assert (report.tree_size, report.events_checked, report.checkpoints_checked) == (30, 30, 3)
    assert report.pending_events == 2


@pytest.mark.parametrize("crafted", ["its time", "all of it"])
def test_an_entry_the_sequencer_cannot_read_is_reported_as_not_in_the_tree(
    engine: Engine, owner_engine: Engine, service: AuditLogService, trusted: str, clock: Clock, crafted: str
) -> None:
    """An entry the sequencer cannot read, written into the table, is left out of the tree and the events
    after it are sequenced; once the event after it has settled, the horizon passes it and verification
    names it as an event not in the tree. Unreadable: a `ts` that is no time on PostgreSQL, a lone
    surrogate escape on SQLite; or an entry that is no JSON at all, which SQLite stores once the writer
    dropped the view's indexes and switched its checks off. Every run then reports those indexes gone
    (exit code 22) from the start: they cannot be made again over an entry that is no JSON."""
    sqlite = engine.dialect.name == "sqlite"
    if crafted == "all of it" and not sqlite:
        pytest.skip("PostgreSQL checks every entry: only its owner could drop the check")
    entry = {"its time": '{"ts":"\\ud800"}' if sqlite else '{"ts":"no time"}', "all of it": "no JSON"}[
        crafted
    ]
    with owner_engine.begin() as connection:
        if crafted == "all of it":  # the view's indexes parse each entry as it is stored: dropped first
            for index in INDEXES:
                connection.exec_driver_sql(f"DROP INDEX {index}")
            connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")  # this connection's only
        connection.execute(text("INSERT INTO access_log_entries (entry) VALUES (:entry)"), {"entry": entry})
    append_one(engine, event(101))  # seq 32
    assert service.checkpoint().size == 32  # 32, and 33 recording 31, sequenced past 31
    lapsed = [(LogFailureKind.KEY_CONSTRAINT, None)] if crafted == "all of it" else []
    report = service.verify(trusted, run_by=AUDITOR)
    assert (findings(report), report.pending_events) == (lapsed, 1)  # 31 waits, not yet settled
    if lapsed:
        gone = "; ".join(f"the index {index} is gone" for index in INDEXES)
        assert report.failures[0].detail_en == gone
        with pytest.raises(DBAPIError, match="malformed JSON"), owner_engine.begin() as connection:
            connection.exec_driver_sql(create_indexes("sqlite")[0])
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()  # the horizon passes 31
    report = service.verify(trusted, run_by=AUDITOR)
    assert findings(report) == [(LogFailureKind.EVENT_UNLOGGED, 31), *lapsed]
    assert (report.exit_code, report.first_bad_seq) == (12, 31)


def test_a_stalled_sequencer(engine: Engine, service: AuditLogService, trusted: str) -> None:
    """A sequencer that no longer runs: the events appended meanwhile wait outside the tree, where they
    could be changed unnoticed. Verification names the first that has waited longer than the maximum
    wait (an hour) before the newest event (each run appends its own, at the clock's time)."""
    append_one(engine, event(31))  # seq 31
    assert service.verify(trusted, run_by=AUDITOR).ok  # appends seq 32
    append_one(engine, event(101, ts=event(1).ts + dt.timedelta(minutes=59)))
    assert service.verify(trusted, run_by=AUDITOR).ok
    append_one(engine, event(102, ts=event(1).ts + dt.timedelta(minutes=61)))
    report = service.verify(trusted, run_by=AUDITOR)
    assert findings(report) == [(LogFailureKind.SEQUENCING_STALLED, 31)]
    assert (report.exit_code, report.pending_events) == (25, 5)


def findings(report: VerificationReport) -> list[tuple[LogFailureKind, int | None]]:
    return [(failure.kind, failure.seq) for failure in report.failures]


def append_one(engine: Engine, logged: AccessEvent) -> None:
    with engine.begin() as connection:
        SqlAccessLog(connection).append([logged])


def test_progress_is_reported(service: AuditLogService, trusted: str) -> None:
    seen: list[tuple[int, int]] = []
    service.verify(trusted, progress=lambda total, done: seen.append((total, done)), run_by=AUDITOR)
    assert seen[-1] == (30, 30)


def test_an_edited_event(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    edit_entry(owner_engine, 12, purpose="営業活動")
    report = service.verify(trusted, run_by=AUDITOR)
    assert only(report) == (LogFailureKind.EVENT_CHANGED, 12)
    assert report.exit_code == 10
    assert "連番 12" in report.failures[0].detail_ja
    # The edit also makes the signed roots from 20 on unreachable: reported after the cause.
    assert report.failures[-1].kind is LogFailureKind.CHECKPOINT_MISMATCH


def test_an_edited_event_and_leaf_hash(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    """Recomputing the leaf hash does not help: the signed roots still disagree."""
    edit_entry(owner_engine, 5, outcome="denied")
    with owner_engine.begin() as connection:
        _rehash_leaf(connection, 5)
    report = service.verify(trusted, run_by=AUDITOR)
    kinds = [f.kind for f in report.failures]
    # The leaf agrees with the event now, but the subtree above it and every signed root do not.
    assert kinds == [LogFailureKind.TREE_CORRUPT, LogFailureKind.CHECKPOINT_MISMATCH]
    assert report.failures[0].leaf_index == 4
    assert report.exit_code == 17


def test_a_deleted_event(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    tamper(owner_engine, "DELETE FROM access_log_entries WHERE seq = 15")
    report = service.verify(trusted, run_by=AUDITOR)
    assert only(report) == (LogFailureKind.EVENT_MISSING, 15)
    assert report.exit_code == 11


def test_an_event_inserted_by_renumbering(
    owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    """Room for a forged event in the middle: shift seq 18.. up by one and insert at 18."""
    tamper(
        owner_engine,
        "UPDATE access_log_entries SET seq = seq + 1000 WHERE seq >= 18",
        "UPDATE access_log_entries SET seq = seq - 999 WHERE seq >= 1000",
        'INSERT INTO access_log_entries SELECT 18, replace(entry, \'"event_id":"\', \'"event_id":"forged-\')'
        " FROM access_log_entries WHERE seq = 17",
    )
    assert only(service.verify(trusted, run_by=AUDITOR)) == (LogFailureKind.EVENT_CHANGED, 18)


def test_an_event_inserted_into_a_settled_gap(
    engine: Engine, owner_engine: Engine, service: AuditLogService, clock: Clock, trusted: str
) -> None:
    append_at(engine, 40)  # seq 31..39 never committed (rolled back)
    service.checkpoint()
    clock.advance(SETTLE.total_seconds() + 1)
    service.checkpoint()  # the gap has settled: its numbers can no longer commit
    append_at(owner_engine, 35)  # backdated into the gap
    service.checkpoint()  # the sequencer does not take it: the gap had settled
    report = service.verify(trusted, run_by=AUDITOR)
    assert only(report) == (LogFailureKind.EVENT_UNLOGGED, 35)
    assert report.exit_code == 12


def test_reordered_events(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    tamper(
        owner_engine,
        "UPDATE access_log_entries SET seq = 1000 WHERE seq = 12",
        "UPDATE access_log_entries SET seq = 12 WHERE seq = 13",
        "UPDATE access_log_entries SET seq = 13 WHERE seq = 1000",
    )
    assert only(service.verify(trusted, run_by=AUDITOR)) == (LogFailureKind.EVENT_CHANGED, 12)


def test_truncation(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    """The last five events cut off with their leaves and subtree hashes; the checkpoints remain."""
    tamper(
        owner_engine,
        "DELETE FROM access_log_entries WHERE seq > 25",
        "DELETE FROM log_leaves WHERE leaf_index >= 25",
        drop_nodes_above(25),
        "UPDATE log_state SET tree_size = 25, horizon_seq = 25",
    )
    report = service.verify(run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.TRUNCATED
    assert report.failures[0].leaf_index == 25
    assert report.exit_code == 13


def test_a_leaf_missing_inside_the_tree(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    tamper(owner_engine, "DELETE FROM log_leaves WHERE leaf_index = 17")
    report = service.verify(trusted, run_by=AUDITOR)
    # Its event (seq 18) is below the horizon without a leaf now: reported first.
    assert [(f.kind, f.seq, f.leaf_index) for f in report.failures] == [
        (LogFailureKind.EVENT_UNLOGGED, 18, None),
        (LogFailureKind.TREE_CORRUPT, None, 17),
    ]
    assert report.tree_size == 30  # the tree reaches as far as its highest leaf


def test_a_leaf_below_index_0(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    """A stray leaf the stream from 0 would never read: the lowest index tells."""
    tamper(
        owner_engine,
        "INSERT INTO log_leaves (leaf_index, seq, leaf_hash, sequenced_at)"
        " SELECT -5, 1000, leaf_hash, sequenced_at FROM log_leaves WHERE leaf_index = 0",
    )
    report = service.verify(trusted, run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.TREE_CORRUPT]
    assert "(-5)" in report.failures[0].detail_en
    assert report.exit_code == 17


def test_only_a_leaf_below_index_0(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    tamper(
        owner_engine,
        "UPDATE log_leaves SET leaf_index = -3 WHERE leaf_index = 0",
        "DELETE FROM log_leaves WHERE leaf_index > 0",
    )
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.tree_size == 0  # not -2
    assert {LogFailureKind.TREE_CORRUPT, LogFailureKind.TRUNCATED} <= {f.kind for f in report.failures}


def test_rollback_to_an_older_consistent_state(
    owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    """A restored backup of size 15: consistent in itself, so only the trusted checkpoint shows it."""
    tamper(
        owner_engine,
        "DELETE FROM access_log_entries WHERE seq > 15",
        "DELETE FROM log_leaves WHERE leaf_index >= 15",
        drop_nodes_above(15),
        "DELETE FROM log_checkpoints WHERE tree_size > 15",
        "UPDATE log_state SET tree_size = 15, horizon_seq = 15",
    )
    assert service.verify(run_by=AUDITOR).ok
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.ROLLED_BACK
    assert report.exit_code == 14


def test_a_forged_checkpoint(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    fake_root = base64.b64encode(bytes(32)).decode()
    with owner_engine.begin() as connection:
        note = connection.execute(text("SELECT note FROM log_checkpoints WHERE tree_size = 20")).scalar_one()
        lines = note.split("\n")
        lines[2] = fake_root
        connection.execute(
            text("UPDATE log_checkpoints SET note = :n, root_hash = :r WHERE tree_size = 20"),
            {"n": "\n".join(lines), "r": bytes(32)},
        )
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.CHECKPOINT_SIGNATURE
    assert report.exit_code == 15


def test_a_checkpoint_re_signed_with_another_key(
    owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    attacker = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 30, bytes(32)), [attacker]).render()
    tamper(owner_engine, "DELETE FROM log_checkpoints WHERE tree_size = 30")
    with owner_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO log_checkpoints (tree_size, root_hash, note, created_at) VALUES (30, :r, :n, :t)"
            ),
            {"r": bytes(32), "n": note, "t": "2025-04-01 00:00:00"},
        )
    assert service.verify(run_by=AUDITOR).failures[0].kind is LogFailureKind.CHECKPOINT_SIGNATURE


def test_a_complete_rewrite_with_the_stolen_key_is_caught_by_the_trusted_checkpoint(
    engine: Engine, owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    """Edit an event, rebuild the whole tree and re-sign every checkpoint with the log's own key: the
    database agrees with itself, and only a checkpoint held outside shows the rewrite."""
    edit_entry(owner_engine, 7, account_id="someone.else")
    tamper(
        owner_engine,
        "DELETE FROM log_checkpoints",
        "DELETE FROM log_nodes",
        "DELETE FROM log_leaves",
        "DELETE FROM log_resource_ids",
        "DELETE FROM log_state",
    )
    service.checkpoint()
    assert service.verify(run_by=AUDITOR).ok
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.CHECKPOINT_MISMATCH
    assert report.exit_code == 16


def test_a_rewrite_with_a_replaced_key_is_caught_by_the_auditors_key(
    engine: Engine, owner_engine: Engine, service: AuditLogService, clock: Clock, tmp_path: Path, trusted: str
) -> None:
    auditor_key = service.public_key()
    edit_entry(owner_engine, 7, account_id="someone.else")
    tamper(
        owner_engine,
        "DELETE FROM log_checkpoints",
        "DELETE FROM log_nodes",
        "DELETE FROM log_leaves",
        "DELETE FROM log_resource_ids",
        "DELETE FROM log_state",
    )
    forger = SqlTransparencyLog(engine, FileKeyStore(tmp_path / "forged", ORIGIN), clock, SETTLE)
    forged = AuditLogService(forger, clock, system="shadan")
    forged.checkpoint()
    assert forged.verify(run_by=AUDITOR).ok  # with its own key the forgery looks fine ...
    report = forged.verify(
        verifier_keys=[auditor_key], run_by=AUDITOR
    )  # ... not with the key the auditor holds
    assert report.failures[0].kind is LogFailureKind.CHECKPOINT_SIGNATURE
    assert (
        forged.verify(trusted, run_by=AUDITOR).failures[0].kind is LogFailureKind.TRUSTED_CHECKPOINT_INVALID
    )


def test_corrupt_subtree_hashes(owner_engine: Engine, service: AuditLogService, trusted: str) -> None:
    tamper(
        owner_engine,
        # The subtree over leaves 6-7 (level 1, index 3) gets the hash of leaf 0.
        f"UPDATE log_nodes SET hash = leaf_hash FROM log_leaves WHERE node_key = {node_key(NodeId(1, 3))}"
        " AND leaf_index = 0",
    )
    report = service.verify(trusted, run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.TREE_CORRUPT
    assert report.failures[0].leaf_index == 6
    assert report.exit_code == 17


@pytest.mark.parametrize(
    "stray_key",
    [
        node_key(NodeId(1, 15)),  # level 1 has 15 nodes (indices 0-14) in a tree of 30 leaves
        node_key(NodeId(4, 1)),  # level 4 has one
        node_key(NodeId(5, 0)),  # a level the tree does not have, in the tile of its levels 1-4
        node_key(NodeId(9, 0)),  # a tier of tiles the tree does not reach
        node_key(NodeId(1, 256)),  # a tile after the tree's last
        TILE_NODES - 1,  # the last place of the tree's only tile: level 4, index 31
        -1,
    ],
)
def test_subtree_hashes_outside_the_tree(
    owner_engine: Engine, service: AuditLogService, trusted: str, stray_key: int
) -> None:
    tamper(
        owner_engine,
        f"INSERT INTO log_nodes (node_key, hash)"
        f" SELECT {stray_key}, leaf_hash FROM log_leaves WHERE leaf_index = 0",
    )
    report = service.verify(trusted, run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.TREE_CORRUPT]
    assert "27" in report.failures[0].detail_en  # 26 subtree hashes belong to the tree, one more is stored


def test_a_trusted_checkpoint_of_another_log_is_refused(service: AuditLogService, trusted: str) -> None:
    stranger = sign_checkpoint(Checkpoint(ORIGIN, 30, bytes(32)), [Signer.generate(ORIGIN)]).render()
    report = service.verify(stranger, run_by=AUDITOR)
    assert report.failures[0].kind is LogFailureKind.TRUSTED_CHECKPOINT_INVALID
    assert report.exit_code == 20
    assert service.verify("not a checkpoint", run_by=AUDITOR).exit_code == 20


def _rehash_leaf(connection: Connection, seq: int) -> None:
    from sqlalchemy import select, update

    from shadan.audit.log import access_log_entries
    from shadan.audit.merkle import leaf_hash
    from shadan.audit.tree_tables import log_leaves

    entries = access_log_entries.c
    entry = connection.execute(select(entries.entry).where(entries.seq == seq)).scalar_one()
    connection.execute(
        update(log_leaves).where(log_leaves.c.seq == seq).values(leaf_hash=leaf_hash(entry.encode("utf-8")))
    )


def test_an_access_hidden_from_the_search_index(
    owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    tamper(owner_engine, "DELETE FROM log_resource_ids WHERE seq = 17")
    report = service.verify(trusted, run_by=AUDITOR)
    assert only(report) == (LogFailureKind.SEARCH_INDEX, 17)
    assert report.exit_code == 19
    assert "0600001111222233300017" not in report.failures[0].detail_en  # no customer id in reports


def test_an_access_shown_falsely_by_the_search_index(
    owner_engine: Engine, service: AuditLogService, trusted: str
) -> None:
    tamper(
        owner_engine,
        "INSERT INTO log_resource_ids (resource_id, seq) VALUES ('0600001111222233300017', 4)",
    )
    assert only(service.verify(trusted, run_by=AUDITOR)) == (LogFailureKind.SEARCH_INDEX, 4)


@pytest.mark.parametrize("key", list(KEY_CONSTRAINTS))
def test_a_dropped_key_constraint(
    drop_key: Callable[[str], None], service: AuditLogService, trusted: str, key: str
) -> None:
    """Without its constraint a key column can hold a second row under a key; the rows are all still
    there and right, so only the missing constraint tells."""
    drop_key(key)
    report = service.verify(trusted, run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.KEY_CONSTRAINT]
    assert report.exit_code == 22
    assert key in report.failures[0].detail_en
    assert report.failures[0].seq is None  # no key is held twice yet


def test_a_forged_event_beside_the_logged_one_under_its_seq(
    engine: Engine,
    owner_engine: Engine,
    drop_key: Callable[[str], None],
    service: AuditLogService,
    trusted: str,
) -> None:
    """Every read by seq still finds the logged event, but the pages show the forged one too."""
    drop_key("access_log_entries.seq")
    forged = "replace(replace(entry, '託送業務', '営業活動'), 'ev-000012', 'ev-forged')"
    tamper(
        owner_engine,
        f"INSERT INTO access_log_entries SELECT seq, {forged} FROM access_log_entries WHERE seq = 12",
    )
    with engine.connect() as connection:
        shown = connection.execute(text("SELECT purpose FROM access_events WHERE seq = 12")).scalars().all()
    assert sorted(shown) == ["営業活動", "託送業務"]
    report = service.verify(trusted, run_by=AUDITOR)
    failure = next(f for f in report.failures if f.kind is LogFailureKind.KEY_CONSTRAINT)
    assert (failure.seq, report.first_bad_seq) == (12, 12)
    assert "seq 12 is held by several rows" in failure.detail_en
