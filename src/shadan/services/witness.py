"""The witness (c2sp.org/tlog-witness): it keeps the latest checkpoint it cosigned for each log it trusts,
cosigns a new one only when it is provably an extension of that one, and refuses — and records — a split
view: two signed checkpoints of one log with the same size and different roots (DESIGN §4.3).

The witness is a small service of its own (an outside party such as the regulator runs it), with its own
key and state; the ports below are implemented in audit/ (witness_store, witness_checks). The request
format and the refusals are the spec's, so any tlog-witness client can use this witness and this
witness's clients can use any other.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from shadan.domain.errors import DomainError, InvalidInput
from shadan.services.clock import Clock

MAX_PROOF_LINES = 63  # the spec's limit: a proof in a tree of 2**63 leaves is at most this long
MAX_REQUEST_BYTES = 64 * 1024  # 63 hashes and a checkpoint with 100 signature lines fit many times over
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_HASH_SIZE = 32


class Refusal(StrEnum):
    """Why a witness does not cosign; the HTTP status is the spec's, the exit code shadan's."""

    MALFORMED = "malformed"
    UNKNOWN_LOG = "unknown_log"
    UNTRUSTED = "untrusted"
    STALE = "stale"
    ROLLED_BACK = "rolled_back"
    INCONSISTENT = "inconsistent"
    SPLIT_VIEW = "split_view"

    @property
    def http_status(self) -> int:
        return REFUSAL_STATUS[self]

    @property
    def exit_code(self) -> int:
        return REFUSAL_EXIT_CODES[self]

    @property
    def titles(self) -> tuple[str, str]:
        """(Japanese, English)."""
        return REFUSAL_TITLES[self]


REFUSAL_STATUS: dict[Refusal, int] = {
    Refusal.MALFORMED: 400,
    Refusal.UNKNOWN_LOG: 404,
    Refusal.UNTRUSTED: 403,
    Refusal.STALE: 409,
    Refusal.ROLLED_BACK: 400,
    Refusal.INCONSISTENT: 422,
    Refusal.SPLIT_VIEW: 409,
}

REFUSAL_EXIT_CODES: dict[Refusal, int] = {
    Refusal.MALFORMED: 50,
    Refusal.UNKNOWN_LOG: 51,
    Refusal.UNTRUSTED: 52,
    Refusal.STALE: 53,
    Refusal.ROLLED_BACK: 54,
    Refusal.INCONSISTENT: 55,
    Refusal.SPLIT_VIEW: 56,
}

REFUSAL_TITLES: dict[Refusal, tuple[str, str]] = {
    Refusal.MALFORMED: ("要求の形式が不正です", "malformed request"),
    Refusal.UNKNOWN_LOG: ("証人が信頼していないログです", "unknown log origin"),
    Refusal.UNTRUSTED: (
        "チェックポイントに信頼済みの鍵の署名がありません",
        "the checkpoint is not signed by a trusted log key",
    ),
    Refusal.STALE: (
        "旧サイズが証人の連署済みサイズと一致しません",
        "the old size is not the size the witness cosigned last",
    ),
    Refusal.ROLLED_BACK: (
        "証人が連署済みのものより古いチェックポイントです（巻き戻し）",
        "the checkpoint is older than the one the witness cosigned (rollback)",
    ),
    Refusal.INCONSISTENT: (
        "一貫性証明が検証できません（追記だけで作られた木ではありません）",
        "the consistency proof does not verify (not an append-only extension)",
    ),
    Refusal.SPLIT_VIEW: (
        "分岐（スプリットビュー）: 同じサイズで根が異なる署名済みチェックポイントがあります",
        "split view: two signed checkpoints of the same size with different roots",
    ),
}


@dataclass(frozen=True, slots=True)
class SplitView:
    """Proof of a log's misbehaviour: both checkpoints are signed by the log, same size, other roots."""

    origin: str
    tree_size: int
    witnessed_note: str
    presented_note: str
    detected_at: dt.datetime


class WitnessRefused(DomainError):
    code = "witness_refused"

    def __init__(
        self,
        refusal: Refusal,
        message: str,
        witness_size: int | None = None,
        split_view: SplitView | None = None,
    ) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.witness_size = witness_size
        self.split_view = split_view


