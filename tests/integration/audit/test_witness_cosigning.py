"""The log's side of witnessing on SQLite and PostgreSQL: consistency proofs from the stored tree, a real
witness (its HTTP app, its own home) cosigning the log as it grows, the 409 retry, cosignatures checked
before they are kept, offline import, and an access event for every cosignature kept."""

from __future__ import annotations

import base64
from pathlib import Path

import independent_verifier
import pytest
from audit_support import Clock, append, naive_root
from sqlalchemy import Engine, func, select
from witness_support import OPERATOR, URL, AppClient, cosigning

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.cosignature import Cosigner, cosignatures_by, witness_verifier
from shadan.audit.cosignatures import SqlCosignatureLedger
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import access_events
from shadan.audit.merkle import EMPTY_ROOT, verify_consistency
from shadan.audit.note import Signer, parse_note
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.record_tables import log_cosignatures
from shadan.audit.tree_tables import log_leaves
from shadan.bootstrap import build_witness
from shadan.domain.errors import DomainError
from shadan.domain.vocabulary import AuditTag
from shadan.services.audit_log import AuditLogService, ProofCheckFailed, ProofProblem
from shadan.services.cosigning import CosignatureProblem, CosignatureRejected, Witness, WitnessReply
from shadan.services.witness import Refusal, WitnessRefused, WitnessService


class Canned:
    def __init__(self, *replies: WitnessReply) -> None:
        self._replies = list(replies)

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        return self._replies.pop(0)


@pytest.fixture
def witness(tmp_path: Path, keys: FileKeyStore, clock: Clock) -> WitnessService:
    witness = build_witness(tmp_path / "witness", clock)
    witness.init("witness.example.jp/egc")
    witness.trust(keys.signer().verifier.text())
    return witness


@pytest.fixture
def witness_key(witness: WitnessService) -> str:
    return witness.public_key() + "\n"


def stored_rows(engine: Engine) -> list[tuple[int, str]]:
    query = select(log_cosignatures.c.tree_size, log_cosignatures.c.signature_line).order_by(
        log_cosignatures.c.cosignature_id
    )
    with engine.connect() as connection:
        return [(int(size), line) for size, line in connection.execute(query)]


def cosigned_events(engine: Engine) -> int:
    query = select(func.count()).where(access_events.c.detail == str(AuditTag.LOG_COSIGNED))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_consistency_proofs_and_roots_from_the_stored_tree(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 13)
    service.checkpoint()
    ledger = SqlCosignatureLedger(engine)
    with engine.connect() as connection:
        leaves = [
            bytes(h)
            for h in connection.execute(select(log_leaves.c.leaf_hash).order_by("leaf_index")).scalars()
        ]
    new_root = ledger.root_at(13)
    assert new_root == naive_root(leaves)
    for old in range(14):
        old_root = ledger.root_at(old)
        assert old_root == naive_root(leaves[:old])
        verify_consistency(old, 13, old_root, new_root, ledger.consistency_proof(old, 13))
    assert ledger.root_at(14) is None


def test_the_witness_cosigns_the_log_as_it_grows(
    engine: Engine, service: AuditLogService, clock: Clock, witness: WitnessService, witness_key: str
) -> None:
    client = AppClient(witness)
    log_side = cosigning(engine, service, clock, client)
    append(engine, 1, 5)
    first = log_side.submit(URL, witness_key, OPERATOR)
    assert (first.new, first.cosignature.tree_size) == (True, 5)
    assert client.bodies[-1].startswith(b"old 0\n\n")

    clock.advance(60)
    append(engine, 100, 6)
    second = log_side.submit(URL, witness_key, OPERATOR)
    assert second.cosignature.tree_size == 12  # 5 + the first cosignature's own event + 6
    assert client.bodies[-1].startswith(b"old 5\n")
    assert client.bodies[-1].split(b"\n\n")[0].count(b"\n") >= 1  # a real consistency proof went along

    assert [size for size, _ in stored_rows(engine)] == [5, 12]
    assert cosigned_events(engine) == 2
    # What is kept stands alone: the line verifies over the checkpoint rebuilt from the stored head.
    for size, line in stored_rows(engine):
        root = SqlCosignatureLedger(engine).root_at(size)
        assert root is not None
        note = parse_note(Checkpoint(first.cosignature.origin, size, root).text() + "\n" + line + "\n")
        assert cosignatures_by(note.text, note.signatures, witness_verifier(witness_key))


