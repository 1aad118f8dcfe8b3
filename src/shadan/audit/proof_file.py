"""C2SP transparency log proofs (c2sp.org/tlog-proof@v1): one event, checkable with the public key alone.

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's canonical entry bytes>
    index <zero-based leaf index>
    <base64 inclusion proof hash>   (zero or more, leaf side first, RFC 6962 §2.1.1)

    <the signed checkpoint, verbatim, with the witnesses' cosignature lines after the log's signature>

The spec leaves `extra` unauthenticated; here it is the entry itself, so checking the inclusion proof of
SHA-256(0x00 || extra) authenticates it. Cosignatures (c2sp.org/tlog-cosignature) are signature lines of
other keys: a verifier that does not know them ignores them, one given a witness key checks them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from shadan.audit.checkpoint import CheckpointError, SignedTreeHead, open_checkpoint
from shadan.audit.cosignature import Cosignature, CosignatureError, cosignatures_by, lines_of
from shadan.audit.merkle import ProofError, leaf_hash, verify_inclusion
from shadan.audit.note import NoteError, NoteVerificationError, Verifier, parse_note

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


class ProofFileProblem(StrEnum):
    MALFORMED = "malformed"
    SIGNATURE = "signature"
    INCLUSION = "inclusion"
    WITNESS = "witness"


class ProofFileError(ValueError):
    def __init__(self, problem: ProofFileProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ProofFile:
    entry: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def render(self) -> str:
        lines = [HEADER, f"extra {base64.b64encode(self.entry).decode()}", f"index {self.index}"]
        lines += [base64.b64encode(h).decode() for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note


def parse_proof_file(data: str | bytes) -> ProofFile:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed("the file is not UTF-8 text") from exc
    head, sep, checkpoint = data.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != HEADER:
        raise _malformed(f"the file does not start with {HEADER} or has no checkpoint")
    rest = lines[1:]
    if not rest or not rest[0].startswith("extra "):
        raise _malformed("shadan proofs carry the event in an 'extra' line")
    entry = _b64(rest[0].removeprefix("extra "))
    match = _INDEX.fullmatch(rest[1]) if len(rest) > 1 else None
    if match is None:
        raise _malformed("the 'index' line is missing or not a plain decimal")
    proof = tuple(_b64(line) for line in rest[2:])
    return ProofFile(entry, int(match.group(1)), proof, checkpoint)


def check_proof_file(proof_file: ProofFile, verifiers: Sequence[Verifier]) -> SignedTreeHead:
    """The signed tree head the event is proven in; ProofFileError says what does not hold."""
    try:
        head = open_checkpoint(proof_file.checkpoint_note, verifiers)
    except NoteVerificationError as exc:
        raise ProofFileError(ProofFileProblem.SIGNATURE, str(exc)) from exc
    except (NoteError, CheckpointError) as exc:
        raise _malformed(f"the checkpoint is malformed: {exc}") from exc
    if not any(v.name == head.checkpoint.origin for v in verifiers):
        raise ProofFileError(ProofFileProblem.SIGNATURE, "the checkpoint's origin is not the key's log")
    try:
        verify_inclusion(
            proof_file.index,
            head.checkpoint.size,
            leaf_hash(proof_file.entry),
            proof_file.proof,
            head.checkpoint.root_hash,
        )
    except ProofError as exc:
        raise ProofFileError(ProofFileProblem.INCLUSION, str(exc)) from exc
    return head


def cosignatures_of(
    proof_file: ProofFile, witnesses: Sequence[Verifier], quorum: int | None = None
) -> tuple[Cosignature, ...]:
    """The given witnesses' verified cosignatures on the proof's checkpoint (c2sp.org/tlog-cosignature).
    ProofFileError if a line of a witness's key does not verify, or if fewer than `quorum` of the
    witnesses (all of them by default) cosigned: a witness without lines is only not counted. A witness
    is its name: two keys of one name (before and after the witness rotated its key) count once."""
    try:
        note = parse_note(proof_file.checkpoint_note)
    except NoteError as exc:
        raise _malformed(f"the checkpoint is malformed: {exc}") from exc
    found: list[Cosignature] = []
    for witness in witnesses:
        if not lines_of(note.signatures, witness):
            continue
        try:
            found += cosignatures_by(note.text, note.signatures, witness)
        except CosignatureError as exc:
            raise ProofFileError(ProofFileProblem.WITNESS, str(exc)) from exc
    names = witness_names(witnesses)
    cosigned = {c.name for c in found}
    needed = len(names) if quorum is None else quorum
    if len(cosigned) < needed:
        absent = ", ".join(name for name in names if name not in cosigned)
        raise ProofFileError(
            ProofFileProblem.WITNESS,
            f"{len(cosigned)} of {len(names)} witnesses cosigned the checkpoint,"
            f" {needed} needed; no cosignature by {absent}",
        )
    return tuple(found)


def witness_names(witnesses: Sequence[Verifier]) -> list[str]:
    """The distinct witnesses among the keys, in the keys' order."""
    return list(dict.fromkeys(w.name for w in witnesses))


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed("a line is not valid base64") from exc


def _malformed(detail: str) -> ProofFileError:
    return ProofFileError(ProofFileProblem.MALFORMED, detail)
