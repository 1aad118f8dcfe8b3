"""The demo's last step: the access log as an auditor meets it (docs/demo.md, docs/access-log.md).

After the scenario the log is sequenced and a checkpoint is signed; the whole log is verified (a recorded
run, like `shadan audit verify`); the proof file of the affiliated retailer's first denied read and the
log's public key are written to SHADAN_HOME/demo/; and the proof is checked as an auditor would, with
the stand-alone checker and the key alone. The summary prints the command that does the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shadan.domain.errors import NotFound
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome
from shadan.services.audit_log import (
    CheckedProof,
    CheckpointInfo,
    Progress,
    ProofChecker,
    VerificationReport,
)

PROOF_FILE = "denied-read.tlog-proof"
KEY_FILE = "log-verifier.pub"


class DemoAuditLog(Protocol):
    """The use cases of services.audit_log.AuditLogService the demo calls."""

    def checkpoint(self) -> CheckpointInfo: ...

    def verify(
        self,
        trusted: str | None = None,
        verifier_keys: Sequence[str] = (),
        progress: Progress | None = None,
        *,
        run_by: str,
    ) -> VerificationReport: ...

    def seq_of_event(self, event_id: str) -> int | None: ...

    def export_proof(self, seq: int, exported_by: str) -> str: ...

    def public_key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LogShowcase:
    checkpoint: CheckpointInfo
    verification: VerificationReport
    seq: int  # the denied read whose proof was written
    proof_file: Path
    key_file: Path
    checked: CheckedProof  # what the stand-alone checker made of the proof file


def show_the_log(
    log: DemoAuditLog,
    checker: ProofChecker,
    events: Sequence[AccessEvent],
    directory: Path,
    account_id: str,
) -> LogShowcase:
    """`events`: the scenario's events, oldest first; `account_id`: who runs the demo."""
    denied = next((e for e in events if e.action is Action.VIEW and e.outcome is Outcome.DENIED), None)
    seq = None if denied is None else log.seq_of_event(denied.event_id)
    if seq is None:
        raise NotFound("デモの拒否された照会がアクセスログに見つかりません。")
    checkpoint = log.checkpoint()
    verification = log.verify(run_by=account_id)
    proof, key = log.export_proof(seq, account_id), log.public_key()
    proof_file, key_file = directory / PROOF_FILE, directory / KEY_FILE
    proof_file.write_text(proof, encoding="utf-8")
    key_file.write_text(key + "\n", encoding="ascii")
    checked = checker.check(proof_file.read_bytes(), [key_file.read_text(encoding="ascii")])
    return LogShowcase(checkpoint, verification, seq, proof_file, key_file, checked)