def test_a_stale_old_size_is_retried_once_with_the_witness_size(
    engine: Engine, service: AuditLogService, clock: Clock, witness: WitnessService, witness_key: str
) -> None:
    append(engine, 1, 4)
    log_side = cosigning(engine, service, clock, AppClient(witness))
    witness.add_checkpoint(log_side.request(0))  # cosigned offline, never imported: the ledger knows nothing
    append(engine, 10, 3)
    client = AppClient(witness)
    stored = cosigning(engine, service, clock, client).submit(URL, witness_key, OPERATOR)
    assert stored.cosignature.tree_size == 7
    assert [body.split(b"\n")[0] for body in client.bodies] == [b"old 0", b"old 4"]


def test_a_witness_ahead_of_the_log_is_reported_as_a_rollback(
    engine: Engine, service: AuditLogService, clock: Clock, witness_key: str
) -> None:
    append(engine, 1, 3)
    ahead = Canned(WitnessReply(409, "text/x.tlog.size", b"99\n"))
    with pytest.raises(WitnessRefused) as refused:
        cosigning(engine, service, clock, ahead).submit(URL, witness_key, OPERATOR)
    assert (refused.value.refusal, refused.value.witness_size) == (Refusal.ROLLED_BACK, 99)
    assert stored_rows(engine) == []


def test_refusals_and_odd_answers_keep_nothing(
    engine: Engine, service: AuditLogService, clock: Clock, witness_key: str
) -> None:
    append(engine, 1, 3)
    answers = {
        Refusal.UNKNOWN_LOG: WitnessReply(404, "text/plain", b"unknown log\n"),
        Refusal.UNTRUSTED: WitnessReply(403, "text/plain", b"no\n"),
        Refusal.INCONSISTENT: WitnessReply(422, "text/plain", b"bad proof\n"),
        Refusal.SPLIT_VIEW: WitnessReply(409, "text/plain", b"split view\n"),
        Refusal.STALE: WitnessReply(409, "text/x.tlog.size", b"0\n"),
    }
    for expected, reply in answers.items():
        with pytest.raises(WitnessRefused) as refused:
            cosigning(engine, service, clock, Canned(reply, reply)).submit(URL, witness_key, OPERATOR)
        assert refused.value.refusal is expected
    with pytest.raises(DomainError, match="HTTP 500"):
        cosigning(engine, service, clock, Canned(WitnessReply(500, "text/html", b"oops"))).submit(
            URL, witness_key, OPERATOR
        )
    assert stored_rows(engine) == []
    assert cosigned_events(engine) == 0


def test_a_cosignature_by_another_key_is_refused_and_not_kept(
    engine: Engine, service: AuditLogService, clock: Clock, witness_key: str
) -> None:
    append(engine, 1, 3)
    head = service.checkpoint()
    impostor = Cosigner.generate(witness_verifier(witness_key).name)
    text = parse_note(head.note).text
    forged = impostor.cosign(text, int(clock().timestamp())).line().encode()
    for body in (forged, b"not a signature line\n", b""):
        with pytest.raises(CosignatureRejected) as rejected:
            cosigning(engine, service, clock, Canned(WitnessReply(200, "text/plain", body))).submit(
                URL, witness_key, OPERATOR
            )
        assert rejected.value.problem is CosignatureProblem.BAD_COSIGNATURE
    assert stored_rows(engine) == []
    assert cosigned_events(engine) == 0


def test_offline_hand_over_and_import(
    engine: Engine,
    service: AuditLogService,
    clock: Clock,
    keys: FileKeyStore,
    witness: WitnessService,
    witness_key: str,
) -> None:
    append(engine, 1, 6)
    log_side = cosigning(engine, service, clock, Canned())
    cosigned = witness.add_checkpoint(log_side.request(0))
    stored = log_side.import_cosigned(cosigned.cosigned_note, witness_key, OPERATOR)
    assert (stored.new, stored.cosignature.tree_size) == (True, 6)
    assert stored.cosignature.cosigned_at == clock().replace(microsecond=0)
    again = log_side.import_cosigned(cosigned.cosigned_note, witness_key, OPERATOR)
    assert again.new is False
    assert cosigned_events(engine) == 1
    assert log_side.request(6).startswith(b"old 6\n")
    with pytest.raises(DomainError):
        log_side.request(99)


