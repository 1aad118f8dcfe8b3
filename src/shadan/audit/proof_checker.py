"""The offline proof check (services.audit_log.ProofChecker): a tlog-proof file and keys, nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from shadan.audit.cosignature import witness_verifier
from shadan.audit.note import NoteError, Verifier
from shadan.audit.proof_file import (
    ProofFileError,
    ProofFileProblem,
    check_proof_file,
    cosignatures_of,
    parse_proof_file,
    witness_names,
)
from shadan.services.audit_log import CheckedProof, ProofCheckFailed, ProofProblem, WitnessSignature

_PROBLEMS = {
    ProofFileProblem.MALFORMED: ProofProblem.MALFORMED,
    ProofFileProblem.SIGNATURE: ProofProblem.SIGNATURE,
    ProofFileProblem.INCLUSION: ProofProblem.INCLUSION,
    ProofFileProblem.WITNESS: ProofProblem.WITNESS,
}


class TlogProofChecker:
    def check(
        self,
        proof_file: bytes,
        verifier_keys: Sequence[str],
        witness_keys: Sequence[str] = (),
        witness_quorum: int | None = None,
    ) -> CheckedProof:
        verifiers = _keys(verifier_keys, Verifier.parse, "verifier key")
        if not verifiers:
            raise ProofCheckFailed(ProofProblem.KEY, "no verifier key given")
        witnesses = _keys(witness_keys, witness_verifier, "witness key")
        distinct = len(witness_names(witnesses))
        if witness_quorum is not None and not 1 <= witness_quorum <= distinct:
            raise ProofCheckFailed(
                ProofProblem.KEY, f"a quorum of {witness_quorum} needs 1 to {distinct} witnesses' keys"
            )
        try:
            parsed = parse_proof_file(proof_file)
            head = check_proof_file(parsed, verifiers)
            cosignatures = cosignatures_of(parsed, witnesses, witness_quorum)
        except ProofFileError as exc:
            raise ProofCheckFailed(_PROBLEMS[exc.problem], exc.detail) from exc
        witnessed = tuple(
            WitnessSignature(c.name, dt.datetime.fromtimestamp(c.timestamp, dt.UTC)) for c in cosignatures
        )
        checkpoint = head.checkpoint
        return CheckedProof(
            checkpoint.origin, checkpoint.size, checkpoint.root_hash, parsed.index, parsed.entry, witnessed
        )


def _keys(texts: Sequence[str], parse: Callable[[str], Verifier], what: str) -> list[Verifier]:
    """The keys of key files (one key a line; blank lines ignored)."""
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    try:
        return [parse(line) for line in lines]
    except NoteError as exc:
        raise ProofCheckFailed(ProofProblem.KEY, f"{what}: {exc}") from exc
