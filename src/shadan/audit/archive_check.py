"""`shadan audit verify-archive` (services.archive_report.ArchiveChecker): an archive directory and
verifier keys, nothing else — no database, no settings.

For every manifest: the Parquet file's SHA-256; every row's leaf index; every decoded column against what
its entry says (segment_columns.py, in DuckDB; row by row only where that does not plainly agree); the
leaf hashes recomputed from the entries, folded into the segment's subtree hashes and, with the
manifest's left edge and right range, into the root of the manifest's checkpoint, whose signature must
verify with the keys. Deletion records (`<YYYY-MM>.deletion`) must verify with the keys too. Then the
segments and deletion records, in leaf order, must cover the log from leaf 0 without a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadan.audit.archive_format import (
    ArchiveFormatError,
    DeletionRecord,
    Manifest,
    file_sha256,
    manifest_name,
)
from shadan.audit.merkle import ProofError
from shadan.audit.note import NoteError, Verifier
from shadan.audit.segment_columns import ColumnCheck
from shadan.audit.segment_decode import segment_batch
from shadan.audit.segment_file import COLUMNS, SCHEMA, EntryError, read_segment_file
from shadan.audit.segment_hashes import SubtreeStack, tree_head
from shadan.audit.segment_leaves import RUN_ROWS, SegmentLeaves
from shadan.services.archive_report import ArchiveFailure, ArchiveProblem, ArchiveReport
from shadan.services.audit_log import Progress

_PRIORITY = {kind: rank for rank, kind in enumerate(ArchiveProblem)}


@dataclass(frozen=True, slots=True)
class _Piece:
    """A leaf range the archive accounts for: a segment, or a deletion record."""

    first: int
    end: int
    segment: str


@dataclass
class _Findings:
    failures: dict[tuple[ArchiveProblem, str | None], ArchiveFailure] = field(default_factory=dict)

    def add(self, kind: ArchiveProblem, segment: str | None, ja: str, en: str) -> None:
        self.failures.setdefault((kind, segment), ArchiveFailure(kind, segment, ja, en))

    def ordered(self) -> tuple[ArchiveFailure, ...]:
        return tuple(sorted(self.failures.values(), key=lambda f: (_PRIORITY[f.kind], f.segment or "")))


class ParquetArchiveChecker:
    def __init__(self, workers: int | None = None, rows_per_run: int = RUN_ROWS) -> None:
        """How segment files are hashed: worker processes (default one per core) and rows a task."""
        self._workers = workers
        self._rows_per_run = rows_per_run

    def check(self, directory: Path, verifier_keys: Sequence[str], progress: Progress) -> ArchiveReport:
        found = _Findings()
        try:
            verifiers = _verifiers(verifier_keys)
        except NoteError as exc:
            found.add(ArchiveProblem.KEY, None, f"検証鍵: {exc}", f"verifier key: {exc}")
            return ArchiveReport("", 0, 0, 0, found.ordered())
        origin = verifiers[0].name
        manifests = _manifests(directory, found)
        pieces = [_Piece(m.first_leaf, m.end_leaf, m.segment) for m in manifests]
        total, events = sum(m.count for m in manifests), 0
        columns, leaves = ColumnCheck(), SegmentLeaves(self._workers, self._rows_per_run)
        try:
            for manifest in manifests:
                events += _SegmentCheck(directory, manifest, found, columns, leaves).run(
                    verifiers, origin, total, events, progress
                )
        finally:
            columns.close()
            leaves.close()
        deletions = sorted(directory.glob("*.deletion"))
        pieces += [p for p in (_deletion(path, verifiers, origin, found) for path in deletions) if p]
        if not pieces and not found.failures:
            found.add(
                ArchiveProblem.MALFORMED,
                None,
                f"{directory} にアーカイブ（マニフェスト）がありません",
                f"no archive (manifest) in {directory}",
            )
        _check_contiguous(pieces, found)
        return ArchiveReport(origin, len(manifests), events, len(deletions), found.ordered())


class _SegmentCheck:
    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        found: _Findings,
        columns: ColumnCheck,
        leaves: SegmentLeaves,
    ) -> None:
        self._directory = directory
        self._columns = columns
        self._leaves = leaves
        self._manifest = manifest
        self._found = found
        self._segment = manifest.segment

    def run(
        self, verifiers: Sequence[Verifier], origin: str, total: int, before: int, progress: Progress
    ) -> int:
        """Check the segment; returns the number of rows read."""
        root = self._signed_root(verifiers, origin)
        path = self._directory / self._manifest.file
        if not path.is_file():
            self._fail(ArchiveProblem.MALFORMED, f"{path.name} がありません", f"{path.name} is missing")
            return 0
        if file_sha256(path) != self._manifest.file_sha256:
            self._fail(
                ArchiveProblem.FILE_CHANGED,
                f"{path.name} の SHA-256 がマニフェストと一致しません",
                f"the SHA-256 of {path.name} differs from the manifest's",
            )
        stack = SubtreeStack()
        rows = self._rows(path, stack, lambda done: progress(total, before + done))
        if rows is None:
            return 0  # unreadable: reported, nothing more to compare
        if rows != self._manifest.count:
            self._fail(
                ArchiveProblem.ROWS,
                f"行が {rows} 行あります（マニフェストでは {self._manifest.count} 行）",
                f"the file has {rows} rows where the manifest says {self._manifest.count}",
            )
        elif stack.subtrees != self._manifest.subtrees:
            self._root_mismatch(
                "葉から計算した部分木ハッシュがマニフェストと一致しません", "the manifest's subtree hashes"
            )
        elif root is not None and self._root(stack) != root:
            self._root_mismatch(
                "マニフェストのハッシュと合わせても署名済みの根になりません", "the signed root"
            )
        return rows

    def _signed_root(self, verifiers: Sequence[Verifier], origin: str) -> bytes | None:
        try:
            return self._manifest.open_checkpoint(verifiers, origin).checkpoint.root_hash
        except ValueError as exc:
            self._fail(
                ArchiveProblem.CHECKPOINT_SIGNATURE,
                f"チェックポイントを指定の鍵で検証できません: {exc}",
                f"the checkpoint does not verify with the given keys: {exc}",
            )
            return None

    def _rows(self, path: Path, stack: SubtreeStack, progress: Callable[[int], None]) -> int | None:
        first = self._manifest.first_leaf
        try:
            if not self._has_documented_columns(path):
                return None
            agreement = self._columns.start(path, first)
            rows = 0
            for run in self._leaves.runs(path, first):
                for subtree in run.subtrees:
                    stack.push(subtree)
                rows += run.rows
                progress(rows)
            if not agreement.result():
                self._compare_all_columns(path, first)
            return rows
        except (OSError, ValueError) as exc:  # pyarrow's errors for an unreadable file are among them
            self._fail(
                ArchiveProblem.MALFORMED,
                f"{path.name} を読めません: {exc}",
                f"cannot read {path.name}: {exc}",
            )
            return None

    def _has_documented_columns(self, path: Path) -> bool:
        schema, _ = read_segment_file(path)
        if schema.names == list(COLUMNS) and schema.equals(SCHEMA):
            return True
        self._fail(
            ArchiveProblem.MALFORMED,
            f"{path.name} の列が仕様と異なります",
            f"the columns of {path.name} differ from the documented ones",
        )
        return False

    def _compare_all_columns(self, path: Path, first: int) -> None:
        """Row by row, where the column check did not plainly agree: names the first difference."""
        done = 0
        for batch in read_segment_file(path)[1]:
            self._compare_columns(batch, first + done)
            done += batch.num_rows

    def _compare_columns(self, batch: Any, first: int) -> None:
        entries: list[bytes] = batch.column("entry").to_pylist()
        try:
            expected = segment_batch(first, entries)
        except EntryError as exc:
            self._fail(
                ArchiveProblem.COLUMN_CHANGED,
                f"葉 {first} 以降のエントリがイベントとして読めません: {exc}",
                f"an entry from leaf {first} on is not an access event: {exc}",
            )
            return
        for name in COLUMNS:
            actual = batch.column(name)
            if not actual.equals(expected.column(name)):
                row = _first_difference(actual.to_pylist(), expected.column(name).to_pylist())
                self._column_differs(name, first + row)

    def _column_differs(self, name: str, leaf: int) -> None:
        if name == "leaf_index":
            self._fail(
                ArchiveProblem.ROWS,
                f"葉 {leaf} の行がない、または順序が違います",
                f"the row of leaf {leaf} is missing or out of order",
            )
        else:
            self._fail(
                ArchiveProblem.COLUMN_CHANGED,
                f"葉 {leaf} の列 {name} がエントリの内容と一致しません",
                f"column {name} of leaf {leaf} differs from its entry",
            )

    def _root(self, stack: SubtreeStack) -> bytes | None:
        try:
            return tree_head(self._manifest.left_edge, stack.subtrees, self._manifest.right_range)
        except ProofError:
            return None

    def _root_mismatch(self, ja: str, what: str) -> None:
        self._fail(
            ArchiveProblem.ROOT_MISMATCH,
            f"{ja}（エントリまたはハッシュの改ざん）",
            f"the leaves of the entries do not lead to {what} (entry or hashes tampered with)",
        )

    def _fail(self, kind: ArchiveProblem, ja: str, en: str) -> None:
        segment = self._segment
        self._found.add(kind, segment, f"セグメント {segment}: {ja}", f"segment {segment}: {en}")


def _verifiers(texts: Sequence[str]) -> tuple[Verifier, ...]:
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    if not lines:
        raise NoteError("no verifier key given")
    return tuple(Verifier.parse(line) for line in lines)


def _manifests(directory: Path, found: _Findings) -> list[Manifest]:
    manifests = []
    for path in sorted(directory.glob("*.manifest.json")):
        try:
            manifest = Manifest.parse(path.read_bytes())
        except ArchiveFormatError as exc:
            found.add(ArchiveProblem.MALFORMED, None, f"{path.name}: {exc}", f"{path.name}: {exc}")
            continue
        if path.name != manifest_name(manifest.segment):
            found.add(
                ArchiveProblem.MALFORMED,
                manifest.segment,
                f"{path.name} はセグメント {manifest.segment} のマニフェストです（名前の付け替え）",
                f"{path.name} is the manifest of segment {manifest.segment} (renamed)",
            )
            continue
        manifests.append(manifest)
    return manifests


def _deletion(path: Path, verifiers: Sequence[Verifier], origin: str, found: _Findings) -> _Piece | None:
    segment = path.name.removesuffix(".deletion")
    try:
        record = DeletionRecord.open(path.read_text(encoding="utf-8"), verifiers, origin)
        if record.segment != segment:
            raise ArchiveFormatError(f"the record is about segment {record.segment}")
    except (ValueError, UnicodeDecodeError) as exc:
        found.add(
            ArchiveProblem.DELETION_RECORD_INVALID,
            segment,
            f"削除記録 {path.name} を検証できません: {exc}",
            f"the deletion record {path.name} does not verify: {exc}",
        )
        return None
    return _Piece(record.first_leaf, record.end_leaf, record.segment)


def _check_contiguous(pieces: Sequence[_Piece], found: _Findings) -> None:
    """Segments and deletion records, in leaf order, must follow each other from leaf 0 without a gap."""
    end, previous = 0, None
    for piece in sorted(pieces, key=lambda p: (p.first, p.end)):
        if previous is not None and (piece.first, piece.end) == (previous.first, previous.end):
            continue  # a segment and its deletion record, both still there (an interrupted deletion)
        if piece.first > end:
            after = f"{previous.segment} の後、" if previous else ""
            found.add(
                ArchiveProblem.SEGMENT_MISSING,
                piece.segment,
                f"{after}セグメント {piece.segment} の前の葉 {end}〜{piece.first - 1} がどのセグメントにも"
                "削除記録にもありません",
                f"leaves {end}-{piece.first - 1} before segment {piece.segment} are in no segment and no"
                " deletion record",
            )
        elif piece.first < end or (previous is not None and piece.segment <= previous.segment):
            found.add(
                ArchiveProblem.MALFORMED,
                piece.segment,
                f"セグメント {piece.segment} が前のセグメントと重なっています",
                f"segment {piece.segment} overlaps the one before it",
            )
        end, previous = max(end, piece.end), piece


def _first_difference(actual: list[Any], expected: list[Any]) -> int:
    return next((i for i, (a, e) in enumerate(zip(actual, expected, strict=False)) if a != e), len(actual))
