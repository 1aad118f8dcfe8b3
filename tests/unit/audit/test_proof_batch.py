"""Several proof files at once: each checked alone as one file is, and together they expose a split view —
two checkpoints the log signed with one size and two roots — that no single file can show."""

from __future__ import annotations

import pytest

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.merkle import leaf_hash
from shadan.audit.note import Signer
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.proof_file import ProofFile
from shadan.services.audit_log import CheckedProof, ProofCheckFailed, ProofProblem
from shadan.services.proof_batch import SplitViewAmongProofs, check_proofs

ORIGIN = "example.org/access-log/batch"
LOG = Signer.generate(ORIGIN)
KEYS = [LOG.verifier.text()]


def one_leaf_proof(entry: bytes) -> bytes:
    """The proof of the only event of a one-leaf log: its checkpoint's root is the entry's leaf hash."""
    head = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(entry)), [LOG])
    return ProofFile(entry, 0, (), head.render()).render().encode()


SHOWN_TO_THE_REGULATOR = one_leaf_proof(b'{"seq":1,"account_id":"k.tanaka"}')
SHOWN_TO_THE_AUDITOR = one_leaf_proof(b'{"seq":1,"account_id":"y.yamada"}')


def test_files_of_one_history_verify_together() -> None:
    batch = check_proofs(
        TlogProofChecker(), [("a", SHOWN_TO_THE_REGULATOR), ("b", SHOWN_TO_THE_REGULATOR)], KEYS
    )
    assert (batch.verified, batch.split_views, batch.exit_code) == (2, (), 0)
    assert all(isinstance(o.result, CheckedProof) for o in batch.outcomes)


def test_two_roots_at_one_size_are_a_split_view() -> None:
    files = [("regulator", SHOWN_TO_THE_REGULATOR), ("auditor", SHOWN_TO_THE_AUDITOR)]
    batch = check_proofs(TlogProofChecker(), files, KEYS)
    assert batch.verified == 2  # each file alone is a valid proof
    assert batch.split_views == (SplitViewAmongProofs(ORIGIN, 1, "regulator", "auditor"),)
    assert batch.exit_code == ProofProblem.SPLIT_VIEW.exit_code == 35


def test_a_rejected_file_is_reported_with_its_code_and_the_others_still_checked() -> None:
    broken = SHOWN_TO_THE_REGULATOR.replace(b"index 0", b"index 1")
    files = [("good", SHOWN_TO_THE_REGULATOR), ("broken", broken), ("fork", SHOWN_TO_THE_AUDITOR)]
    batch = check_proofs(TlogProofChecker(), files, KEYS)
    assert [type(o.result).__name__ for o in batch.outcomes] == [
        "CheckedProof",
        "ProofCheckFailed",
        "CheckedProof",
    ]
    assert len(batch.split_views) == 1
    failure = batch.outcomes[1].result
    assert isinstance(failure, ProofCheckFailed)
    assert batch.exit_code == failure.problem.exit_code != 35  # the first rejected file's code comes first


def test_a_key_problem_is_raised_once_for_all_files() -> None:
    with pytest.raises(ProofCheckFailed) as bad:
        check_proofs(TlogProofChecker(), [("a", SHOWN_TO_THE_REGULATOR)], ["not a key"])
    assert bad.value.problem is ProofProblem.KEY
