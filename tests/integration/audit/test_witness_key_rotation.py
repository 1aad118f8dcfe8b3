"""A witness rotating its own key: a new key of the same name beside the old, both cosigning until the
old one is retired (destroyed), so that no log or auditor holding either key is ever left unable to verify;
the history kept in the witness's state; a running server taking up a rotation made beside it; a log
switching to the new key mid-way; and a rotation that cannot half-happen."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from audit_support import Clock, append
from sqlalchemy import Engine
from witness_support import OPERATOR, URL, AppClient, cosigning

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.cosignature import cosignatures_by, lines_of, witness_verifier
from shadan.audit.keys import FileKeyStore
from shadan.audit.merkle import EMPTY_ROOT
from shadan.audit.note import Signer, parse_note
from shadan.audit.witness_key_file import KEY_FILE, PUBLIC_FILE, WitnessKeyFile
from shadan.bootstrap import build_witness
from shadan.domain.errors import InvalidInput
from shadan.services.audit_log import AuditLogService
from shadan.services.cosigning import CosignatureRejected
from shadan.services.witness import AddCheckpoint, KeyChange, KeyEvent

NAME = "witness.example.jp/egc"
ORIGIN = "example.jp/access-log/rotation"
NOW = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


def cosigning_keys(note: str, keys: list[str]) -> list[str]:
    """Those of the keys that cosigned the note (each line of theirs verified; CosignatureError if not)."""
    parsed = parse_note(note)
    witnesses = [witness_verifier(key) for key in keys]
    return [
        key
        for key, witness in zip(keys, witnesses, strict=True)
        if lines_of(parsed.signatures, witness) and cosignatures_by(parsed.text, parsed.signatures, witness)
    ]


def test_both_keys_cosign_until_the_old_one_is_retired(tmp_path: Path) -> None:
    home = tmp_path / "witness"
    log = Signer.generate(ORIGIN)
    witness = build_witness(home, clock=lambda: NOW)
    old = witness.init(NAME)
    witness.trust(log.verifier.text())
    new = witness.rotate_key()
    assert witness_verifier(new).name == NAME
    assert witness_verifier(new).key_id != witness_verifier(old).key_id
    assert witness.status().verifier_keys == (old, new)
    assert (home / PUBLIC_FILE).read_text().split() == [old, new]
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
    with pytest.raises(InvalidInput, match="retire-keys"):
        witness.rotate_key()  # one rotation at a time

    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [log]).render()
    during = witness.add_checkpoint(AddCheckpoint(0, (), empty).render())
    assert during.signature_lines.count("\n") == 2  # the answer: one line a key
    assert cosigning_keys(during.cosigned_note, [old, new]) == [old, new]

    assert witness.retire_keys() == (old,)
    assert witness.status().verifier_keys == (new,)
    assert (home / PUBLIC_FILE).read_text().split() == [new]
    assert old.split("+")[1] not in (home / KEY_FILE).read_text()  # the old private key is gone
    after = witness.add_checkpoint(AddCheckpoint(0, (), empty).render())
    assert after.signature_lines.count("\n") == 1
    assert cosigning_keys(after.cosigned_note, [old, new]) == [new]
    with pytest.raises(InvalidInput, match="退役させる古い鍵がありません"):
        witness.retire_keys()
    assert witness.key_history() == [
        KeyChange(old, KeyEvent.ADDED, NOW),
        KeyChange(new, KeyEvent.ADDED, NOW),
        KeyChange(old, KeyEvent.RETIRED, NOW),
    ]


def test_a_running_server_takes_up_a_rotation_made_beside_it(tmp_path: Path) -> None:
    home = tmp_path / "witness"
    serving = WitnessKeyFile(home)
    old = serving.create(NAME)
    assert serving.cosign("checkpoint\n", 1).count("\n") == 1  # loaded and kept
    new = WitnessKeyFile(home).rotate()  # `shadan witness rotate-key` in another process
    assert serving.verifier_keys() == (old, new)
    assert serving.cosign("checkpoint\n", 1).count("\n") == 2


def test_a_left_over_temporary_file_stops_a_rotation_before_anything_changes(tmp_path: Path) -> None:
    home = tmp_path / "witness"
    key = WitnessKeyFile(home)
    old = key.create(NAME)
    (home / (PUBLIC_FILE + ".new")).write_text("half-written\n")
    with pytest.raises(InvalidInput, match="残っています"):
        key.rotate()
    assert WitnessKeyFile(home).verifier_keys() == (old,)
    assert (home / PUBLIC_FILE).read_text().split() == [old]


def test_a_log_switches_to_the_new_key_during_the_rotation(
    engine: Engine, service: AuditLogService, clock: Clock, keys: FileKeyStore, tmp_path: Path
) -> None:
    witness = build_witness(tmp_path / "witness", clock)
    old = witness.init(NAME)
    witness.trust(keys.signer().verifier.text())
    log_side = cosigning(engine, service, clock, AppClient(witness))
    append(engine, 1, 5)
    assert log_side.submit(URL, old, OPERATOR).cosignature.tree_size == 5
    new = witness.rotate_key()
    clock.advance(60)
    append(engine, 100, 2)
    assert log_side.submit(URL, old, OPERATOR).cosignature.witness_key == old  # the old key still works
    clock.advance(60)
    append(engine, 200, 2)
    switched = log_side.submit(URL, new, OPERATOR)  # from old 0: the witness states its size, one retry
    assert (switched.cosignature.witness_key, switched.cosignature.tree_size) == (new, 11)
    witness.retire_keys()
    clock.advance(60)
    append(engine, 300, 1)
    with pytest.raises(CosignatureRejected):
        log_side.submit(URL, old, OPERATOR)  # a log still holding the retired key is told
    assert log_side.submit(URL, new, OPERATOR).cosignature.tree_size == 13
