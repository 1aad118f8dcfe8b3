"""The witness's rules (services.witness) over an in-memory state and in-memory logs: it cosigns only
append-only growth proven by a consistency proof, answers the spec's refusals, and records a split view
(two signed checkpoints of one size, two roots) as evidence — once, however often it is replayed."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence

import pytest

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.cosignature import Cosigner, cosignatures_by
from shadan.audit.merkle import CompactRange, NodeId, consistency_proof, leaf_hash
from shadan.audit.note import Signer, parse_note
from shadan.audit.witness_checks import SignedCheckpoints
from shadan.domain.errors import InvalidInput
from shadan.services.witness import (
    AddCheckpoint,
    KeyChange,
    KeyEvent,
    Refusal,
    SplitView,
    Witnessed,
    WitnessNotReady,
    WitnessRefused,
    WitnessService,
)

ORIGIN = "operator.example/access-log/0001"
START = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


class MemoryLog:
    """A log in memory: its leaves' complete subtrees, signed checkpoints and consistency proofs."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.nodes: dict[NodeId, bytes] = {}
        self.tree = CompactRange()

    def append(self, count: int, tag: str = "ev") -> MemoryLog:
        for _ in range(count):
            leaf = leaf_hash(f"{tag}-{self.tree.size}".encode())
            self.nodes[NodeId(0, self.tree.size)] = leaf
            self.tree.append(leaf, self.nodes.__setitem__)
        return self

    def fork(self) -> MemoryLog:
        return copy.deepcopy(self)

    def checkpoint(self) -> str:
        return sign_checkpoint(
            Checkpoint(self.signer.name, self.tree.size, self.tree.root()), [self.signer]
        ).render()

    def request(self, old: int) -> bytes:
        proof = consistency_proof(old, self.tree.size, self._read)
        return AddCheckpoint(old, tuple(proof), self.checkpoint()).render()

    def _read(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {node: self.nodes[node] for node in ids}


class MemoryStore:
    def __init__(self) -> None:
        self.keys: dict[str, list[str]] = {}
        self.heads: dict[str, Witnessed] = {}
        self.splits: list[SplitView] = []
        self.lose_next_race = False
        self.key_history: list[KeyChange] = []

    def create(self) -> None:
        return None

    def trust(self, origin: str, verifier_key: str, now: dt.datetime) -> bool:
        keys = self.keys.setdefault(origin, [])
        if verifier_key in keys:
            return False
        keys.append(verifier_key)
        return True

    def log_keys(self, origin: str) -> tuple[str, ...]:
        return tuple(self.keys.get(origin, ()))

    def latest(self, origin: str) -> Witnessed | None:
        return self.heads.get(origin)

    def advance(self, origin: str, previous: Witnessed | None, new: Witnessed) -> bool:
        if self.lose_next_race or self.heads.get(origin) != previous:
            self.lose_next_race = False
            return False
        self.heads[origin] = new
        return True

    def record_split_view(self, split_view: SplitView) -> bool:
        pair = (split_view.witnessed_note, split_view.presented_note)
        if any((s.witnessed_note, s.presented_note) == pair for s in self.splits):
            return False
        self.splits.append(split_view)
        return True

    def split_views(self) -> list[SplitView]:
        return list(self.splits)

    def log_count(self) -> int:
        return len(self.keys)

    def record_key_change(self, change: KeyChange) -> None:
        self.key_history.append(change)

    def record_keys_found(self, verifier_keys: tuple[str, ...], at: dt.datetime) -> None:
        recorded = {change.verifier_key for change in self.key_history}
        self.key_history += [KeyChange(k, KeyEvent.FOUND, at) for k in verifier_keys if k not in recorded]

    def key_changes(self) -> list[KeyChange]:
        return list(self.key_history)


class MemoryKey:
    """The witness's keys in memory, oldest first (witness_key_file.py keeps them in its home)."""

    def __init__(self) -> None:
        self.cosigners: list[Cosigner] = []

    def create(self, name: str) -> str:
        self.cosigners = [Cosigner.generate(name)]
        return self.cosigners[0].verifier.text()

    def verifier_keys(self) -> tuple[str, ...]:
        if not self.cosigners:
            raise WitnessNotReady("no key")
        return tuple(c.verifier.text() for c in self.cosigners)

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        return "".join(c.cosign(checkpoint_text, timestamp).line() for c in self.cosigners)

    def rotate(self) -> str:
        if len(self.cosigners) > 1:
            raise InvalidInput("a rotation is under way")
        self.cosigners.append(Cosigner.generate(self.cosigners[0].verifier.name))
        return self.cosigners[-1].verifier.text()

    def retire(self) -> tuple[str, ...]:
        if len(self.cosigners) == 1:
            raise InvalidInput("one key only")
        retired, self.cosigners = self.cosigners[:-1], self.cosigners[-1:]
        return tuple(c.verifier.text() for c in retired)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def log_signer() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def key() -> MemoryKey:
    return MemoryKey()


@pytest.fixture
def witness(key: MemoryKey, store: MemoryStore, log_signer: Signer) -> WitnessService:
    service = WitnessService(key, store, SignedCheckpoints(), Clock())
    service.init("witness.example.jp/egc")
    service.trust(log_signer.verifier.text() + "\n")
    return service


def refusal(witness: WitnessService, body: bytes) -> WitnessRefused:
    with pytest.raises(WitnessRefused) as refused:
        witness.add_checkpoint(body)
    return refused.value


def test_first_checkpoint_and_growth_with_a_real_proof_are_cosigned(
    witness: WitnessService, key: MemoryKey, store: MemoryStore, log_signer: Signer
) -> None:
    log = MemoryLog(log_signer).append(5)
    first = witness.add_checkpoint(log.request(0))
    assert first.head.size == 5
    assert first.cosigned_note.startswith(log.checkpoint())
    note = parse_note(first.cosigned_note)
    assert cosignatures_by(note.text, note.signatures, key.cosigners[0].verifier)

    log.append(6)
    grown = witness.add_checkpoint(log.request(5))
    assert AddCheckpoint.parse(log.request(5)).proof  # a real, non-empty consistency proof
    assert grown.head.size == 11
    latest = store.latest(ORIGIN)
    assert latest is not None
    assert latest.head.size == 11


def test_the_same_checkpoint_again_is_cosigned_again(witness: WitnessService, log_signer: Signer) -> None:
    log = MemoryLog(log_signer).append(3)
    witness.add_checkpoint(log.request(0))
    again = witness.add_checkpoint(log.request(3))
    assert again.head.size == 3


def test_unknown_and_untrusted_logs_are_refused(witness: WitnessService) -> None:
    stranger = Signer.generate("other.example/access-log/0002")
    assert refusal(witness, MemoryLog(stranger).append(2).request(0)).refusal is Refusal.UNKNOWN_LOG
    impostor = Signer.generate(ORIGIN)  # the log's name, another key
    refused = refusal(witness, MemoryLog(impostor).append(2).request(0))
    assert refused.refusal is Refusal.UNTRUSTED
    assert refused.refusal.http_status == 403


def test_a_checkpoint_that_is_not_one_is_malformed(witness: WitnessService) -> None:
    assert refusal(witness, b"old 0\n\nhello\n\n\xe2\x80\x94 x AAAAAAA=\n").refusal is Refusal.MALFORMED


def test_a_stale_old_size_gets_409_with_the_witness_size(
    witness: WitnessService, store: MemoryStore, log_signer: Signer
) -> None:
    log = MemoryLog(log_signer).append(4)
    witness.add_checkpoint(log.request(0))
    old_request = log.request(0)
    log.append(4)
    refused = refusal(witness, log.request(0))
    assert (refused.refusal, refused.witness_size) == (Refusal.STALE, 4)
    # Replaying the first request is harmless: the same answer, nothing moved, nothing recorded.
    replayed = refusal(witness, old_request)
    assert (replayed.refusal, replayed.witness_size) == (Refusal.STALE, 4)
    latest = store.latest(ORIGIN)
    assert latest is not None
    assert latest.head.size == 4
    assert store.splits == []


def test_a_rollback_is_refused(witness: WitnessService, log_signer: Signer) -> None:
    log = MemoryLog(log_signer).append(4)
    older = log.fork()
    witness.add_checkpoint(log.append(4).request(0))
    body = older.request(0).replace(b"old 0\n", b"old 8\n", 1)
    refused = refusal(witness, body)
    assert (refused.refusal, refused.witness_size) == (Refusal.ROLLED_BACK, 8)
    assert refused.refusal.http_status == 400
    beyond = refusal(witness, older.request(0).replace(b"old 0\n", b"old 7\n", 1))
    assert beyond.refusal is Refusal.MALFORMED


def test_a_proof_that_does_not_verify_is_refused(witness: WitnessService, log_signer: Signer) -> None:
    log = MemoryLog(log_signer).append(5)
    witness.add_checkpoint(log.request(0))
    log.append(3)
    request = AddCheckpoint.parse(log.request(5))
    tampered = AddCheckpoint(5, (bytes(32), *request.proof[1:]), request.checkpoint).render()
    assert refusal(witness, tampered).refusal is Refusal.INCONSISTENT
    assert refusal(witness, AddCheckpoint(5, (), request.checkpoint).render()).refusal is Refusal.INCONSISTENT


def test_a_first_request_must_carry_no_proof(witness: WitnessService, log_signer: Signer) -> None:
    log = MemoryLog(log_signer).append(5)
    body = AddCheckpoint(0, (bytes(32),), log.checkpoint()).render()
    assert refusal(witness, body).refusal is Refusal.INCONSISTENT


def forked_after_witnessing(
    witness: WitnessService, log_signer: Signer, grown: int
) -> tuple[MemoryLog, MemoryLog]:
    """A log witnessed at 4 leaves, then grown by `grown` and witnessed again; and a fork of it at 4 that
    went on with 3 other leaves. Returns (log, fork)."""
    log = MemoryLog(log_signer).append(4)
    witness.add_checkpoint(log.request(0))
    fork = log.fork().append(3, tag="forked")
    log.append(grown)
    witness.add_checkpoint(log.request(4))
    return log, fork


def test_a_split_view_is_refused_recorded_once_and_reported(
    witness: WitnessService, store: MemoryStore, log_signer: Signer
) -> None:
    log, fork = forked_after_witnessing(witness, log_signer, 3)

    refused = refusal(witness, fork.request(7))
    assert refused.refusal is Refusal.SPLIT_VIEW
    assert refused.refusal.http_status == 409
    assert refused.split_view is not None
    assert refused.split_view.witnessed_note == log.checkpoint()
    assert refused.split_view.presented_note == fork.checkpoint()
    # Found whatever old size the forked log states, and kept once however often it comes back.
    assert refusal(witness, fork.request(4)).refusal is Refusal.SPLIT_VIEW
    assert [(s.origin, s.tree_size) for s in witness.split_views()] == [(ORIGIN, 7)]
    latest = store.latest(ORIGIN)
    assert latest is not None
    assert latest.note == log.checkpoint()


def test_a_fork_at_another_size_is_inconsistent_but_no_evidence(
    witness: WitnessService, store: MemoryStore, log_signer: Signer
) -> None:
    _, fork = forked_after_witnessing(witness, log_signer, 2)
    # The fork cannot prove that it extends size 6, and an unproven claim is not proof of misbehaviour.
    assert refusal(witness, fork.request(6)).refusal is Refusal.INCONSISTENT
    assert store.splits == []


def test_a_lost_race_is_answered_as_stale(
    witness: WitnessService, store: MemoryStore, log_signer: Signer
) -> None:
    log = MemoryLog(log_signer).append(2)
    store.lose_next_race = True
    refused = refusal(witness, log.request(0))
    assert (refused.refusal, refused.witness_size) == (Refusal.STALE, 0)
    assert store.latest(ORIGIN) is None


def test_a_witness_without_key_does_nothing(store: MemoryStore, log_signer: Signer) -> None:
    witness = WitnessService(MemoryKey(), store, SignedCheckpoints(), Clock())
    with pytest.raises(WitnessNotReady):
        witness.add_checkpoint(MemoryLog(log_signer).append(1).request(0))
    with pytest.raises(WitnessNotReady):
        witness.trust(log_signer.verifier.text())


def test_a_key_in_use_before_the_history_began_is_recorded_as_found_once(
    witness: WitnessService, key: MemoryKey, store: MemoryStore
) -> None:
    made = witness.public_key()
    store.key_history.clear()  # a home made before the history was kept
    for _ in range(2):  # the next start finds it recorded
        later = WitnessService(key, store, SignedCheckpoints(), Clock())
        history = later.key_history()
        assert [(c.verifier_key, c.event) for c in history] == [(made, KeyEvent.FOUND)]
    assert history[0].at > START
    assert KeyEvent.FOUND.label.startswith("履歴の開始時に使用中")


def test_trusting_keys(witness: WitnessService, log_signer: Signer) -> None:
    rotated = Signer.generate(ORIGIN)
    trusted = witness.trust(f"{log_signer.verifier.text()}\n{rotated.verifier.text()}\n")
    assert [(t.origin, t.added) for t in trusted] == [(ORIGIN, False), (ORIGIN, True)]
    # A checkpoint signed by the rotated-in key alone is now accepted.
    assert witness.add_checkpoint(MemoryLog(rotated).append(1).request(0)).head.size == 1
    with pytest.raises(InvalidInput):
        witness.trust("not a key\n")
    with pytest.raises(InvalidInput):
        witness.trust(Cosigner.generate("w.example").verifier.text())  # a witness key is not a log key
    with pytest.raises(InvalidInput):
        witness.trust("\n")


def test_a_key_rotation_is_recorded_and_both_keys_cosign_until_the_old_is_retired(
    witness: WitnessService, store: MemoryStore, log_signer: Signer
) -> None:
    old = witness.public_key()
    new = witness.rotate_key()
    assert witness.status().verifier_keys == (old, new)
    assert witness.public_key() == new
    during = witness.add_checkpoint(MemoryLog(log_signer).append(1).request(0))
    assert during.signature_lines.count("\n") == 2
    assert witness.retire_keys() == (old,)
    assert witness.status().verifier_keys == (new,)
    assert [(c.verifier_key, c.event) for c in witness.key_history()] == [
        (old, KeyEvent.ADDED),
        (new, KeyEvent.ADDED),
        (old, KeyEvent.RETIRED),
    ]
    assert all(isinstance(c, KeyChange) and c.at > START for c in store.key_history)
