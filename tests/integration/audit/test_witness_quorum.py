"""Several witnesses on the log's side, on SQLite and PostgreSQL: the periodic job asks every witness at
once and each one's failure is its own; proofs rest on the newest checkpoint a quorum of distinct
witnesses cosigned, carry every cosignature of it, and fall back to fewer witnesses, then to none."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from audit_support import SETTLE, Clock, append
from sqlalchemy import Engine
from witness_support import OPERATOR, AppClient, cosigning

from shadan.audit.cosignature import Cosigner
from shadan.audit.cosignatures import SqlCosignatureLedger
from shadan.audit.keys import FileKeyStore
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.bootstrap import build_witness
from shadan.domain.errors import DomainError
from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.audit_log import AuditLogService, CheckedProof, ProofCheckFailed, ProofProblem
from shadan.services.cosigning import CosigningService, Witness, WitnessClient, WitnessReply
from shadan.services.identity import EventFactory
from shadan.services.patient_calls import GaveUp
from shadan.services.witness import WitnessService

EGC_URL, AUDIT_URL = "http://egc.test", "http://audit.test"


def started_witness(home: Path, name: str, log_keys: FileKeyStore, clock: Clock) -> WitnessService:
    witness = build_witness(home, clock)
    witness.init(name)
    witness.trust(log_keys.signer().verifier.text())
    return witness


@pytest.fixture
def egc(tmp_path: Path, keys: FileKeyStore, clock: Clock) -> WitnessService:
    return started_witness(tmp_path / "egc", "egc.example.jp/witness", keys, clock)


@pytest.fixture
def audit_dept(tmp_path: Path, keys: FileKeyStore, clock: Clock) -> WitnessService:
    return started_witness(tmp_path / "audit", "audit.example.jp/witness", keys, clock)


@pytest.fixture
def witnesses(egc: WitnessService, audit_dept: WitnessService) -> tuple[Witness, Witness]:
    return Witness(EGC_URL, egc.public_key()), Witness(AUDIT_URL, audit_dept.public_key())


@pytest.fixture
def quorum_of_two(engine: Engine, keys: FileKeyStore, clock: Clock) -> AuditLogService:
    """The same log, its proofs resting on checkpoints two witnesses cosigned (SHADAN_LOG_WITNESS_QUORUM)."""
    return AuditLogService(
        SqlTransparencyLog(engine, keys, clock, SETTLE, witness_quorum=2), clock, system="t"
    )


class Unreachable:
    def add_checkpoint(self, body: bytes) -> WitnessReply:
        raise DomainError("証人 http://audit.test/add-checkpoint に接続できません: refused")


class Trickling:
    """A witness (or a proxy) that answers a byte at a time, each within the client's timeout: here, not
    before the test lets it."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.calls = 0

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        self.calls += 1
        self.released.wait(30)
        return WitnessReply(503, "text/plain", b"too late\n")


class Meeting:
    """A client that answers only once every client of the meeting has been called: asked one after
    the other, the first would wait for the second in vain (the barrier breaks after 10 s)."""

    def __init__(self, witness: WitnessService, barrier: threading.Barrier) -> None:
        self._client = AppClient(witness)
        self._barrier = barrier

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        self._barrier.wait()
        return self._client.add_checkpoint(body)


def submitted_sizes(log_side: CosigningService, witnesses: tuple[Witness, ...]) -> dict[str, int | str]:
    """Each asked witness's cosigned size, or its failure's type."""
    results = log_side.submit_latest(witnesses, OPERATOR)
    return {
        s.witness.name: s.stored.cosignature.tree_size if s.stored else type(s.failure).__name__
        for s in results
    }


def checked(proof: str, log_key: str, witness_keys: list[str], quorum: int | None = None) -> CheckedProof:
    return TlogProofChecker().check(proof.encode(), [log_key], witness_keys, quorum)


def test_every_witness_is_asked_at_once_and_one_away_is_its_own_failure(
    engine: Engine,
    service: AuditLogService,
    clock: Clock,
    egc: WitnessService,
    audit_dept: WitnessService,
    witnesses: tuple[Witness, Witness],
) -> None:
    append(engine, 1, 5)
    service.checkpoint()
    meeting = threading.Barrier(2, timeout=10)
    together = {EGC_URL: Meeting(egc, meeting), AUDIT_URL: Meeting(audit_dept, meeting)}
    assert submitted_sizes(cosigning(engine, service, clock, together), witnesses) == {
        "egc.example.jp/witness": 5,
        "audit.example.jp/witness": 5,
    }

    clock.advance(60)
    append(engine, 100, 3)
    service.checkpoint()  # size 10: the two cosigned events and these three
    one_away: dict[str, WitnessClient] = {EGC_URL: AppClient(egc), AUDIT_URL: Unreachable()}
    assert submitted_sizes(cosigning(engine, service, clock, one_away), witnesses) == {
        "egc.example.jp/witness": 10,
        "audit.example.jp/witness": "DomainError",
    }
    back: dict[str, WitnessClient] = {AUDIT_URL: AppClient(audit_dept)}  # egc is not asked again
    assert submitted_sizes(cosigning(engine, service, clock, back), witnesses) == {
        "audit.example.jp/witness": 10
    }


