"""Monthly Parquet segments of the access log (services.archive.SegmentArchive), with their manifests.

A segment is a contiguous leaf range: from the end of the previous segment (leaf 0 for the first) up to the
first leaf sequenced (`log_leaves.sequenced_at`, UTC) after its month, so segments never overlap or leave a
gap even if a sequencer's clock lags. A month without leaves has no segment. Before anything is written
every event is hashed again and compared with its leaf, and the segment with the manifest's hashes must
lead to the signed checkpoint's root — an archive that would not verify is never written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from shadan.audit.archive_format import Manifest, file_sha256, manifest_name, parquet_name
from shadan.audit.checkpoint import CheckpointError, open_checkpoint
from shadan.audit.entry import as_utc, format_timestamp
from shadan.audit.keys import FileKeyStore
from shadan.audit.merkle import ProofError
from shadan.audit.merkle_columns import leaf_hash_column, subtree_root_column
from shadan.audit.note import NoteError, NoteVerificationError
from shadan.audit.record_tables import log_segments
from shadan.audit.segment_decode import segment_batch
from shadan.audit.segment_file import BATCH_ROWS, write_segment_file
from shadan.audit.segment_hashes import SubtreeStack, stored_subtrees, tree_head
from shadan.audit.sequencer import Clock, read_state
from shadan.audit.tree_store import node_reader
from shadan.audit.tree_tables import log_leaves
from shadan.audit.verify_chunks import leaf_range_query
from shadan.services.archive import (
    ArchiveConflict,
    SegmentInfo,
    SegmentPlan,
    month_end,
    next_segment,
    segment_of,
)
from shadan.services.audit_log import CheckpointInfo, LogIntegrityError, Progress


class SqlSegmentArchive:
    def __init__(self, engine: Engine, directory: Path, keys: FileKeyStore, clock: Clock) -> None:
        self._engine = engine
        self._directory = directory
        self._keys = keys
        self._clock = clock

    def pending(self, now: dt.datetime) -> list[SegmentPlan]:
        with self._engine.connect() as connection:
            size = read_state(connection).tree_size
            last = connection.execute(
                select(log_segments.c.segment_id, log_segments.c.end_leaf)
                .order_by(log_segments.c.end_leaf.desc())
                .limit(1)
            ).first()
            first, previous = (0, None) if last is None else (int(last.end_leaf), str(last.segment_id))
            plans: list[SegmentPlan] = []
            while first < size:
                month = segment_of(_sequenced_at(connection, first))
                if previous is not None:
                    month = max(month, next_segment(previous))  # a late leaf joins the next segment
                if month_end(month) > now:
                    break
                end = _first_leaf_from(connection, first, size, month_end(month))
                plans.append(SegmentPlan(month, first, end))
                first, previous = end, month
            return plans

    def segments(self) -> list[SegmentInfo]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(log_segments).order_by(log_segments.c.first_leaf))
            return [segment_info(row) for row in rows]

    def write(self, plan: SegmentPlan, checkpoint: CheckpointInfo, progress: Progress) -> SegmentInfo:
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        parquet = self._directory / parquet_name(plan.segment)
        scratch = _scratch(parquet)
        try:
            manifest = self._write_file(plan, checkpoint, scratch, progress)
            return self._record(manifest, scratch, parquet)
        except IntegrityError as exc:
            raise ArchiveConflict(
                f"セグメント {plan.segment} は同時に動いた別のアーカイブ処理が記録しました。"
            ) from exc
        except (ProofError, NoteError, NoteVerificationError, CheckpointError) as exc:
            raise LogIntegrityError(
                f"セグメント {plan.segment} が署名済みチェックポイント（サイズ {checkpoint.size}）の根に"
                f"つながらないため、アーカイブを中止しました: {exc}"
            ) from exc
        finally:
            scratch.unlink(missing_ok=True)  # gone already once the file is in place

    def _write_file(
        self, plan: SegmentPlan, checkpoint: CheckpointInfo, scratch: Path, progress: Progress
    ) -> Manifest:
        """The Parquet file under a scratch name, and its manifest once it leads to the signed root."""
        head = open_checkpoint(checkpoint.note, self._keys.verifiers(), checkpoint.origin).checkpoint
        stack, times = SubtreeStack(), _TimeSpan()
        with self._engine.connect() as connection:
            write_segment_file(scratch, _batches(connection, plan, stack, times, progress))
            read = node_reader(connection)
            left = stored_subtrees(read, 0, plan.first_leaf)
            right = stored_subtrees(read, plan.end_leaf, head.size)
        if tree_head(left, stack.subtrees, right) != head.root_hash:
            raise ProofError("the leaves and the stored hashes give another root")
        return Manifest(
            origin=head.origin,
            segment=plan.segment,
            first_leaf=plan.first_leaf,
            end_leaf=plan.end_leaf,
            count=plan.end_leaf - plan.first_leaf,
            first_ts=times.first,
            last_ts=times.last,
            file=parquet_name(plan.segment),
            file_sha256=file_sha256(scratch),
            left_edge=left,
            subtrees=stack.subtrees,
            right_range=right,
            checkpoint_size=head.size,
            checkpoint=checkpoint.note,
            created_at=format_timestamp(self._clock()),
        )

    def _record(self, manifest: Manifest, scratch: Path, parquet: Path) -> SegmentInfo:
        """The row and the files appear together: renamed into place inside the transaction."""
        text = manifest.render()
        archived_at = self._clock()
        with self._engine.begin() as connection:
            connection.execute(
                insert(log_segments).values(
                    segment_id=manifest.segment,
                    first_leaf=manifest.first_leaf,
                    end_leaf=manifest.end_leaf,
                    event_count=manifest.count,
                    file_name=manifest.file,
                    file_sha256=manifest.file_sha256,
                    checkpoint_size=manifest.checkpoint_size,
                    manifest=text,
                    archived_at=archived_at,
                )
            )
            write_file_atomically(self._directory / manifest_name(manifest.segment), text.encode())
            os.replace(scratch, parquet)
        return segment_info_of(manifest, archived_at, None)


def segment_info(row: Row[Any]) -> SegmentInfo:
    """A log_segments row as the services see it."""
    deleted_at = None if row.deleted_at is None else as_utc(row.deleted_at)
    return segment_info_of(Manifest.parse(row.manifest), as_utc(row.archived_at), deleted_at)


def segment_info_of(
    manifest: Manifest, archived_at: dt.datetime, deleted_at: dt.datetime | None
) -> SegmentInfo:
    return SegmentInfo(
        segment=manifest.segment,
        first_leaf=manifest.first_leaf,
        end_leaf=manifest.end_leaf,
        event_count=manifest.count,
        file_sha256=manifest.file_sha256,
        checkpoint_size=manifest.checkpoint_size,
        first_ts=None if manifest.first_ts is None else dt.datetime.fromisoformat(manifest.first_ts),
        last_ts=None if manifest.last_ts is None else dt.datetime.fromisoformat(manifest.last_ts),
        archived_at=archived_at,
        deleted_at=deleted_at,
    )


def write_file_atomically(path: Path, data: bytes) -> None:
    """The whole file or none of it under its name, durable before the name appears."""
    scratch = _scratch(path)
    with scratch.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)


def _scratch(path: Path) -> Path:
    """A name of this process's own beside `path`: two runs at once never write into each other's file."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


