"""What `shadan audit verify-archive` reports: the kinds of problem with their exit codes and titles, and
the port of the stand-alone check (implemented in audit/archive_check.py, wired in bootstrap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from shadan.services.audit_log import Progress


class ArchiveProblem(StrEnum):
    """What `shadan audit verify-archive` can find; the value order is the reporting priority."""

    KEY = "key"
    MALFORMED = "malformed"
    CHECKPOINT_SIGNATURE = "checkpoint_signature"
    FILE_CHANGED = "file_changed"
    ROWS = "rows"
    COLUMN_CHANGED = "column_changed"
    ROOT_MISMATCH = "root_mismatch"
    DELETION_RECORD_INVALID = "deletion_record_invalid"
    SEGMENT_MISSING = "segment_missing"

    @property
    def exit_code(self) -> int:
        return ARCHIVE_EXIT_CODES[self]

    @property
    def titles(self) -> tuple[str, str]:
        """(Japanese, English)."""
        return ARCHIVE_TITLES[self]


ARCHIVE_EXIT_CODES: dict[ArchiveProblem, int] = {
    ArchiveProblem.MALFORMED: 40,
    ArchiveProblem.FILE_CHANGED: 41,
    ArchiveProblem.ROWS: 42,
    ArchiveProblem.COLUMN_CHANGED: 43,
    ArchiveProblem.ROOT_MISMATCH: 44,
    ArchiveProblem.CHECKPOINT_SIGNATURE: 45,
    ArchiveProblem.SEGMENT_MISSING: 46,
    ArchiveProblem.DELETION_RECORD_INVALID: 47,
    ArchiveProblem.KEY: 48,
}

ARCHIVE_TITLES: dict[ArchiveProblem, tuple[str, str]] = {
    ArchiveProblem.MALFORMED: (
        "アーカイブを読めません（マニフェスト・削除記録・Parquet の形式）",
        "the archive cannot be read (manifest, deletion record or Parquet format)",
    ),
    ArchiveProblem.FILE_CHANGED: (
        "Parquet ファイルがマニフェストの SHA-256 と一致しません（差し替え・編集）",
        "a Parquet file does not match its manifest's SHA-256 (swapped or edited)",
    ),
    ArchiveProblem.ROWS: (
        "セグメントの行が欠けている・増えている・並びが違います",
        "rows of a segment are missing, added or out of order",
    ),
    ArchiveProblem.COLUMN_CHANGED: (
        "分解済みの列がエントリの内容と一致しません（列の編集）",
        "a decoded column differs from its entry (column edited)",
    ),
    ArchiveProblem.ROOT_MISMATCH: (
        "セグメントが署名済みチェックポイントの根ハッシュにつながりません（エントリまたはハッシュの改ざん）",
        "the segment does not lead to the signed root (entry or manifest hashes tampered with)",
    ),
    ArchiveProblem.CHECKPOINT_SIGNATURE: (
        "チェックポイントが指定の鍵で検証できません（別の鍵・別のログ）",
        "a checkpoint does not verify with the given keys (another key or another log)",
    ),
    ArchiveProblem.SEGMENT_MISSING: (
        "セグメント（月）が欠けています",
        "a segment (month) is missing",
    ),
    ArchiveProblem.DELETION_RECORD_INVALID: (
        "削除記録を検証できません",
        "a deletion record does not verify",
    ),
    ArchiveProblem.KEY: (
        "検証鍵ファイルがない、または形式が不正です",
        "the key file is missing or malformed",
    ),
}


@dataclass(frozen=True, slots=True)
class ArchiveFailure:
    kind: ArchiveProblem
    segment: str | None
    detail_ja: str
    detail_en: str


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    origin: str
    segments_checked: int
    events_checked: int
    deletions_checked: int
    failures: tuple[ArchiveFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        return self.failures[0].kind.exit_code if self.failures else 0


class ArchiveChecker(Protocol):
    """Checks an archive directory with verifier keys only: no database, no settings."""

    def check(self, directory: Path, verifier_keys: Sequence[str], progress: Progress) -> ArchiveReport: ...
