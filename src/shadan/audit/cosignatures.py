"""The log's side of witnessing (services.cosigning): consistency proofs and roots from the stored tree,
the witnesses' cosignatures checked with their keys, and the `log_cosignatures` table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, insert, select

from shadan.audit.checkpoint import Checkpoint, CheckpointError
from shadan.audit.cosignature import CosignatureError, cosignatures_by, witness_verifier
from shadan.audit.log import SqlAccessLog
from shadan.audit.merkle import ProofError, consistency_proof, root_at
from shadan.audit.note import NoteError, parse_note
from shadan.audit.record_tables import log_cosignatures
from shadan.audit.sequencer import read_state
from shadan.audit.tree_store import node_reader
from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.services.audit_log import LogIntegrityError
from shadan.services.cosigning import CosignatureProblem, CosignatureRejected, ReceivedCosignature


class SqlCosignatureLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def last_cosigned_size(self, witness_key: str) -> int:
        query = select(func.max(log_cosignatures.c.tree_size)).where(
            log_cosignatures.c.witness_key == witness_key
        )
        with self._engine.connect() as connection:
            size = connection.execute(query).scalar_one_or_none()
        return int(size or 0)

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        with self._engine.connect() as connection:
            try:
                return tuple(consistency_proof(old_size, new_size, node_reader(connection)))
            except ProofError as exc:
                raise LogIntegrityError(f"一貫性証明を作れません（保存された木の不整合）: {exc}") from exc

    def root_at(self, size: int) -> bytes | None:
        with self._engine.connect() as connection:
            if size > read_state(connection).tree_size:
                return None
            try:
                return root_at(size, node_reader(connection))
            except ProofError as exc:
                raise LogIntegrityError(f"木の根を計算できません（保存された木の不整合）: {exc}") from exc

    def record(self, cosignature: ReceivedCosignature, event: AccessEvent) -> bool:
        duplicate = select(log_cosignatures.c.cosignature_id).where(
            log_cosignatures.c.witness_key == cosignature.witness_key,
            log_cosignatures.c.signature_line == cosignature.signature_line,
        )
        with self._engine.begin() as connection:
            if connection.execute(duplicate).first() is not None:
                return False
            connection.execute(
                insert(log_cosignatures).values(
                    witness_name=cosignature.witness_name,
                    witness_key=cosignature.witness_key,
                    tree_size=cosignature.tree_size,
                    root_hash=cosignature.root_hash,
                    signature_line=cosignature.signature_line,
                    cosigned_at=cosignature.cosigned_at,
                    received_at=event.ts,
                )
            )
            SqlAccessLog(connection).append([event])
        return True


class WitnessCosignatureChecks:
    def witness_key(self, text: str) -> str:
        try:
            return witness_verifier(text).text()
        except NoteError as exc:
            raise InvalidInput(f"証人の検証鍵の形式が不正です（type 0x04 の鍵が必要です）: {exc}") from exc

    def verify(self, witness_key: str, cosigned_note: str) -> ReceivedCosignature:
        witness = witness_verifier(witness_key)
        try:
            note = parse_note(cosigned_note)
            checkpoint = Checkpoint.parse(note.text)
            # Several lines of one witness are allowed: the latest statement is the one kept.
            cosignature = max(cosignatures_by(note.text, note.signatures, witness), key=lambda c: c.timestamp)
            cosigned_at = dt.datetime.fromtimestamp(cosignature.timestamp, dt.UTC)
        except (NoteError, CheckpointError, CosignatureError, OverflowError, OSError, ValueError) as exc:
            raise CosignatureRejected(
                CosignatureProblem.BAD_COSIGNATURE, f"証人の連署を検証できません: {exc}"
            ) from exc
        return ReceivedCosignature(
            witness_name=witness.name,
            witness_key=witness.text(),
            origin=checkpoint.origin,
            tree_size=checkpoint.size,
            root_hash=checkpoint.root_hash,
            signature_line=cosignature.line().rstrip("\n"),
            cosigned_at=cosigned_at,
        )