def test_a_cosigned_head_that_is_not_this_log_tree_is_refused(
    engine: Engine, service: AuditLogService, clock: Clock, keys: FileKeyStore, tmp_path: Path
) -> None:
    append(engine, 1, 4)
    service.checkpoint()
    witness = build_witness(tmp_path / "w2", clock)
    witness.init("witness.example.jp/other")
    witness.trust(keys.signer().verifier.text())
    other_log = Signer.generate("another/access-log/0002")
    witness.trust(other_log.verifier.text())
    # Signed with the log's own key but over another root: the witness has no history to refute it.
    forged = sign_checkpoint(Checkpoint(keys.signer().name, 4, bytes(32)), [keys.signer()]).render()
    foreign = sign_checkpoint(Checkpoint(other_log.name, 0, EMPTY_ROOT), [other_log]).render()
    log_side = cosigning(engine, service, clock, Canned())
    for checkpoint in (forged, foreign):
        cosigned = witness.add_checkpoint(f"old 0\n\n{checkpoint}".encode())
        with pytest.raises(CosignatureRejected) as rejected:
            log_side.import_cosigned(cosigned.cosigned_note, witness.public_key(), OPERATOR)
        assert rejected.value.problem is CosignatureProblem.FOREIGN_CHECKPOINT
    assert stored_rows(engine) == []


def test_a_witness_key_must_be_one(
    engine: Engine, service: AuditLogService, clock: Clock, keys: FileKeyStore
) -> None:
    with pytest.raises(DomainError, match="0x04"):
        cosigning(engine, service, clock, Canned()).submit(URL, keys.signer().verifier.text(), OPERATOR)


def test_proofs_rest_on_a_witnessed_checkpoint_and_carry_its_cosignature(
    engine: Engine,
    service: AuditLogService,
    clock: Clock,
    keys: FileKeyStore,
    witness: WitnessService,
    witness_key: str,
) -> None:
    log_key = keys.signer().verifier.text()
    append(engine, 1, 5)
    cosigning(engine, service, clock, AppClient(witness)).submit(URL, witness_key, OPERATOR)  # size 5
    clock.advance(60)
    append(engine, 100, 3)  # seq 7-9, after the cosignature's own event (seq 6)
    service.checkpoint()  # size 9: newer, but no witness has seen it
    checker = TlogProofChecker()

    witnessed = service.proof(3)
    checked = checker.check(witnessed.encode(), [log_key], [witness_key])
    assert (checked.tree_size, checked.leaf_index) == (5, 2)  # the witnessed checkpoint, not the newest
    assert [w.witness for w in checked.witnessed_by] == ["witness.example.jp/egc"]
    assert independent_verifier.verify(witnessed, log_key) == checked.entry  # other keys' lines ignored
    assert checker.check(witnessed.encode(), [log_key]).witnessed_by == ()  # no witness asked for

    late = service.proof(8).encode()  # leaf 7: only the unwitnessed checkpoint covers it
    assert checker.check(late, [log_key]).tree_size == 9
    with pytest.raises(ProofCheckFailed) as unwitnessed:
        checker.check(late, [log_key], [witness_key])
    assert (unwitnessed.value.problem, unwitnessed.value.problem.exit_code) == (ProofProblem.WITNESS, 34)

    *rest, cosignature_line, _ = witnessed.split("\n")
    name, blob = cosignature_line.rsplit(" ", 1)
    forged = bytearray(base64.b64decode(blob))
    forged[-1] ^= 1
    tampered = "\n".join([*rest, f"{name} {base64.b64encode(forged).decode()}", ""])
    with pytest.raises(ProofCheckFailed) as bad:
        checker.check(tampered.encode(), [log_key], [witness_key])
    assert bad.value.problem is ProofProblem.WITNESS


def test_the_periodic_job_offers_each_checkpoint_once(
    engine: Engine, service: AuditLogService, clock: Clock, witness: WitnessService, witness_key: str
) -> None:
    client = AppClient(witness)
    log_side = cosigning(engine, service, clock, client)
    witnesses = [Witness(URL, witness_key)]
    assert log_side.submit_latest(witnesses, OPERATOR) == ()  # no checkpoint yet
    append(engine, 1, 5)
    service.checkpoint()
    (first,) = log_side.submit_latest(witnesses, OPERATOR)
    assert first.failure is None
    assert first.stored is not None
    assert first.stored.cosignature.tree_size == 5
    assert log_side.submit_latest(witnesses, OPERATOR) == ()  # cosigned already: nothing sent
    assert len(client.bodies) == 1
    clock.advance(60)
    append(engine, 100, 2)  # the latest checkpoint is still the cosigned one: it signs none of its own
    assert log_side.submit_latest(witnesses, OPERATOR) == ()
    service.checkpoint()
    (second,) = log_side.submit_latest(witnesses, OPERATOR)
    assert second.stored is not None
    assert second.stored.cosignature.tree_size == 8  # 5 + the first cosignature's own event + 2
