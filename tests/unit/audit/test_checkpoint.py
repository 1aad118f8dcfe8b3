"""C2SP checkpoints: the exact text form, parsing errors, verification against the log's keys."""

from __future__ import annotations

import base64

import pytest

from shadan.audit.checkpoint import Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint
from shadan.audit.note import NoteVerificationError, Signer

ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def test_text_form() -> None:
    text = Checkpoint("example.com/log", 8, ROOT).text()
    assert text == f"example.com/log\n8\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(text) == Checkpoint("example.com/log", 8, ROOT)
    with_ext = Checkpoint("example.com/log", 0, ROOT, ("ext one",))
    assert Checkpoint.parse(with_ext.text()) == with_ext


@pytest.mark.parametrize(
    "bad",
    [
        "example.com/log\n08\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n",  # leading zero
        "example.com/log\n-1\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n",
        "example.com/log\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQ==\n",  # 31 bytes
        "example.com/log\n8\nnot base64!\n",
        "\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n",  # empty origin
        "example.com/log\n8\nXcnaeacGWamtVZy3Ad7Zoqudgjqtl0lgz+Nw7/RgQyg=\n\n",  # empty extension
        "example.com/log\n8\n",
    ],
)
def test_malformed_checkpoints_are_refused(bad: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(bad)


def test_signed_checkpoint_opens_with_the_key_and_the_origin() -> None:
    signer = Signer.generate("example.com/log")
    note = sign_checkpoint(Checkpoint("example.com/log", 8, ROOT), [signer]).render()
    assert note.startswith("example.com/log\n8\n")
    assert "\n\n— example.com/log " in note
    head = open_checkpoint(note, [signer.verifier], "example.com/log")
    assert head.checkpoint.root_hash == ROOT
    with pytest.raises(CheckpointError, match=r"not 'other\.example/log'"):
        open_checkpoint(note, [signer.verifier], "other.example/log")
    with pytest.raises(NoteVerificationError):
        open_checkpoint(note, [Signer.generate("example.com/log").verifier])


def test_a_changed_root_breaks_the_signature() -> None:
    signer = Signer.generate("example.com/log")
    note = sign_checkpoint(Checkpoint("example.com/log", 8, ROOT), [signer]).render()
    other = base64.b64encode(bytes(32)).decode()
    with pytest.raises(NoteVerificationError):
        open_checkpoint(note.replace(base64.b64encode(ROOT).decode(), other), [signer.verifier])
