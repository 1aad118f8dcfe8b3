"""C2SP tlog-cosignature, Ed25519 (cosignature/v1): a witness's timestamped signature on a checkpoint.

A cosignature is a signed-note signature line `— <witness name> base64(key id || timestamp || signature)`:

- key id: SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4] (signature type 0x04);
- timestamp: the POSIX time of cosigning, unsigned 64-bit big-endian, at most 2**63 - 1;
- signature: Ed25519 over the message `cosignature/v1\\ntime <timestamp>\\n` followed by the whole note body
  of the checkpoint (origin, size, root hash, extension lines; no signature lines).

Keys are written like the log's (audit/note.py) with type byte 0x04: the verifier key
`<name>+<hex id>+<base64(0x04 || public key)>`, the signer key `PRIVATE+KEY+<name>+<hex id>+<base64(0x04 ||
seed)>`. Signing and verification are `cryptography`'s Ed25519, through note.Signer and note.Verifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shadan.audit.note import NoteError, NoteSignature, Signer, Verifier

COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1
_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64


class CosignatureError(ValueError):
    """A cosignature that is malformed, or that does not verify with the witness key."""


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature timestamp {timestamp} is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True, slots=True)
class Cosignature:
    name: str
    key_id: int
    timestamp: int
    signature: bytes

    @classmethod
    def of(cls, note_signature: NoteSignature) -> Cosignature:
        blob = note_signature.signature
        if len(blob) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            raise CosignatureError("a cosignature is an 8-byte timestamp and a 64-byte Ed25519 signature")
        timestamp = int.from_bytes(blob[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise CosignatureError("cosignature timestamp exceeds 2**63 - 1")
        return cls(note_signature.name, note_signature.key_id, timestamp, blob[_TIMESTAMP_SIZE:])

    def line(self) -> str:
        blob = self.timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.signature
        return NoteSignature(self.name, self.key_id, blob).line()


class Cosigner:
    """A witness's signing key. The key material never appears in repr or logs (note.Signer)."""

    def __init__(self, signer: Signer) -> None:
        if signer.key_type != COSIGNATURE_V1:
            raise NoteError("a cosigner key has signature type 0x04")
        self._signer = signer

    @classmethod
    def generate(cls, name: str) -> Cosigner:
        return cls(Signer.generate(name, COSIGNATURE_V1))

    @classmethod
    def parse(cls, text: str) -> Cosigner:
        return cls(Signer.parse(text, COSIGNATURE_V1))

    @property
    def verifier(self) -> Verifier:
        return self._signer.verifier

    def secret_text(self) -> str:
        """The key file content; only for writing the key file."""
        return self._signer.secret_text()

    def cosign(self, checkpoint_text: str, timestamp: int) -> Cosignature:
        signature = self._signer.sign_message(cosigned_message(checkpoint_text, timestamp))
        return Cosignature(self._signer.name, self.verifier.key_id, timestamp, signature)


def witness_verifier(text: str) -> Verifier:
    """A witness's verifier key (type 0x04); NoteError if the text is not one."""
    return Verifier.parse(text, COSIGNATURE_V1)


def verify_cosignature(checkpoint_text: str, cosignature: Cosignature, witness: Verifier) -> None:
    if witness.key_type != COSIGNATURE_V1 or (cosignature.name, cosignature.key_id) != (
        witness.name,
        witness.key_id,
    ):
        raise CosignatureError(f"the cosignature is not by witness key {witness.name}+{witness.key_id:08x}")
    message = cosigned_message(checkpoint_text, cosignature.timestamp)
    if not witness.verifies(message, cosignature.signature):
        raise CosignatureError(f"the cosignature by {witness.name} does not verify")


def lines_of(signatures: Sequence[NoteSignature], witness: Verifier) -> list[NoteSignature]:
    """The signature lines of the witness's key (its name and key id), verified or not."""
    return [s for s in signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]


def cosignatures_by(
    checkpoint_text: str, signatures: Sequence[NoteSignature], witness: Verifier
) -> tuple[Cosignature, ...]:
    """The witness's verified cosignatures among note signature lines, as a note is verified: lines of
    other keys are ignored, a failing line of the witness's key rejects all, and one at least is needed."""
    mine = lines_of(signatures, witness)
    if not mine:
        raise CosignatureError(f"no cosignature by witness key {witness.name}+{witness.key_id:08x}")
    cosignatures = tuple(Cosignature.of(s) for s in mine)
    for cosignature in cosignatures:
        verify_cosignature(checkpoint_text, cosignature, witness)
    return cosignatures
