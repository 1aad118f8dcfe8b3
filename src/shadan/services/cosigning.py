"""The log's side of witnessing: hand the latest checkpoint to a witness with a consistency proof from the
size that witness cosigned last, check the cosignature that comes back, and keep it (DESIGN §4.3).

Online (`submit`) the request goes over HTTP (c2sp.org/tlog-witness add-checkpoint); offline (`request`,
then `import`) the same request body travels on a medium and the witness's cosigned checkpoint comes back
the same way. Every cosignature kept is also an access event, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Protocol

from shadan.domain.errors import DomainError, InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.audit_log import AuditLogService, CheckpointInfo
from shadan.services.clock import Clock
from shadan.services.identity import Actor, EventFactory
from shadan.services.patient_calls import GaveUp, PatientCalls
from shadan.services.witness import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    Refusal,
    WitnessRefused,
    parse_size_body,
)

_STATUS_REFUSALS = {
    400: Refusal.MALFORMED,
    403: Refusal.UNTRUSTED,
    404: Refusal.UNKNOWN_LOG,
    409: Refusal.SPLIT_VIEW,  # a 409 without a size body: the witness holds another root at this size
    422: Refusal.INCONSISTENT,
}
_MESSAGE_CHARS = 500
# How long the periodic job waits for its witnesses together: two calls (the 409 retry) of the client's
# 30-second timeout each. A witness still answering then is left to finish on its own.
WITNESS_PATIENCE_SECONDS = 60.0


class CosignatureProblem(StrEnum):
    BAD_COSIGNATURE = "bad_cosignature"
    FOREIGN_CHECKPOINT = "foreign_checkpoint"

    @property
    def exit_code(self) -> int:
        return COSIGNATURE_EXIT_CODES[self]


COSIGNATURE_EXIT_CODES: dict[CosignatureProblem, int] = {
    CosignatureProblem.BAD_COSIGNATURE: 57,
    CosignatureProblem.FOREIGN_CHECKPOINT: 58,
}


class CosignatureRejected(DomainError):
    code = "cosignature_rejected"

    def __init__(self, problem: CosignatureProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class WitnessReply:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class ReceivedCosignature:
    """A verified cosignature of one of this log's checkpoints."""

    witness_name: str
    witness_key: str
    origin: str
    tree_size: int
    root_hash: bytes
    signature_line: str
    cosigned_at: dt.datetime


class WitnessClient(Protocol):
    def add_checkpoint(self, body: bytes) -> WitnessReply:
        """POST the request to the witness; DomainError when no HTTP answer comes back."""
        ...


class CosignatureChecks(Protocol):
    def witness_key(self, text: str) -> str:
        """A witness verifier key (type 0x04) in its canonical one-line form; InvalidInput if it is none."""
        ...

    def verify(self, witness_key: str, cosigned_note: str) -> ReceivedCosignature:
        """The witness's cosignature of the note's checkpoint; CosignatureRejected(BAD_COSIGNATURE) when
        the note is malformed or carries no valid cosignature by that key."""
        ...


class CosignatureLedger(Protocol):
    """The stored tree (for proofs and roots) and the table of cosignatures received."""

    def last_cosigned_size(self, witness_key: str) -> int: ...

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]: ...

    def root_at(self, size: int) -> bytes | None:
        """The root hash of the log at `size`; None when the log has fewer leaves."""
        ...

    def record(self, cosignature: ReceivedCosignature, event: AccessEvent) -> bool:
        """Store the cosignature and its access event together; False when it was stored before."""
        ...


