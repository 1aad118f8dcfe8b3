"""The composition of the offline checkers: what an auditor or the regulator runs with files and a key.

`shadan audit verify-proof` and `verify-archive` need no settings and no database, so they are not built
by the composition root (`shadan.bootstrap`), whose import loads every adapter — SQLAlchemy, the policy
engine, the archive's and the web's libraries — for most of a checker's start. Each builder imports its
own checker only when called: a proof's check needs none of the archive's Parquet and DuckDB.
"""

from __future__ import annotations

from shadan.services.archive_report import ArchiveChecker
from shadan.services.audit_log import ProofChecker


def build_archive_checker() -> ArchiveChecker:
    """`shadan audit verify-archive`: the archive directory and a key suffice."""
    from shadan.audit.archive_check import ParquetArchiveChecker

    return ParquetArchiveChecker()


def build_proof_checker() -> ProofChecker:
    """`shadan audit verify-proof`: the proof file and a key suffice."""
    from shadan.audit.proof_checker import TlogProofChecker

    return TlogProofChecker()
