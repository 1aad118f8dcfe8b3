"""Retention of the access log (services.archive.RetentionStore): legal holds and whole-segment deletion.

The application role cannot delete events (migration 0002), so a deletion runs on the owner role's
connection, in one transaction with its signed record, the segment's deletion time and its access event.
Hold changes and deletions both take the log's write lock (`tree_store.locked`), so a hold placed while a
deletion runs is seen by it or waits for it, never missed. The leaves and subtree hashes stay: the tree and
every checkpoint still verify, and `verify` accepts the missing events because the record covers them.
Files are removed after the commit; `settle_files` finishes that work if it was interrupted. A segment
holding the record of an entry left out of the tree that was not set aside as recorded, or the setting
aside of one whose record is still there, is kept (`open_records`): verification holds the entry to its
record, and the record to its setting aside.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from shadan.audit.archive import write_file_atomically
from shadan.audit.archive_format import (
    DeletionRecord,
    Manifest,
    deletion_name,
    manifest_name,
    parquet_name,
)
from shadan.audit.entry import as_utc
from shadan.audit.keys import FileKeyStore
from shadan.audit.left_out_records import open_records
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.merkle import ProofError
from shadan.audit.record_tables import log_deletions, log_legal_holds, log_segments
from shadan.audit.segment_hashes import stored_subtrees
from shadan.audit.tree_store import locked, node_reader
from shadan.audit.tree_tables import log_leaves, log_resource_ids
from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.services.archive import (
    DeletedSegment,
    DeletionFailed,
    LegalHold,
    SegmentHeld,
    SegmentInfo,
    blocking_hold,
)
from shadan.services.audit_log import LogIntegrityError


class SqlRetention:
    def __init__(
        self, engine: Engine, owner_engine: Callable[[], Engine], keys: FileKeyStore, directory: Path
    ) -> None:
        self._engine = engine
        self._owner_engine = owner_engine  # made only when something is deleted
        self._keys = keys
        self._directory = directory

    def holds(self) -> list[LegalHold]:
        with self._engine.connect() as connection:
            return _holds(connection)

    def open_records(self, segments: Sequence[SegmentInfo]) -> list[tuple[int, ...]]:
        with self._engine.connect() as connection:
            return open_records(connection, [(s.first_leaf, s.end_leaf) for s in segments])

    def place_hold(
        self,
        period: tuple[dt.date, dt.date],
        reason: str,
        placed_by: str,
        now: dt.datetime,
        event_for: Callable[[LegalHold], AccessEvent],
    ) -> LegalHold:
        values = {
            "period_from": period[0],
            "period_to": period[1],
            "reason": reason,
            "placed_by": placed_by,
            "placed_at": now,
        }
        with locked(self._engine) as connection:
            hold_id = connection.execute(
                insert(log_legal_holds).values(**values).returning(log_legal_holds.c.hold_id)
            ).scalar_one()
            hold = LegalHold(int(hold_id), period[0], period[1], reason, placed_by, now)
            SqlAccessLog(connection).append([event_for(hold)])
        return hold

    def release_hold(self, hold_id: int, released_by: str, now: dt.datetime, event: AccessEvent) -> LegalHold:
        with locked(self._engine) as connection:
            row = connection.execute(
                select(log_legal_holds).where(log_legal_holds.c.hold_id == hold_id)
            ).first()
            if row is None:
                raise NotFound(f"法的保全 #{hold_id} はありません。")
            if row.released_at is not None:
                raise InvalidInput(f"法的保全 #{hold_id} は解除済みです。")
            connection.execute(
                update(log_legal_holds)
                .where(log_legal_holds.c.hold_id == hold_id)
                .values(released_by=released_by, released_at=now)
            )
            SqlAccessLog(connection).append([event])
            return replace(_hold(row), released_by=released_by, released_at=now)

    def delete_segment(
        self, segment: SegmentInfo, reason: str, now: dt.datetime, event: AccessEvent
    ) -> DeletedSegment:
        owner = self._owner_engine()
        try:
            with locked(owner) as connection:
                hold = blocking_hold(segment, _holds(connection))
                if hold is not None:
                    raise SegmentHeld(segment.segment, hold)
                note = self._delete(connection, segment, reason, now, event)
        except DBAPIError as exc:
            raise DeletionFailed(
                f"セグメント {segment.segment} を削除できません。イベントの削除にはテーブル所有者のロール"
                f"（SHADAN_MIGRATION_DATABASE_URL）が必要です: {exc.orig}"
            ) from exc
        finally:
            owner.dispose()
        self._settle(segment.segment, note)
        return DeletedSegment(
            segment.segment, segment.first_leaf, segment.end_leaf, segment.event_count, note
        )

    def settle_files(self) -> int:
        with self._engine.connect() as connection:
            rows = connection.execute(select(log_deletions.c.segment_id, log_deletions.c.record)).all()
        unsettled = [row for row in rows if not self._settled(row.segment_id)]
        for row in unsettled:
            self._settle(row.segment_id, row.record)
        return len(unsettled)

    def _delete(
        self, connection: Connection, segment: SegmentInfo, reason: str, now: dt.datetime, event: AccessEvent
    ) -> str:
        """Record, events, deletion time and access event: all of them or, on any error, none."""
        row = connection.execute(
            select(log_segments).where(
                log_segments.c.segment_id == segment.segment, log_segments.c.deleted_at.is_(None)
            )
        ).first()
        if row is None:
            raise LogIntegrityError(
                f"セグメント {segment.segment} はアーカイブされていないか、削除済みです。"
            )
        manifest = Manifest.parse(row.manifest)
        signer = self._keys.signer()
        if signer.name != manifest.origin:
            raise LogIntegrityError("このサーバーの署名鍵はセグメントのログのものではありません。")
        try:
            subtrees = stored_subtrees(node_reader(connection), manifest.first_leaf, manifest.end_leaf)
        except ProofError as exc:
            raise LogIntegrityError(f"セグメント {segment.segment} の木が壊れています: {exc}") from exc
        if subtrees != manifest.subtrees:
            raise LogIntegrityError(f"セグメント {segment.segment} の木がアーカイブ時と一致しません。")
        record = DeletionRecord(
            manifest.origin,
            manifest.segment,
            manifest.first_leaf,
            manifest.end_leaf,
            manifest.count,
            manifest.file_sha256,
            now,
            reason,
            subtrees,
        )
        note = record.sign(signer)
        connection.execute(
            insert(log_deletions).values(
                segment_id=record.segment,
                first_leaf=record.first_leaf,
                end_leaf=record.end_leaf,
                record=note,
                deleted_at=now,
            )
        )
        _delete_events(connection, record)
        connection.execute(
            update(log_segments).where(log_segments.c.segment_id == record.segment).values(deleted_at=now)
        )
        SqlAccessLog(connection).append([event])
        return note

    def _settled(self, segment: str) -> bool:
        files = (self._directory / parquet_name(segment), self._directory / manifest_name(segment))
        return (self._directory / deletion_name(segment)).exists() and not any(f.exists() for f in files)

    def _settle(self, segment: str, note: str) -> None:
        """The signed record goes where the segment was, so the archive shows why a month is gone."""
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file_atomically(self._directory / deletion_name(segment), note.encode())
        (self._directory / parquet_name(segment)).unlink(missing_ok=True)
        (self._directory / manifest_name(segment)).unlink(missing_ok=True)


def _delete_events(connection: Connection, record: DeletionRecord) -> None:
    seqs = select(log_leaves.c.seq).where(
        log_leaves.c.leaf_index >= record.first_leaf, log_leaves.c.leaf_index < record.end_leaf
    )
    connection.execute(delete(log_resource_ids).where(log_resource_ids.c.seq.in_(seqs)))
    entries = access_log_entries.c
    deleted = connection.execute(delete(access_log_entries).where(entries.seq.in_(seqs))).rowcount
    if deleted != record.count:
        # Some were gone before: deleting the rest under a record would hide that. `verify` names them.
        raise LogIntegrityError(
            f"セグメント {record.segment} のイベントが {record.count} 件のはずが {deleted} 件しかないため、"
            "削除を中止しました。"
        )


def _holds(connection: Connection) -> list[LegalHold]:
    rows = connection.execute(select(log_legal_holds).order_by(log_legal_holds.c.hold_id))
    return [_hold(row) for row in rows]


def _hold(row: Row[Any]) -> LegalHold:
    return LegalHold(
        hold_id=int(row.hold_id),
        period_from=row.period_from,
        period_to=row.period_to,
        reason=row.reason,
        placed_by=row.placed_by,
        placed_at=as_utc(row.placed_at),
        released_by=row.released_by,
        released_at=None if row.released_at is None else as_utc(row.released_at),
    )