class WitnessNotReady(DomainError):
    """The witness home has no key (`shadan witness init` has not run there)."""

    code = "witness_not_ready"


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """The add-checkpoint body: `old <size>`, consistency proof lines, a blank line, the checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpoint:
        if len(body) > MAX_REQUEST_BYTES:
            raise _malformed(f"要求が大きすぎます（{MAX_REQUEST_BYTES} バイトまで）")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _malformed("要求が UTF-8 ではありません") from exc
        head, blank, checkpoint = text.partition("\n\n")
        if not blank or not checkpoint:
            raise _malformed("旧サイズと証明の行の後に、空行とチェックポイントがありません")
        first, *proof_lines = head.split("\n")
        old = first.removeprefix("old ")
        if old == first or not _SIZE.fullmatch(old):
            raise _malformed("1行目は `old <サイズ>`（先頭ゼロなしの10進数）でなければなりません")
        if len(proof_lines) > MAX_PROOF_LINES:
            raise _malformed(f"一貫性証明の行は {MAX_PROOF_LINES} 行までです")
        return cls(int(old), tuple(_proof_hash(line) for line in proof_lines), checkpoint)

    def render(self) -> bytes:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.checkpoint).encode()


def size_body(size: int) -> bytes:
    """The body of a 409 answer to a stale old size (content type text/x.tlog.size)."""
    return f"{size}\n".encode()


def parse_size_body(body: bytes) -> int | None:
    text = body.decode("ascii", "replace")
    return int(text[:-1]) if text.endswith("\n") and _SIZE.fullmatch(text[:-1]) else None


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A checkpoint as the witness reads it: `text` is the note body that a cosignature signs."""

    origin: str
    size: int
    root_hash: bytes
    text: str


@dataclass(frozen=True, slots=True)
class Witnessed:
    """The latest checkpoint the witness cosigned for one log, with its signed note verbatim."""

    head: TreeHead
    note: str
    cosigned_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Cosigned:
    head: TreeHead
    signature_lines: str  # the HTTP answer: one note signature line per witness key
    cosigned_note: str  # the checkpoint with the cosignature appended (for offline hand-over)


class KeyEvent(StrEnum):
    ADDED = "added"
    RETIRED = "retired"
    # In use when the history began: a key of a home made before witness_key_changes existed, recorded
    # when the witness first ran since (its time is then, not when the key was made).
    FOUND = "found"

    @property
    def label(self) -> str:
        return _KEY_EVENT_LABELS[self]


_KEY_EVENT_LABELS = {
    KeyEvent.ADDED: "追加 / added",
    KeyEvent.RETIRED: "退役 / retired",
    KeyEvent.FOUND: "履歴の開始時に使用中 / in use when the history began",
}


@dataclass(frozen=True, slots=True)
class KeyChange:
    """A key the witness began or stopped cosigning with (its own record of its identity over time)."""

    verifier_key: str
    event: KeyEvent
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class TrustedKey:
    origin: str
    verifier_key: str
    added: bool  # False when the witness trusted it already


class Checkpoints(Protocol):
    """Signed-note checkpoints and RFC 6962 consistency proofs."""

    def read(self, note: str) -> TreeHead:
        """The tree head of a signed checkpoint (form only); WitnessRefused(MALFORMED) if it is none."""
        ...

    def signed_by(self, note: str, verifier_keys: Sequence[str]) -> bool:
        """True when a trusted key signed the note and no trusted key's signature on it fails."""
        ...

    def consistent(self, old: TreeHead | None, new: TreeHead, proof: Sequence[bytes]) -> bool:
        """RFC 9162 §2.1.4.2 from `old` (None: the empty tree) to `new`."""
        ...

    def log_key_origin(self, verifier_key: str) -> str:
        """The origin (key name) of a log's verifier key; InvalidInput if it is not one."""
        ...


