"""Many proof files at once (`shadan audit verify-proof FILE…`): what an auditor or the regulator does with
a sample of events, e.g. every read of one customer's supply point in a year.

Each file is checked alone, exactly as a single file is. Together they can show one thing more: every
checkpoint is signed by the log, so two files whose checkpoints have the same size and different roots
prove that the log showed two different histories — a split view, seen by the auditor without any
witness. (Checkpoints of different sizes would need a consistency proof, which proof files do not carry.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shadan.services.audit_log import CheckedProof, ProofChecker, ProofCheckFailed, ProofProblem


@dataclass(frozen=True, slots=True)
class ProofOutcome:
    name: str  # the file's name, as the auditor gave it
    result: CheckedProof | ProofCheckFailed


@dataclass(frozen=True, slots=True)
class SplitViewAmongProofs:
    origin: str
    tree_size: int
    first: str  # a file resting on one root
    second: str  # a file resting on another root at the same size


@dataclass(frozen=True, slots=True)
class ProofBatch:
    outcomes: tuple[ProofOutcome, ...]
    split_views: tuple[SplitViewAmongProofs, ...]

    @property
    def verified(self) -> int:
        return sum(1 for o in self.outcomes if isinstance(o.result, CheckedProof))

    @property
    def exit_code(self) -> int:
        """The first rejected file's code; else 35 if the files show a split view; else 0."""
        for outcome in self.outcomes:
            if isinstance(outcome.result, ProofCheckFailed):
                return outcome.result.problem.exit_code
        return ProofProblem.SPLIT_VIEW.exit_code if self.split_views else 0


def check_proofs(
    checker: ProofChecker,
    files: Sequence[tuple[str, bytes]],
    verifier_keys: Sequence[str],
    witness_keys: Sequence[str] = (),
    witness_quorum: int | None = None,
) -> ProofBatch:
    """Every file checked; a key problem (the same for every file) is raised at once."""
    outcomes = [
        _outcome(checker, name, content, verifier_keys, witness_keys, witness_quorum)
        for name, content in files
    ]
    return ProofBatch(tuple(outcomes), tuple(_split_views(outcomes)))


def _outcome(
    checker: ProofChecker,
    name: str,
    content: bytes,
    verifier_keys: Sequence[str],
    witness_keys: Sequence[str],
    witness_quorum: int | None,
) -> ProofOutcome:
    try:
        return ProofOutcome(name, checker.check(content, verifier_keys, witness_keys, witness_quorum))
    except ProofCheckFailed as exc:
        if exc.problem is ProofProblem.KEY:
            raise
        return ProofOutcome(name, exc)


def _split_views(outcomes: Sequence[ProofOutcome]) -> list[SplitViewAmongProofs]:
    first_of: dict[tuple[str, int], tuple[bytes, str]] = {}
    found: dict[tuple[str, int], SplitViewAmongProofs] = {}
    for outcome in outcomes:
        checked = outcome.result
        if not isinstance(checked, CheckedProof):
            continue
        head = (checked.origin, checked.tree_size)
        root, first = first_of.setdefault(head, (checked.root_hash, outcome.name))
        if root != checked.root_hash and head not in found:
            found[head] = SplitViewAmongProofs(checked.origin, checked.tree_size, first, outcome.name)
    return list(found.values())
