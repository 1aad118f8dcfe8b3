"""Checkpoints: every N events or T seconds and on demand, signed, stored; key rotation keeps old
checkpoints verifiable; the log refuses to sign a tree that contradicts what it signed before."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_support import AUDITOR, ORIGIN, SETTLE, Clock, append
from sqlalchemy import Engine, text

from shadan.audit.checkpoint import open_checkpoint
from shadan.audit.keys import FileKeyStore
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import node_key
from shadan.audit.note import NoteVerificationError, Verifier, parse_note
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.services.audit_log import AuditLogService, LogFailureKind, LogIntegrityError


def test_checkpoints_every_n_events_or_t_seconds(
    engine: Engine, service: AuditLogService, clock: Clock
) -> None:
    first = service.tick()
    assert first is not None
    assert first.size == 0
    append(engine, 1, 9)
    assert service.tick() is None
    append(engine, 10, 1)
    assert service.tick() is not None
    assert service.latest_checkpoint().size == 10
    append(engine, 11, 1)
    assert service.tick() is None
    clock.advance(61)
    made = service.tick()
    assert made is not None
    assert made.size == 11
    clock.advance(600)
    assert service.tick() is None  # nothing new: no new checkpoint


def test_on_demand_checkpoint_covers_everything_committed(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 3)
    made = service.checkpoint()
    assert made.size == 3
    assert service.checkpoint() == made  # nothing new: the same checkpoint, not a new signature
    append(engine, 4, 2)
    assert service.checkpoint().size == 5


def test_a_checkpoint_is_a_c2sp_note_signed_by_the_log_key(
    engine: Engine, service: AuditLogService, keys: FileKeyStore
) -> None:
    append(engine, 1, 4)
    made = service.checkpoint()
    lines = made.note.split("\n")
    assert lines[:2] == [ORIGIN, "4"]
    assert lines[3] == ""
    assert lines[4].startswith(f"— {ORIGIN} ")
    head = open_checkpoint(made.note, [Verifier.parse(service.public_key())], ORIGIN)
    assert head.checkpoint.root_hash == made.root_hash
    assert service.public_key() == keys.signer().verifier.text()


def test_rotation_signs_a_hand_over_with_both_keys_and_old_checkpoints_stay_valid(
    engine: Engine, service: AuditLogService
) -> None:
    append(engine, 1, 5)
    before = service.checkpoint()
    old_key = Verifier.parse(service.public_key())
    new_key = Verifier.parse(service.rotate_key())
    assert new_key.name == old_key.name
    assert new_key.key_id != old_key.key_id
    hand_over = service.latest_checkpoint()
    assert hand_over is not None
    assert {s.key_id for s in parse_note(hand_over.note).signatures} == {old_key.key_id, new_key.key_id}
    open_checkpoint(hand_over.note, [old_key])
    open_checkpoint(before.note, [old_key])
    with pytest.raises(NoteVerificationError):
        open_checkpoint(before.note, [new_key])
    append(engine, 6, 2)
    after = service.checkpoint()
    open_checkpoint(after.note, [new_key])
    assert service.verify(run_by=AUDITOR).ok
    both = [old_key.text(), new_key.text()]
    assert service.verify(verifier_keys=both, run_by=AUDITOR).ok
    # An auditor who trusts only the new key cannot vouch for the checkpoints made before it.
    only_new = service.verify(verifier_keys=[new_key.text()], run_by=AUDITOR)
    assert only_new.failures[0].kind is LogFailureKind.CHECKPOINT_SIGNATURE


def test_the_log_refuses_to_sign_over_a_rewritten_tree(
    engine: Engine, owner_engine: Engine, service: AuditLogService
) -> None:
    append(engine, 1, 8)
    service.checkpoint()
    with owner_engine.begin() as connection:
        connection.execute(
            text("UPDATE log_nodes SET hash = :h WHERE node_key = :k"),
            {"h": b"x" * 32, "k": node_key(NodeId(3, 0))},
        )
    append(engine, 9, 1)
    with pytest.raises(LogIntegrityError, match="一致しない"):
        service.checkpoint()


def test_a_server_with_another_key_refuses_to_sign(
    engine: Engine, service: AuditLogService, clock: Clock, tmp_path: Path
) -> None:
    append(engine, 1, 2)
    service.checkpoint()
    stranger = SqlTransparencyLog(engine, FileKeyStore(tmp_path / "other", ORIGIN), clock, SETTLE)
    append(engine, 3, 1)
    stranger.sequence()
    with pytest.raises(LogIntegrityError, match="鍵で検証できない"):
        stranger.sign_checkpoint()
