"""`verify-proof --witness-key … --witness-quorum N`: a proof counts when at least N of the given witnesses
cosigned its checkpoint; a witness without a cosignature is only not counted, one with a line that does
not verify rejects the proof whatever the count."""

from __future__ import annotations

import pytest

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.cosignature import Cosigner
from shadan.audit.merkle import leaf_hash
from shadan.audit.note import Signer
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.proof_file import ProofFile
from shadan.services.audit_log import CheckedProof, ProofCheckFailed, ProofProblem

ORIGIN = "example.org/access-log/test"
ENTRY = b'{"seq":1,"v":1}'
LOG = Signer.generate(ORIGIN)
WITNESSES = [Cosigner.generate(f"witness{n}.example.jp") for n in range(3)]
KEYS = [w.verifier.text() for w in WITNESSES]


def proof_cosigned_by(*witnesses: Cosigner, forged: Cosigner | None = None) -> bytes:
    """A one-leaf log's proof whose checkpoint the witnesses cosigned (and `forged` signed something else)."""
    head = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(ENTRY)), [LOG])
    lines = [w.cosign(head.checkpoint.text(), 1_700_000_000).line() for w in witnesses]
    if forged is not None:
        lines.append(forged.cosign("another checkpoint\n1\nAAAA\n", 1_700_000_000).line())
    return ProofFile(ENTRY, 0, (), head.render() + "".join(lines)).render().encode()


def check(proof: bytes, quorum: int | None, keys: list[str] = KEYS) -> CheckedProof:
    return TlogProofChecker().check(proof, [LOG.verifier.text()], keys, quorum)


def problem(proof: bytes, quorum: int | None, keys: list[str] = KEYS) -> tuple[ProofProblem, str]:
    with pytest.raises(ProofCheckFailed) as failure:
        check(proof, quorum, keys)
    return failure.value.problem, failure.value.message


def test_two_of_three_meet_a_quorum_of_two_and_are_shown() -> None:
    checked = check(proof_cosigned_by(WITNESSES[0], WITNESSES[2]), 2)
    assert [w.witness for w in checked.witnessed_by] == ["witness0.example.jp", "witness2.example.jp"]


def test_without_a_quorum_every_witness_must_have_cosigned() -> None:
    kind, message = problem(proof_cosigned_by(WITNESSES[0], WITNESSES[2]), None)
    assert kind is ProofProblem.WITNESS
    assert "2 of 3 witnesses" in message
    assert "witness1.example.jp" in message  # the one missing is named
    assert check(proof_cosigned_by(*WITNESSES), None).witnessed_by


def test_fewer_than_the_quorum_is_refused() -> None:
    assert problem(proof_cosigned_by(WITNESSES[1]), 2)[0] is ProofProblem.WITNESS


def test_a_forged_line_rejects_the_proof_though_the_quorum_is_met() -> None:
    proof = proof_cosigned_by(WITNESSES[0], WITNESSES[1], forged=WITNESSES[2])
    assert problem(proof, 2)[0] is ProofProblem.WITNESS


@pytest.mark.parametrize(("quorum", "keys"), [(0, KEYS), (4, KEYS), (1, [])])
def test_a_quorum_the_keys_cannot_meet_is_a_key_problem(quorum: int, keys: list[str]) -> None:
    assert problem(proof_cosigned_by(*WITNESSES), quorum, keys)[0] is ProofProblem.KEY


def test_two_keys_of_one_witness_count_once() -> None:
    """A witness that rotated its key cosigns with both for a while; an auditor holding both keys still
    counts one witness."""
    rotated = Cosigner.generate(WITNESSES[0].verifier.name)
    proof = proof_cosigned_by(WITNESSES[0], rotated)
    keys = [KEYS[0], rotated.verifier.text(), KEYS[1]]
    with pytest.raises(ProofCheckFailed) as short:
        TlogProofChecker().check(proof, [LOG.verifier.text()], keys, witness_quorum=2)
    assert short.value.problem is ProofProblem.WITNESS
    assert "1 of 2 witnesses cosigned" in str(short.value)
    checked = TlogProofChecker().check(proof, [LOG.verifier.text()], keys[:2])  # all (one) witnesses
    assert [w.witness for w in checked.witnessed_by] == [WITNESSES[0].verifier.name] * 2
    with pytest.raises(ProofCheckFailed) as impossible:
        TlogProofChecker().check(proof, [LOG.verifier.text()], keys[:2], witness_quorum=2)
    assert impossible.value.problem is ProofProblem.KEY
