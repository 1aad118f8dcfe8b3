"""The tamper-evident access log as use cases: sequence, checkpoint, prove, verify (DESIGN §4.3).

The ports below are implemented in audit/ (Merkle tree, signed notes, SQL tables) and wired in bootstrap.
This module decides *when* things happen — a checkpoint every N events or T seconds, a checkpoint that
covers an event before its proof is written — and names every kind of failure with its exit code and
its message in Japanese and English.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from shadan.domain.errors import AuditUnavailable, DomainError
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, AuditTag, Outcome, ResourceType

Clock = Callable[[], dt.datetime]
Progress = Callable[[int, int], None]


class LogIntegrityError(DomainError):
    """The stored log contradicts what the log signed before; nothing more is signed until it is resolved."""

    code = "log_integrity"


class LogFailureKind(StrEnum):
    """What `shadan audit verify` can find; the value order is the reporting priority."""

    TRUSTED_CHECKPOINT_INVALID = "trusted_checkpoint_invalid"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    ROLLED_BACK = "rolled_back"
    TRUNCATED = "truncated"
    EVENT_CHANGED = "event_changed"
    DELETION_RECORD_INVALID = "deletion_record_invalid"
    EVENT_MISSING = "event_missing"
    EVENT_UNLOGGED = "event_unlogged"
    TREE_CORRUPT = "tree_corrupt"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    SEARCH_INDEX = "search_index"
    TIME_SPANS = "time_spans"
    EVENT_VIEW = "event_view"
    KEY_CONSTRAINT = "key_constraint"
    TABLE_HOOK = "table_hook"
    SEQUENCING_STALLED = "sequencing_stalled"

    @property
    def exit_code(self) -> int:
        return FAILURE_EXIT_CODES[self]

    @property
    def titles(self) -> tuple[str, str]:
        """(Japanese, English)."""
        return FAILURE_TITLES[self]


FAILURE_EXIT_CODES: dict[LogFailureKind, int] = {
    LogFailureKind.EVENT_CHANGED: 10,
    LogFailureKind.EVENT_MISSING: 11,
    LogFailureKind.EVENT_UNLOGGED: 12,
    LogFailureKind.TRUNCATED: 13,
    LogFailureKind.ROLLED_BACK: 14,
    LogFailureKind.CHECKPOINT_SIGNATURE: 15,
    LogFailureKind.CHECKPOINT_MISMATCH: 16,
    LogFailureKind.TREE_CORRUPT: 17,
    LogFailureKind.DELETION_RECORD_INVALID: 18,
    LogFailureKind.SEARCH_INDEX: 19,
    LogFailureKind.TRUSTED_CHECKPOINT_INVALID: 20,
    LogFailureKind.EVENT_VIEW: 21,
    LogFailureKind.KEY_CONSTRAINT: 22,
    LogFailureKind.TABLE_HOOK: 23,
    LogFailureKind.TIME_SPANS: 24,
    LogFailureKind.SEQUENCING_STALLED: 25,
}

FAILURE_TITLES: dict[LogFailureKind, tuple[str, str]] = {
    LogFailureKind.EVENT_CHANGED: (
        "イベントが改ざんされています（編集・差し替え・並べ替え）",
        "an event was changed (edited, replaced or reordered)",
    ),
    LogFailureKind.EVENT_MISSING: ("イベントが削除されています", "an event was deleted"),
    LogFailureKind.DELETION_RECORD_INVALID: (
        "削除記録を検証できません（署名・対象の葉・部分木ハッシュ）",
        "a deletion record does not verify (signature, leaves or subtree hashes)",
    ),
    LogFailureKind.EVENT_UNLOGGED: (
        "木に記録されていないイベントがあります（後からの挿入、または読めないエントリ）",
        "an event is not in the tree (inserted afterwards, or an entry that cannot be read)",
    ),
    LogFailureKind.TRUNCATED: ("ログの末尾が切り詰められています", "the log was truncated"),
    LogFailureKind.ROLLED_BACK: (
        "ログが信頼済みチェックポイントより前の状態に戻されています",
        "the log was rolled back to a state older than the trusted checkpoint",
    ),
    LogFailureKind.CHECKPOINT_SIGNATURE: (
        "チェックポイントの署名が不正です（偽造または別の鍵での再署名）",
        "a checkpoint signature is invalid (forged, or re-signed with another key)",
    ),
    LogFailureKind.SEARCH_INDEX: (
        "検索索引がイベントと一致しません（検索からアクセスが隠される、または偽って示される）",
        "the search index differs from the events (an access hidden from, or falsely shown by, a search)",
    ),
    LogFailureKind.TIME_SPANS: (
        "期間検索の時刻範囲がイベントの時刻を含みません（期間の検索からアクセスが隠される）",
        "a time span does not cover its events' times (an access hidden from a search by period)",
    ),
    LogFailureKind.EVENT_VIEW: (
        "イベントのビュー定義が変更されています（検索や画面がイベントの記録内容と異なる列を示しうる）",
        "the view of the events was changed (searches and pages may show columns other than the entries)",
    ),
    LogFailureKind.KEY_CONSTRAINT: (
        "ログが前提とする制約・索引が外されているか変更されています（同じ連番・葉番号・ノード・イベントIDの行を"
        "複数置ける、または JSON でない記録を保存できる）",
        "a constraint or index the log relies on was dropped or changed (rows can share a seq, leaf index, "
        "node or event id, or an entry may be no JSON)",
    ),
    LogFailureKind.TABLE_HOOK: (
        "ログの表にトリガー・ルール・行セキュリティがあります（記録の際にイベントを書き換え・破棄し、"
        "または隠しうる）",
        "a trigger, rule or row-level security on the log's tables (events could be rewritten or dropped "
        "as they are recorded, or hidden)",
    ),
    LogFailureKind.SEQUENCING_STALLED: (
        "木に入らないまま待ち時間の上限を超えたイベントがあります（順序付けの停止。改ざんを検知できない）",
        "an event has waited longer than the maximum wait for its leaf (the sequencer stalled: changes to it "
        "cannot be detected)",
    ),
    LogFailureKind.CHECKPOINT_MISMATCH: (
        "署名済みチェックポイントとイベントが一致しません（履歴の書き換え）",
        "a signed checkpoint does not match the events (history rewritten)",
    ),
    LogFailureKind.TREE_CORRUPT: (
        "保存されている木のハッシュが壊れています",
        "the stored tree hashes are corrupt",
    ),
    LogFailureKind.TRUSTED_CHECKPOINT_INVALID: (
        "信頼済みチェックポイントを検証できません（形式・署名・ログ名）",
        "the trusted checkpoint cannot be verified (format, signature or log name)",
    ),
}


@dataclass(frozen=True, slots=True)
class LogFailure:
    kind: LogFailureKind
    seq: int | None
    leaf_index: int | None
    detail_ja: str
    detail_en: str


@dataclass(frozen=True, slots=True)
class VerificationReport:
    origin: str
    tree_size: int
    events_checked: int
    checkpoints_checked: int
    pending_events: int
    failures: tuple[LogFailure, ...]
    trusted_size: int | None = None  # the size of the trusted checkpoint, when one was given and verified
    # False when the run could not be recorded: tampering can break the append path itself (a renumbered
    # seq), and what verification found is shown all the same.
    recorded: bool = True

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [f.seq for f in self.failures if f.seq is not None]
        return min(seqs) if seqs else None

    @property
    def exit_code(self) -> int:
        return self.failures[0].kind.exit_code if self.failures else 0


@dataclass(frozen=True, slots=True)
class VerificationRun:
    """One recorded run of `verify` (who, when, what it found), as the auditors' pages show it."""

    started_at: dt.datetime
    finished_at: dt.datetime
    run_by: str  # account id
    origin: str
    tree_size: int
    events_checked: int
    checkpoints_checked: int
    ok: bool
    first_bad_seq: int | None
    exit_code: int
    failures: tuple[LogFailure, ...]
    trusted_size: int | None

    @classmethod
    def of(
        cls, report: VerificationReport, run_by: str, started_at: dt.datetime, finished_at: dt.datetime
    ) -> VerificationRun:
        return cls(
            started_at=started_at,
            finished_at=finished_at,
            run_by=run_by,
            origin=report.origin,
            tree_size=report.tree_size,
            events_checked=report.events_checked,
            checkpoints_checked=report.checkpoints_checked,
            ok=report.ok,
            first_bad_seq=report.first_bad_seq,
            exit_code=report.exit_code,
            failures=report.failures,
            trusted_size=report.trusted_size,
        )


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    origin: str
    size: int
    root_hash: bytes
    note: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WitnessQuorum:
    """How many witnesses must cosign a checkpoint before proofs rest on it, and the newest they did."""

    quorum: int
    checkpoint: CheckpointInfo | None