class WitnessKey(Protocol):
    """The witness's own signing keys (cosignature/v1, Ed25519): one, or two while it rotates."""

    def create(self, name: str) -> str:
        """Make the key (refuses to replace one); returns its verifier key."""
        ...

    def verifier_keys(self) -> tuple[str, ...]:
        """Every key it cosigns with, oldest first; WitnessNotReady when there is no key."""
        ...

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """One note signature line per key, each ending in a newline."""
        ...

    def rotate(self) -> str:
        """Add a new key of the same name (InvalidInput while a rotation is under way); its verifier key."""
        ...

    def retire(self) -> tuple[str, ...]:
        """Destroy every key but the newest (InvalidInput when there is one); their verifier keys."""
        ...


class WitnessStore(Protocol):
    def create(self) -> None: ...

    def trust(self, origin: str, verifier_key: str, now: dt.datetime) -> bool:
        """Trust a log key for its origin; False when it was trusted already."""
        ...

    def log_keys(self, origin: str) -> tuple[str, ...]: ...

    def latest(self, origin: str) -> Witnessed | None: ...

    def advance(self, origin: str, previous: Witnessed | None, new: Witnessed) -> bool:
        """Replace `previous` by `new` atomically; False when another request moved the state meanwhile."""
        ...

    def record_split_view(self, split_view: SplitView) -> bool:
        """Keep the evidence; False when this pair of checkpoints was recorded before."""
        ...

    def split_views(self) -> list[SplitView]: ...

    def log_count(self) -> int: ...

    def record_key_change(self, change: KeyChange) -> None: ...

    def record_keys_found(self, verifier_keys: tuple[str, ...], at: dt.datetime) -> None:
        """A `found` change for each key without any row yet, atomically: two witness processes starting
        at once record a key once."""
        ...

    def key_changes(self) -> list[KeyChange]:
        """Oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class WitnessStatus:
    verifier_keys: tuple[str, ...]  # oldest first: two while the witness rotates its key
    logs: int

    @property
    def verifier_key(self) -> str:
        return self.verifier_keys[-1]


class WitnessService:
    def __init__(self, key: WitnessKey, store: WitnessStore, checkpoints: Checkpoints, clock: Clock) -> None:
        self._key = key
        self._store = store
        self._checkpoints = checkpoints
        self._clock = clock
        self._schema_checked = False

    def init(self, name: str) -> str:
        verifier_key = self._key.create(name)
        self._store.create()
        self._store.record_key_change(KeyChange(verifier_key, KeyEvent.ADDED, self._clock()))
        return verifier_key

    def rotate_key(self) -> str:
        """A new key beside the current one: the witness cosigns with both until `retire_keys`, so the
        logs and auditors can take up the new key without a moment in which they cannot verify."""
        self._ready()
        new = self._key.rotate()
        self._store.record_key_change(KeyChange(new, KeyEvent.ADDED, self._clock()))
        return new

    def retire_keys(self) -> tuple[str, ...]:
        """The end of a rotation: every key but the newest is destroyed."""
        self._ready()
        retired = self._key.retire()
        now = self._clock()
        for key in retired:
            self._store.record_key_change(KeyChange(key, KeyEvent.RETIRED, now))
        return retired

    def key_history(self) -> list[KeyChange]:
        self._ready()
        return self._store.key_changes()

    def trust(self, verifier_keys: str) -> list[TrustedKey]:
        """Trust every log key in the text (one a line, e.g. a log's current and retired keys)."""
        self._ready()
        lines = [line.strip() for line in verifier_keys.splitlines() if line.strip()]
        if not lines:
            raise InvalidInput("ログの検証鍵がありません。")
        origins = [self._checkpoints.log_key_origin(line) for line in lines]
        now = self._clock()
        return [
            TrustedKey(origin, line, self._store.trust(origin, line, now))
            for origin, line in zip(origins, lines, strict=True)
        ]

    def status(self) -> WitnessStatus:
        return WitnessStatus(self._ready(), self._store.log_count())

    def public_key(self) -> str:
        """The newest key: the one to hand to the logs."""
        return self._key.verifier_keys()[-1]

    def split_views(self) -> list[SplitView]:
        self._ready()
        return self._store.split_views()

    def add_checkpoint(self, body: bytes) -> Cosigned:
        """The add-checkpoint call: the spec's checks (a split view first of the tree checks, see below),
        then cosign; the state moves atomically before the cosignature is handed out."""
        self._ready()
        request = AddCheckpoint.parse(body)
        head = self._checkpoints.read(request.checkpoint)
        keys = self._store.log_keys(head.origin)
        if not keys:
            raise WitnessRefused(Refusal.UNKNOWN_LOG, f"ログ {head.origin} はこの証人に登録されていません。")
        if not self._checkpoints.signed_by(request.checkpoint, keys):
            raise WitnessRefused(Refusal.UNTRUSTED, f"ログ {head.origin} の信頼済みの鍵で検証できません。")
        latest = self._store.latest(head.origin)
        self._refuse_split_view(head, request.checkpoint, latest)
        self._check_extension(request, head, latest)
        now = self._clock()
        line = self._key.cosign(head.text, int(now.timestamp()))
        if not self._store.advance(head.origin, latest, Witnessed(head, request.checkpoint, now)):
            raise self._stale(head.origin, "別の要求が先に受け付けられました。")
        return Cosigned(head, line, request.checkpoint + line)

    def _ready(self) -> tuple[str, ...]:
        """The witness's verifier keys; WitnessNotReady in a home that `init` has not prepared."""
        verifier_keys = self._key.verifier_keys()
        if not self._schema_checked:
            self._store.create()  # idempotent: a state file lost beside a kept key starts empty, not broken
            # Every key in use gets a row of the history: one without (a home made before the history, or
            # whose state file was lost) is recorded as found, now.
            self._store.record_keys_found(verifier_keys, self._clock())
            self._schema_checked = True
        return verifier_keys

    def _refuse_split_view(self, head: TreeHead, note: str, latest: Witnessed | None) -> None:
        # Whatever the old size says: two signed heads of one size with two roots are the evidence itself.
        if latest is None or latest.head.size != head.size or latest.head.root_hash == head.root_hash:
            return
        split_view = SplitView(head.origin, head.size, latest.note, note, self._clock())
        self._store.record_split_view(split_view)
        raise WitnessRefused(
            Refusal.SPLIT_VIEW,
            f"ログ {head.origin} のサイズ {head.size:,} に、連署済みのものと根が異なるチェックポイントが"
            "提出されました。ログが分岐しています。",
            witness_size=latest.head.size,
            split_view=split_view,
        )

    def _check_extension(self, request: AddCheckpoint, head: TreeHead, latest: Witnessed | None) -> None:
        witnessed_size = latest.head.size if latest is not None else 0
        if request.old_size > head.size:
            if request.old_size == witnessed_size:
                raise WitnessRefused(
                    Refusal.ROLLED_BACK,
                    f"証人はサイズ {witnessed_size:,} に連署済みです。サイズ {head.size:,} の"
                    "チェックポイントは巻き戻しです。",
                    witness_size=witnessed_size,
                )
            raise _malformed(
                f"旧サイズ {request.old_size:,} がチェックポイントのサイズ {head.size:,} を超えています"
            )
        if request.old_size != witnessed_size:
            raise self._stale(head.origin, f"証人が連署済みのサイズは {witnessed_size:,} です。")
        old = latest.head if latest is not None else None
        if not self._checkpoints.consistent(old, head, request.proof):
            raise WitnessRefused(
                Refusal.INCONSISTENT,
                f"サイズ {witnessed_size:,} からサイズ {head.size:,} への一貫性証明が検証できません。",
                witness_size=witnessed_size,
            )

    def _stale(self, origin: str, message: str) -> WitnessRefused:
        latest = self._store.latest(origin)
        size = latest.head.size if latest is not None else 0
        return WitnessRefused(Refusal.STALE, message, witness_size=size)


def _proof_hash(line: str) -> bytes:
    try:
        value = base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed("一貫性証明の行が base64 ではありません") from exc
    if len(value) != _HASH_SIZE:
        raise _malformed("一貫性証明の行が 32 バイトのハッシュではありません")
    return value


def _malformed(message: str) -> WitnessRefused:
    return WitnessRefused(Refusal.MALFORMED, f"{message}。")
