"""What the witness checks about a submitted checkpoint (services.witness.Checkpoints): its form, the
log's signature, and the RFC 9162 consistency proof from the checkpoint the witness holds."""

from __future__ import annotations

from collections.abc import Sequence

from shadan.audit.checkpoint import Checkpoint, CheckpointError
from shadan.audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from shadan.audit.note import NoteError, NoteVerificationError, Verifier, parse_note, verify_note
from shadan.domain.errors import InvalidInput
from shadan.services.witness import Refusal, TreeHead, WitnessRefused


class SignedCheckpoints:
    def read(self, note: str) -> TreeHead:
        try:
            text = parse_note(note).text
            checkpoint = Checkpoint.parse(text)
        except (NoteError, CheckpointError) as exc:
            raise WitnessRefused(Refusal.MALFORMED, f"チェックポイントの形式が不正です: {exc}") from exc
        return TreeHead(checkpoint.origin, checkpoint.size, checkpoint.root_hash, text)

    def signed_by(self, note: str, verifier_keys: Sequence[str]) -> bool:
        try:
            verify_note(parse_note(note), [Verifier.parse(key) for key in verifier_keys])
        except (NoteError, NoteVerificationError):
            return False
        return True

    def consistent(self, old: TreeHead | None, new: TreeHead, proof: Sequence[bytes]) -> bool:
        old_size, old_root = (old.size, old.root_hash) if old is not None else (0, EMPTY_ROOT)
        try:
            verify_consistency(old_size, new.size, old_root, new.root_hash, proof)
        except ProofError:
            return False
        return True

    def log_key_origin(self, verifier_key: str) -> str:
        try:
            return Verifier.parse(verifier_key).name
        except NoteError as exc:
            raise InvalidInput(f"ログの検証鍵の形式が不正です: {exc}") from exc