class ProofProblem(StrEnum):
    MALFORMED = "malformed"
    SIGNATURE = "signature"
    INCLUSION = "inclusion"
    KEY = "key"
    WITNESS = "witness"
    SPLIT_VIEW = "split_view"  # among several proof files: one size, two roots (proof_batch.py)

    @property
    def exit_code(self) -> int:
        return PROOF_EXIT_CODES[self]


PROOF_EXIT_CODES: dict[ProofProblem, int] = {
    ProofProblem.MALFORMED: 30,
    ProofProblem.SIGNATURE: 31,
    ProofProblem.INCLUSION: 32,
    ProofProblem.KEY: 33,
    ProofProblem.WITNESS: 34,
    ProofProblem.SPLIT_VIEW: 35,
}


class ProofCheckFailed(DomainError):
    code = "proof_check_failed"

    def __init__(self, problem: ProofProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class WitnessSignature:
    """A witness's verified cosignature on the checkpoint a proof rests on."""

    witness: str
    cosigned_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CheckedProof:
    origin: str
    tree_size: int
    root_hash: bytes  # of the signed checkpoint the proof leads to
    leaf_index: int
    entry: bytes
    witnessed_by: tuple[WitnessSignature, ...] = ()


class TransparencyLog(Protocol):
    """The stored Merkle tree over access_events with its signed checkpoints."""

    def sequence(self) -> int:
        """Give leaves to committed events not in the tree yet; returns the tree size."""
        ...

    def latest_checkpoint(self) -> CheckpointInfo | None: ...

    def sign_checkpoint(self) -> CheckpointInfo:
        """Sign and store a checkpoint of the current tree (LogIntegrityError if it contradicts history)."""
        ...

    def witness_quorum(self) -> WitnessQuorum: ...

    def leaf_index_of(self, seq: int) -> int | None: ...

    def proof_for_event(self, seq: int) -> str:
        """The tlog-proof file of the event against the latest checkpoint (NotFound if not covered)."""
        ...

    def verifier_key(self) -> str: ...

    def rotate_key(self) -> str:
        """A new signing key for the same log, and a hand-over checkpoint signed by the old and the new key;
        returns the new verifier key. Old checkpoints stay verifiable with the old public key."""
        ...

    def verify(
        self, trusted: str | None, verifier_keys: Sequence[str], progress: Progress
    ) -> VerificationReport:
        """Recompute the tree and checkpoints from the events. Empty `verifier_keys`: the log's own keys."""
        ...

    def record_verification(self, run: VerificationRun, event: AccessEvent) -> None:
        """Store the run and its access event in one transaction."""
        ...

    def last_verification(self) -> VerificationRun | None: ...

    def record_event(self, event: AccessEvent) -> None:
        """Append an access event about the log itself; it is durable when this returns."""
        ...

    def seq_of_event(self, event_id: str) -> int | None: ...


class ProofChecker(Protocol):
    """Checks a tlog-proof file with verifier keys only: no database, no settings."""

    def check(
        self,
        proof_file: bytes,
        verifier_keys: Sequence[str],
        witness_keys: Sequence[str] = (),
        witness_quorum: int | None = None,
    ) -> CheckedProof:
        """`witness_keys` must have cosigned the proof's checkpoint, each of them or at least
        `witness_quorum` (ProofProblem.WITNESS if not); every cosignature line of a given key must verify.
        A witness is its key's name (two keys of one witness count once); a quorum outside 1..the number
        of witnesses is ProofProblem.KEY."""
        ...


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    # Every stored checkpoint costs each verification its signature check (docs/access-log.md, "When").
    every_events: int = 100_000
    every_seconds: float = 300.0


class AuditLogService:
    def __init__(
        self, log: TransparencyLog, clock: Clock, policy: CheckpointPolicy | None = None, *, system: str
    ) -> None:
        self._log = log
        self._clock = clock
        self._policy = policy or CheckpointPolicy()
        self._system = system  # the `system` field of the access events this service records

    def tick(self) -> CheckpointInfo | None:
        """The periodic job: sequence, then sign a checkpoint when N events or T seconds have passed."""
        size = self._log.sequence()
        latest = self._log.latest_checkpoint()
        if latest is None:
            return self._log.sign_checkpoint()
        grown = size - latest.size
        age = (self._clock() - latest.created_at).total_seconds()
        if grown >= self._policy.every_events or (grown > 0 and age >= self._policy.every_seconds):
            return self._log.sign_checkpoint()
        return None

    def checkpoint(self) -> CheckpointInfo:
        """On demand: a checkpoint of everything committed now (the latest one if nothing was added)."""
        size = self._log.sequence()
        latest = self._log.latest_checkpoint()
        if latest is not None and latest.size == size:
            return latest
        return self._log.sign_checkpoint()

    def latest_checkpoint(self) -> CheckpointInfo | None:
        return self._log.latest_checkpoint()

    def witness_quorum(self) -> WitnessQuorum:
        return self._log.witness_quorum()

    def proof(self, seq: int) -> str:
        """The stand-alone proof file of one event, signing a covering checkpoint first if needed."""
        self._log.sequence()
        index = self._log.leaf_index_of(seq)
        latest = self._log.latest_checkpoint()
        if index is not None and (latest is None or latest.size <= index):
            self._log.sign_checkpoint()
        return self._log.proof_for_event(seq)

    def export_proof(self, seq: int, exported_by: str) -> str:
        """`proof`, handed out: the export is an access event, durable before the file is returned."""
        text = self.proof(seq)
        self._log.record_event(
            self._event(Action.EXPORT, AuditTag.LOG_PROOF_EXPORTED, exported_by, str(seq), {"seq": seq})
        )
        return text

    def seq_of_event(self, event_id: str) -> int | None:
        return self._log.seq_of_event(event_id)

    def public_key(self) -> str:
        return self._log.verifier_key()

    def rotate_key(self) -> str:
        self._log.sequence()
        return self._log.rotate_key()

    def verify(
        self,
        trusted: str | None = None,
        verifier_keys: Sequence[str] = (),
        progress: Progress | None = None,
        *,
        run_by: str,
    ) -> VerificationReport:
        """Verify the whole log; the run is recorded, with an access event, whatever it finds."""
        started = self._clock()
        report = self._log.verify(trusted, verifier_keys, progress or no_progress)
        run = VerificationRun.of(report, run_by, started, self._clock())
        extra = {
            "ok": run.ok,
            "exit_code": run.exit_code,
            "first_bad_seq": run.first_bad_seq,
            "tree_size": run.tree_size,
            "trusted_size": run.trusted_size,
        }
        event = self._event(Action.ADMIN, AuditTag.LOG_VERIFIED, run_by, report.origin, extra)
        try:
            self._log.record_verification(run, event)
        except AuditUnavailable:
            return replace(report, recorded=False)
        return report

    def last_verification(self) -> VerificationRun | None:
        return self._log.last_verification()

    def _event(
        self, action: Action, tag: AuditTag, account_id: str, resource_id: str, extra: dict[str, Any]
    ) -> AccessEvent:
        return AccessEvent(
            event_id=uuid.uuid4().hex,
            ts=self._clock().astimezone(dt.UTC),
            system=self._system,
            account_id=account_id,
            action=action,
            resource_type=ResourceType.ACCESS_LOG,
            resource_ids=(resource_id,),
            outcome=Outcome.ALLOWED,
            detail=str(tag),
            extra=extra,
        )


def no_progress(_total: int, _done: int) -> None:
    return None
