"""C2SP checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text is the tree head.

<origin>
<tree size, ASCII decimal, no leading zeroes>
<base64 RFC 6962 root hash>
[extension lines, non-empty; shadan writes none]
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shadan.audit.merkle import HASH_SIZE
from shadan.audit.note import (
    NoteError,
    SignedNote,
    Signer,
    Verifier,
    check_key_name,
    parse_note,
    sign_note,
    verify_note,
)

_SIZE = re.compile(r"0|[1-9][0-9]*")


class CheckpointError(ValueError):
    """A checkpoint text that is not a well-formed tree head."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("checkpoint needs origin, size and root hash lines, each ending in newline")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not _SIZE.fullmatch(size):
            raise CheckpointError("checkpoint origin is empty or its size is not a plain decimal")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointError("checkpoint root hash is not base64") from exc
        if len(root_hash) != HASH_SIZE or any(not line for line in extensions):
            raise CheckpointError("checkpoint root hash is not 32 bytes, or an extension line is empty")
        return cls(origin, int(size), root_hash, tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A checkpoint together with the signed note it came in (kept verbatim for proofs and witnesses)."""

    checkpoint: Checkpoint
    note: SignedNote

    def render(self) -> str:
        return self.note.render()


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> SignedTreeHead:
    check_key_name(checkpoint.origin)
    return SignedTreeHead(checkpoint, sign_note(checkpoint.text(), signers))


def open_checkpoint(
    data: str | bytes, verifiers: Iterable[Verifier], origin: str | None = None
) -> SignedTreeHead:
    """Parse a signed checkpoint and verify it with the trusted keys (NoteVerificationError if not)."""
    note = parse_note(data)
    verify_note(note, verifiers)
    checkpoint = Checkpoint.parse(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is from log {checkpoint.origin!r}, not {origin!r}")
    return SignedTreeHead(checkpoint, note)


__all__ = [
    "Checkpoint",
    "CheckpointError",
    "NoteError",
    "SignedTreeHead",
    "open_checkpoint",
    "sign_checkpoint",
]
