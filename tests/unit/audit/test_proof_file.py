"""tlog-proof files: written in the C2SP form, accepted whole, refused with the right reason when any part
is altered."""

from __future__ import annotations

import base64

import pytest

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.merkle import CompactRange, NodeId, inclusion_proof, leaf_hash
from shadan.audit.note import Signer
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.proof_file import ProofFile, parse_proof_file
from shadan.services.audit_log import ProofCheckFailed, ProofProblem

ORIGIN = "example.org/access-log/test"
ENTRIES = [f'{{"seq":{i},"v":1}}'.encode() for i in range(1, 12)]


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def make_proof(signer: Signer, index: int) -> str:
    nodes: dict[NodeId, bytes] = {}
    tree = CompactRange()
    for i, entry in enumerate(ENTRIES):
        nodes[NodeId(0, i)] = leaf_hash(entry)
        tree.append(leaf_hash(entry), nodes.__setitem__)
    head = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), [signer])
    proof = inclusion_proof(index, tree.size, lambda ids: {i: nodes[i] for i in ids})
    return ProofFile(ENTRIES[index], index, tuple(proof), head.render()).render()


def check(text: str, *keys: str) -> bytes:
    return TlogProofChecker().check(text.encode(), list(keys)).entry


def test_layout_follows_the_spec(signer: Signer) -> None:
    text = make_proof(signer, 4)
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + base64.b64encode(ENTRIES[4]).decode()
    assert lines[2] == "index 4"
    blank = lines.index("")
    assert blank == 3 + 4  # ceil(log2(11)) = 4 proof hashes for leaf 4 of 11
    assert lines[blank + 1 : blank + 3] == [ORIGIN, "11"]
    assert parse_proof_file(text).index == 4


@pytest.mark.parametrize("index", range(len(ENTRIES)))
def test_every_leaf_proof_is_accepted(signer: Signer, index: int) -> None:
    assert check(make_proof(signer, index), signer.verifier.text()) == ENTRIES[index]


def _problem(text: str, key: str) -> ProofProblem:
    with pytest.raises(ProofCheckFailed) as failure:
        check(text, key)
    return failure.value.problem


def test_altered_parts_are_refused_with_their_reason(signer: Signer) -> None:
    key = signer.verifier.text()
    good = make_proof(signer, 4)
    lines = good.split("\n")
    other_entry = "extra " + base64.b64encode(b'{"seq":5,"v":2}').decode()
    assert _problem(good.replace(lines[1], other_entry), key) is ProofProblem.INCLUSION
    assert _problem(good.replace("index 4", "index 5"), key) is ProofProblem.INCLUSION
    assert _problem(good.replace(lines[3], lines[4]), key) is ProofProblem.INCLUSION
    assert _problem(good.replace(lines[3] + "\n", ""), key) is ProofProblem.INCLUSION
    assert _problem(good.replace(f"{ORIGIN}\n11\n", f"{ORIGIN}\n12\n"), key) is ProofProblem.SIGNATURE
    wrong_header = good.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2")
    assert _problem(wrong_header, key) is ProofProblem.MALFORMED
    assert _problem(good.replace("index 4", "index 04"), key) is ProofProblem.MALFORMED
    assert _problem(good.replace(lines[1] + "\n", ""), key) is ProofProblem.MALFORMED
    assert _problem(good.split("\n\n")[0], key) is ProofProblem.MALFORMED


def test_a_key_of_another_log_or_no_key_is_refused(signer: Signer) -> None:
    good = make_proof(signer, 0)
    assert _problem(good, Signer.generate(ORIGIN).verifier.text()) is ProofProblem.SIGNATURE
    assert _problem(good, "not a key") is ProofProblem.KEY
    with pytest.raises(ProofCheckFailed) as failure:
        TlogProofChecker().check(good.encode(), [])
    assert failure.value.problem is ProofProblem.KEY


def test_a_key_file_with_several_keys_is_read_line_by_line(signer: Signer) -> None:
    keys = Signer.generate("old.example/log").verifier.text() + "\n" + signer.verifier.text() + "\n"
    assert check(make_proof(signer, 3), keys) == ENTRIES[3]
