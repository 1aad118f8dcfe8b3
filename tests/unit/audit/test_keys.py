"""The signing key on disk: created once with mode 0600, reused, rotated under the same log name."""

from __future__ import annotations

import stat
from pathlib import Path

from shadan.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from shadan.audit.keys import SIGNER_FILE, VERIFIER_FILE, FileKeyStore, default_origin

ROOT = bytes(32)


def test_first_use_creates_a_private_key_only_the_owner_can_read(tmp_path: Path) -> None:
    keys = FileKeyStore(tmp_path / "keys", "example.org/log")
    signer = keys.signer()
    assert signer.name == "example.org/log"
    assert stat.S_IMODE((tmp_path / "keys" / SIGNER_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert (tmp_path / "keys" / VERIFIER_FILE).read_text() == signer.verifier.text() + "\n"
    again = FileKeyStore(tmp_path / "keys", "ignored.example/other")
    assert again.signer().verifier == signer.verifier  # the stored key wins over a new default name


def test_rotation_keeps_the_name_and_old_checkpoints_verifiable(tmp_path: Path) -> None:
    keys = FileKeyStore(tmp_path / "keys", "example.org/log")
    old = keys.signer()
    old_note = sign_checkpoint(Checkpoint(old.name, 3, ROOT), [old]).render()
    new = keys.rotate()
    assert new.name == old.name
    assert new.verifier.key_id != old.verifier.key_id
    assert keys.verifiers() == (new.verifier, old.verifier)
    assert open_checkpoint(old_note, [old.verifier]).checkpoint.size == 3
    assert open_checkpoint(old_note, keys.verifiers()).checkpoint.size == 3
    reopened = FileKeyStore(tmp_path / "keys", "example.org/log")
    assert reopened.signer().verifier == new.verifier
    assert reopened.retired() == (old.verifier,)
    assert stat.S_IMODE((tmp_path / "keys" / SIGNER_FILE).stat().st_mode) == 0o600
    assert not [p for p in (tmp_path / "keys").iterdir() if p.name.startswith(".")]


def test_default_origin_is_a_valid_key_name_and_unique() -> None:
    first, second = default_origin("関西 送配電+x"), default_origin("関西 送配電+x")
    assert first.startswith("関西送配電x/access-log/")
    assert first != second
