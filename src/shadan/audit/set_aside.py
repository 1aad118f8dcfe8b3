"""The rows of entries the sequencer left out, read and removed (services/entry_set_aside.py).

The application role cannot delete an entry (migration 0002), so the removal runs on the owner role's
connection, under the log's lock, with the access event that records it in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete
from sqlalchemy.exc import DBAPIError

from shadan.audit.left_out_records import has_leaf, stored_bytes
from shadan.audit.log import SqlAccessLog, access_log_entries
from shadan.audit.sequencer import entry_unreadable
from shadan.audit.tree_store import locked
from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.services.archive import DeletionFailed
from shadan.services.entry_set_aside import LeftOutEntry


class SqlLeftOutEntries:
    def __init__(self, engine: Engine, owner_engine: Callable[[], Engine]) -> None:
        self._engine = engine
        self._owner_engine = owner_engine  # made only when an entry is removed

    def read(self, seq: int) -> LeftOutEntry:
        with self._engine.connect() as connection:
            return LeftOutEntry(seq, self._left_out(connection, seq))

    def remove(self, entry: LeftOutEntry, event: AccessEvent) -> None:
        owner = self._owner_engine()
        try:
            with locked(owner) as connection:
                if self._left_out(connection, entry.seq) != entry.stored:
                    raise InvalidInput(
                        f"連番 {entry.seq} のエントリは読んだ後に変わったため、外しませんでした。"
                    )
                # The event first: SQLite numbers a new entry after the largest seq, which this may be.
                SqlAccessLog(connection).append([event])
                connection.execute(delete(access_log_entries).where(access_log_entries.c.seq == entry.seq))
        except DBAPIError as exc:
            raise DeletionFailed(
                f"連番 {entry.seq} のエントリを外せません。エントリの削除にはテーブル所有者のロール"
                f"（SHADAN_MIGRATION_DATABASE_URL）が必要です: {exc.orig}"
            ) from exc
        finally:
            owner.dispose()

    def _left_out(self, connection: Connection, seq: int) -> bytes:
        """The stored entry of `seq`, if it has no leaf and the sequencer cannot read it (asked again
        before the removal, whatever entry the caller hands in)."""
        stored = stored_bytes(connection, seq)
        if stored is None:
            raise NotFound(f"連番 {seq} のエントリはありません。")
        if has_leaf(connection, seq):
            raise InvalidInput(f"連番 {seq} のイベントは木に記録されているため、外せません。")
        if not entry_unreadable(self._engine, seq):
            raise InvalidInput(
                f"連番 {seq} のエントリは順序付けで読めるため、外せません"
                "（外せるのは読めないエントリだけです）。"
            )
        return stored