@dataclass(frozen=True, slots=True)
class Stored:
    cosignature: ReceivedCosignature
    new: bool


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness the periodic job hands checkpoints to: its tlog-witness URL and its verifier key."""

    url: str
    key: str

    @property
    def name(self) -> str:
        """The witness's name, from its verifier key (`<name>+<key id>+<key>`); never its URL, which
        could carry credentials into a log line."""
        return self.key.split("+", 1)[0]


@dataclass(frozen=True, slots=True)
class Submission:
    """What one witness made of the latest checkpoint: cosigned and stored, or the failure."""

    witness: Witness
    stored: Stored | None = None
    failure: Exception | None = None


class CosigningService:
    def __init__(
        self,
        log: AuditLogService,
        ledger: CosignatureLedger,
        checks: CosignatureChecks,
        connect: Callable[[str], WitnessClient],
        clock: Clock,
        system_name: str,
        patience_seconds: float = WITNESS_PATIENCE_SECONDS,
    ) -> None:
        self._log = log
        self._ledger = ledger
        self._checks = checks
        self._connect = connect
        self._clock = clock
        self._events = EventFactory(system_name)
        self._calls = PatientCalls[ReceivedCosignature](patience_seconds)

    def request(self, old_size: int) -> bytes:
        """The add-checkpoint body for the latest checkpoint, from a witness at `old_size` (offline)."""
        head = self._log.checkpoint()
        if old_size > head.size:
            raise InvalidInput(f"旧サイズ {old_size:,} がログのサイズ {head.size:,} を超えています。")
        return self._request_body(old_size, head)

    def submit(self, url: str, witness_key: str, actor: Actor) -> Stored:
        """Checkpoint now and ask the witness to cosign it; one retry when it holds another old size."""
        return self._submit(url, self._checks.witness_key(witness_key), actor, self._log.checkpoint())

    def submit_latest(self, witnesses: Sequence[Witness], actor: Actor) -> tuple[Submission, ...]:
        """The latest checkpoint to every witness that has not cosigned it yet (the periodic job, which
        signs checkpoints by its own rule: every N events or T seconds). The witnesses are asked at once
        and waited for no longer than the patience together, so a witness away, slow or trickling its
        answer holds up neither the others nor the log's job; each one's failure is its own. What they
        return is checked and stored one after the other."""
        head = self._log.latest_checkpoint()
        if head is None:
            return ()
        keyed = [(w, self._checks.witness_key(w.key)) for w in witnesses]
        due = [(w, key) for w, key in keyed if self._ledger.last_cosigned_size(key) < head.size]
        busy = {key for _, key in due if self._calls.busy(key)}
        asked = [(w, key) for w, key in due if key not in busy]
        answers = self._calls.call([(key, partial(self._cosignature, w.url, key, head)) for w, key in asked])
        waiting = GaveUp("前回の依頼にまだ答えていません（答えを待っています）")
        return (
            *(self._keep(w, answers[key], actor) for w, key in asked),
            *(Submission(w, failure=waiting) for w, key in due if key in busy),
        )

    def _keep(self, witness: Witness, answer: ReceivedCosignature | Exception, actor: Actor) -> Submission:
        if isinstance(answer, Exception):
            return Submission(witness, failure=answer)
        try:
            return Submission(witness, stored=self._store(answer, actor, "http"))
        except Exception as exc:  # e.g. the database away: this witness's failure, like its own
            return Submission(witness, failure=exc)

    def _submit(self, url: str, witness_key: str, actor: Actor, head: CheckpointInfo) -> Stored:
        return self._store(self._cosignature(url, witness_key, head), actor, "http")

    def _cosignature(self, url: str, witness_key: str, head: CheckpointInfo) -> ReceivedCosignature:
        witness = self._connect(url)
        old = self._ledger.last_cosigned_size(witness_key)
        reply = witness.add_checkpoint(self._request_body(self._not_above(old, head), head))
        stated = _stated_size(reply)
        if stated is not None:
            reply = witness.add_checkpoint(self._request_body(self._not_above(stated, head), head))
        if reply.status != 200:
            raise _refusal(reply)
        return self._checks.verify(witness_key, head.note + reply.body.decode("utf-8", "replace"))

    def import_cosigned(self, cosigned_note: str, witness_key: str, actor: Actor) -> Stored:
        """A cosigned checkpoint brought back from an offline witness: checked against this log's tree."""
        cosignature = self._checks.verify(self._checks.witness_key(witness_key), cosigned_note)
        latest = self._log.latest_checkpoint()
        root = self._ledger.root_at(cosignature.tree_size)
        if latest is None or cosignature.origin != latest.origin or root != cosignature.root_hash:
            raise CosignatureRejected(
                CosignatureProblem.FOREIGN_CHECKPOINT,
                f"連署されたチェックポイント（{cosignature.origin}、サイズ {cosignature.tree_size:,}）は"
                "このログの木と一致しません。",
            )
        return self._store(cosignature, actor, "file")

    def _request_body(self, old_size: int, head: CheckpointInfo) -> bytes:
        proof = self._ledger.consistency_proof(old_size, head.size)
        return AddCheckpoint(old_size, proof, head.note).render()

    def _not_above(self, witness_size: int, head: CheckpointInfo) -> int:
        # The witness cosigned more leaves than this log has: the log went back, or a fork was witnessed.
        if witness_size > head.size:
            raise WitnessRefused(
                Refusal.ROLLED_BACK,
                f"証人はサイズ {witness_size:,} に連署済みですが、このログのサイズは {head.size:,} です。"
                "ログが巻き戻されたか、分岐したログが証人に提出されています。",
                witness_size=witness_size,
            )
        return witness_size

    def _store(self, cosignature: ReceivedCosignature, actor: Actor, via: str) -> Stored:
        extra = {
            "witness": cosignature.witness_name,
            "witness_key": cosignature.witness_key,
            "tree_size": cosignature.tree_size,
            "root_hash": cosignature.root_hash.hex(),
            "cosigned_at": cosignature.cosigned_at.isoformat(),
            "via": via,
        }
        event = self._events.admin(
            self._clock(),
            actor,
            AuditTag.LOG_COSIGNED,
            ResourceType.ACCESS_LOG,
            (cosignature.origin,),
            extra=extra,
        )
        return Stored(cosignature, self._ledger.record(cosignature, event))


def _stated_size(reply: WitnessReply) -> int | None:
    if reply.status != 409 or reply.content_type != SIZE_CONTENT_TYPE:
        return None
    size = parse_size_body(reply.body)
    if size is None:
        raise DomainError("証人の 409 応答のサイズが読めません。")
    return size


def _refusal(reply: WitnessReply) -> DomainError:
    message = reply.body.decode("utf-8", "replace").strip()[:_MESSAGE_CHARS]
    refusal = _STATUS_REFUSALS.get(reply.status)
    if reply.status == 409 and reply.content_type == SIZE_CONTENT_TYPE:
        refusal = Refusal.STALE
    if refusal is None:
        return DomainError(f"証人が予期しない応答を返しました（HTTP {reply.status}）: {message}")
    return WitnessRefused(refusal, f"証人が連署を拒否しました（HTTP {reply.status}）: {message}")
