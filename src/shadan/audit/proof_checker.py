"""The offline proof check (services.audit_log.ProofChecker): a tlog-proof file and keys, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from shadan.audit.note import NoteError, Verifier
from shadan.audit.proof_file import ProofFileError, ProofFileProblem, check_proof_file, parse_proof_file
from shadan.services.audit_log import CheckedProof, ProofCheckFailed, ProofProblem

_PROBLEMS = {
    ProofFileProblem.MALFORMED: ProofProblem.MALFORMED,
    ProofFileProblem.SIGNATURE: ProofProblem.SIGNATURE,
    ProofFileProblem.INCLUSION: ProofProblem.INCLUSION,
}


class TlogProofChecker:
    def check(self, proof_file: bytes, verifier_keys: Sequence[str]) -> CheckedProof:
        verifiers = _verifiers(verifier_keys)
        try:
            parsed = parse_proof_file(proof_file)
            head = check_proof_file(parsed, verifiers)
        except ProofFileError as exc:
            raise ProofCheckFailed(_PROBLEMS[exc.problem], exc.detail) from exc
        return CheckedProof(head.checkpoint.origin, head.checkpoint.size, parsed.index, parsed.entry)


def _verifiers(texts: Sequence[str]) -> list[Verifier]:
    keys = [line for text in texts for line in text.splitlines() if line.strip()]
    if not keys:
        raise ProofCheckFailed(ProofProblem.KEY, "no verifier key given")
    try:
        return [Verifier.parse(line) for line in keys]
    except NoteError as exc:
        raise ProofCheckFailed(ProofProblem.KEY, f"verifier key: {exc}") from exc