class _TimeSpan:
    """The earliest and latest entry timestamp seen (the canonical form sorts as the time does)."""

    def __init__(self) -> None:
        self.first: str | None = None
        self.last: str | None = None

    def cover(self, times: Any) -> None:
        """Widen the span over a batch's `ts` column."""
        earliest, latest = (format_timestamp(value.as_py()) for value in pc.min_max(times).values())
        self.first = earliest if self.first is None else min(self.first, earliest)
        self.last = latest if self.last is None else max(self.last, latest)


def _batches(
    connection: Connection, plan: SegmentPlan, stack: SubtreeStack, times: _TimeSpan, progress: Progress
) -> Iterator[Any]:
    """The segment's rows in record batches; every event is checked against its leaf on the way."""
    total = plan.end_leaf - plan.first_leaf
    for start in range(plan.first_leaf, plan.end_leaf, BATCH_ROWS):
        end = min(start + BATCH_ROWS, plan.end_leaf)
        entries, leaves = _checked_entries(list(_rows(connection, start, end)))
        stack.push_leaves(start, leaves, subtree_root_column)
        batch = segment_batch(start, entries)
        times.cover(batch.column("ts"))
        yield batch
        progress(total, end - plan.first_leaf)


def _rows(connection: Connection, start: int, end: int) -> Iterator[tuple[int, Row[Any]]]:
    """Leaves [start, end) with their events, in order (LogIntegrityError at the first missing leaf)."""
    expected = start
    for row in connection.execute(leaf_range_query(start, end)):
        if row.leaf_index != expected:
            break
        yield expected, row
        expected += 1
    if expected != end:
        raise LogIntegrityError(f"葉 {expected} がないため、アーカイブを中止しました。")


def _checked_entries(rows: list[tuple[int, Row[Any]]]) -> tuple[list[bytes], pa.Array]:
    """The rows' entries and their leaf hashes, each entry hashed again (a column at a time) and held
    against its stored leaf."""
    for index, row in rows:
        if row.seq is None:
            raise LogIntegrityError(f"葉 {index} のイベントがないため、アーカイブを中止しました。")
    entries = [row.entry.encode("utf-8") for _, row in rows]
    leaves = pa.array([bytes(row.leaf_hash) for _, row in rows], pa.binary())
    differing = pc.indices_nonzero(pc.not_equal(leaf_hash_column(pa.array(entries, pa.binary())), leaves))
    if len(differing):
        index, row = rows[differing[0].as_py()]
        raise LogIntegrityError(
            f"連番 {row.seq}（葉 {index}）のイベントが記録時の内容と異なるため、アーカイブを中止しました。"
        )
    return entries, leaves


def _sequenced_at(connection: Connection, index: int) -> dt.datetime:
    value = connection.execute(
        select(log_leaves.c.sequenced_at).where(log_leaves.c.leaf_index == index)
    ).scalar_one()
    return as_utc(value)


def _first_leaf_from(connection: Connection, first: int, size: int, after: dt.datetime) -> int:
    """The first leaf in [first, size) sequenced at or after `after`, or `size`."""
    found = connection.execute(
        select(log_leaves.c.leaf_index)
        .where(
            log_leaves.c.leaf_index >= first,
            log_leaves.c.leaf_index < size,
            log_leaves.c.sequenced_at >= after,
        )
        .order_by(log_leaves.c.leaf_index)
        .limit(1)
    ).scalar_one_or_none()
    return size if found is None else int(found)