def test_a_witness_that_trickles_its_answer_holds_up_nothing(
    engine: Engine,
    service: AuditLogService,
    clock: Clock,
    egc: WitnessService,
    witnesses: tuple[Witness, Witness],
) -> None:
    append(engine, 1, 5)
    service.checkpoint()
    trickling = Trickling()
    clients: dict[str, WitnessClient] = {EGC_URL: AppClient(egc), AUDIT_URL: trickling}
    # Long enough for the witness that answers at once to do so on a loaded machine (0.2 s was not, in a
    # full run at a third of this machine's usual speed); the trickling one answers only when released.
    log_side = cosigning(engine, service, clock, clients, patience_seconds=2.0)
    first = log_side.submit_latest(witnesses, OPERATOR)
    assert first[0].stored is not None  # egc cosigned within the patience
    assert isinstance(first[1].failure, GaveUp)
    clock.advance(60)
    append(engine, 100, 2)
    service.checkpoint()
    again = {s.witness.name: s for s in log_side.submit_latest(witnesses, OPERATOR)}
    assert again["egc.example.jp/witness"].stored is not None
    assert "まだ答えていません" in str(again["audit.example.jp/witness"].failure)
    assert trickling.calls == 1  # not asked again while its first answer is under way
    trickling.released.set()
    for thread in threading.enumerate():
        if thread.name.startswith("shadan-call-audit.example.jp"):
            thread.join(30)
    log_side.submit_latest(witnesses, OPERATOR)
    assert trickling.calls == 2  # its call ended (its late answer dropped): asked again


def test_proofs_rest_on_the_newest_checkpoint_the_quorum_cosigned(
    engine: Engine,
    service: AuditLogService,
    quorum_of_two: AuditLogService,
    clock: Clock,
    keys: FileKeyStore,
    egc: WitnessService,
    audit_dept: WitnessService,
    witnesses: tuple[Witness, Witness],
) -> None:
    log_key = keys.signer().verifier.text()
    egc_key, audit_key = (w.key for w in witnesses)
    both = {EGC_URL: AppClient(egc), AUDIT_URL: AppClient(audit_dept)}
    append(engine, 1, 5)
    service.checkpoint()
    submitted_sizes(cosigning(engine, service, clock, both), witnesses)  # size 5 by both (events 6, 7)
    clock.advance(60)
    append(engine, 100, 3)  # seq 8-10
    service.checkpoint()
    submitted_sizes(cosigning(engine, service, clock, both), witnesses[:1])  # size 10 by egc (event 11)
    clock.advance(60)
    append(engine, 200, 2)  # seq 12-13
    service.checkpoint()  # size 13, cosigned by nobody

    early = quorum_of_two.proof(3)
    proven = checked(early, log_key, [egc_key, audit_key])  # every witness given must have cosigned
    assert (proven.tree_size, proven.leaf_index) == (5, 2)  # not the newer checkpoint only egc cosigned
    assert {w.witness for w in proven.witnessed_by} == {"egc.example.jp/witness", "audit.example.jp/witness"}
    assert checked(service.proof(3), log_key, [egc_key]).tree_size == 10  # a quorum of one: the newest

    later = quorum_of_two.proof(9)  # leaf 8: no checkpoint two witnesses cosigned covers it
    assert checked(later, log_key, [egc_key, audit_key], quorum=1).tree_size == 10
    with pytest.raises(ProofCheckFailed) as short:
        checked(later, log_key, [egc_key, audit_key], quorum=2)
    assert short.value.problem is ProofProblem.WITNESS

    assert checked(quorum_of_two.proof(12), log_key, []).tree_size == 13  # no witness has seen leaf 11
    assert (quorum_of_two.witness_quorum().quorum, service.witness_quorum().quorum) == (2, 1)
    heads = [q.witness_quorum().checkpoint for q in (quorum_of_two, service)]
    assert [head.size if head else None for head in heads] == [5, 10]


def test_a_quorum_counts_witnesses_not_cosignatures_or_keys(
    engine: Engine,
    service: AuditLogService,
    quorum_of_two: AuditLogService,
    clock: Clock,
    egc: WitnessService,
    witnesses: tuple[Witness, Witness],
) -> None:
    append(engine, 1, 5)
    service.checkpoint()
    (stored,) = cosigning(engine, service, clock, {EGC_URL: AppClient(egc)}).submit_latest(
        witnesses[:1], OPERATOR
    )
    assert stored.stored is not None
    first = stored.stored.cosignature
    again = dataclasses.replace(first, signature_line=first.signature_line[:-4] + "AAA=")
    rotated = Cosigner.generate(first.witness_name).verifier.text()  # the same witness's next key
    rekeyed = dataclasses.replace(again, witness_key=rotated, signature_line=again.signature_line + "B")
    event = EventFactory("t").admin(clock(), OPERATOR, AuditTag.LOG_COSIGNED, ResourceType.ACCESS_LOG, ("o",))
    ledger = SqlCosignatureLedger(engine)
    assert ledger.record(again, event)  # a second line of the same witness
    assert ledger.record(
        rekeyed, dataclasses.replace(event, event_id="rekeyed")
    )  # and one by its rotated key
    assert quorum_of_two.witness_quorum().checkpoint is None
