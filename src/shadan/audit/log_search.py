"""SQL behind the auditors' pages (services.audit_review.LogSearch): event search, the log's counts and
the witnesses' cosignatures. Read only; the same statements on SQLite and PostgreSQL.

Searching by supply point is exact: the id must be an element of the event's `resource_ids` list, never
a substring of another id or of some other text in it. Sequenced events are found through the search
index; for the events above the sequencer's horizon that have no leaf yet, a LIKE on the entry's text
narrows the rows cheaply first and the list's elements, read as the sequencer will index them, decide
(search_index.naming, which the records of left-out entries use too).

The statements select the entries that match, by the expressions of the view `access_events` (which its
indexes cover), and each event is read from its entry's text (entry_events.py): an entry written straight
into the table that is no event comes back as unreadable, and no value in one can stop the statement.

A search without a supply point, person or account but with a period reads only the seqs of the blocks
whose time span meets the period and those above the sequencer's horizon (time_spans.py), newest first:
each range is read by its own part of one statement, so the database walks each range of keys from its
top and stops at a full page. The horizon is read before the spans: every event at or below it was
sequenced, and its block's span written, before the spans are read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    func,
    select,
    union_all,
)

from shadan.audit.entry import as_utc, format_timestamp
from shadan.audit.entry_events import entry_text, event_from_entry
from shadan.audit.left_out_records import still_left_out
from shadan.audit.log import access_log_entries, stated, stored_entry
from shadan.audit.log_completeness import pending_events
from shadan.audit.read_limit import time_limited
from shadan.audit.record_tables import log_cosignatures, log_deletions
from shadan.audit.search_index import naming
from shadan.audit.sequencer import read_state
from shadan.audit.time_spans import blocks_meeting, seq_ranges
from shadan.audit.transparency_log import newest_of, witness_names
from shadan.audit.waiting import first_waiting_since
from shadan.services.audit_filters import EventFilters
from shadan.services.audit_review import (
    UNREADABLE_SHOWN,
    Cosignature,
    LogCounts,
    LoggedEvent,
    SearchTimedOut,
)

_entries = access_log_entries.c

# The leaves of every deleted segment: a handful of rows, where counting the events would read an index of
# every one of them (seconds at 100M, minutes from a cold disk) each time the status page is shown.
_DELETED_LEAVES = func.coalesce(func.sum(log_deletions.c.end_leaf - log_deletions.c.first_leaf), 0)


class SqlLogSearch:
    def __init__(
        self, engine: Engine, *, time_limit_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._engine = engine
        self._time_limit = time_limit_seconds  # SHADAN_LOG_SEARCH_TIME_LIMIT_SECONDS (read_limit.py)
        self._clock = clock

    def counts(self) -> LogCounts:
        with self._engine.connect() as connection:
            state = read_state(connection)
            pending = pending_events(connection, state.horizon_seq)
            deleted = connection.execute(select(_DELETED_LEAVES)).scalar_one()
        return LogCounts(state.tree_size, pending, int(deleted))

    def first_waiting_since(self, before: dt.datetime) -> int | None:
        with self._engine.connect() as connection:
            return first_waiting_since(connection, read_state(connection).horizon_seq, before)

    def left_out_entries(self, limit: int) -> tuple[int, ...] | None:
        with self._engine.connect() as connection:
            return still_left_out(connection, limit)

    def recent_cosignatures(self, limit: int) -> list[Cosignature]:
        c = log_cosignatures.c
        query = select(log_cosignatures).order_by(c.tree_size.desc(), c.cosignature_id.desc()).limit(limit)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [_cosignature(r) for r in rows]

    def newest_cosignatures(self) -> list[Cosignature]:
        with self._engine.connect() as connection:
            return [_cosignature(connection.execute(newest_of(n)).one()) for n in witness_names(connection)]

    def search(self, filters: EventFilters, before: int | None, limit: int) -> list[LoggedEvent]:
        deadline = self._clock() + self._time_limit
        with self._engine.connect() as connection:
            return self._events(connection, filters, before, limit, deadline)

    def page(
        self, filters: EventFilters, before: int | None, limit: int, cap: int
    ) -> tuple[list[LoggedEvent], int | None]:
        deadline = self._clock() + self._time_limit  # one limit for the page: its events, then its count
        with self._engine.connect() as connection:
            events = self._events(connection, filters, before, limit, deadline)
            return events, self._count(connection, filters, cap, deadline)

    def _events(
        self, connection: Connection, filters: EventFilters, before: int | None, limit: int, deadline: float
    ) -> list[LoggedEvent]:
        query = self._matching(filters, select(_entries.seq, stored_entry(connection.dialect.name)))
        if before is not None:
            query = query.where(_entries.seq < before)
        with time_limited(connection, deadline, self._clock):
            rows = connection.execute(self._newest(connection, filters, query, limit)).all()
        return [_logged(int(seq), entry) for seq, entry in rows]

    def _count(self, connection: Connection, filters: EventFilters, cap: int, deadline: float) -> int | None:
        query = self._matching(filters, select(_entries.seq))
        try:
            with time_limited(connection, deadline, self._clock):
                matching = self._newest(connection, filters, query, cap).subquery()
                return int(connection.execute(select(func.count()).select_from(matching)).scalar_one())
        except SearchTimedOut:
            return None

    def _newest(
        self, connection: Connection, filters: EventFilters, query: Select[Any], limit: int
    ) -> Select[Any]:
        """The first `limit` rows of the query, newest first; for a period without an index to read, only
        within the seq ranges its time spans allow, each range newest first."""
        seq = _entries.seq
        if (filters.since is None and filters.until is None) or self._indexed(filters):
            return query.order_by(seq.desc()).limit(limit)
        horizon = read_state(connection).horizon_seq  # before the spans: see the module's docstring
        ranges = seq_ranges(blocks_meeting(connection, filters.since, filters.until), horizon + 1)
        parts = [
            query.where(seq >= first, *(() if last is None else (seq <= last,)))
            .order_by(seq.desc())
            .limit(limit)
            for first, last in reversed(ranges)
        ]
        if len(parts) == 1:
            return parts[0]
        every = union_all(*(select(part.subquery()) for part in parts)).subquery()
        return select(every).order_by(every.c.seq.desc()).limit(limit)

    @staticmethod
    def _indexed(filters: EventFilters) -> bool:
        return any(v is not None for v in (filters.supply_point_id, filters.person_id, filters.account_id))

    def _matching(self, filters: EventFilters, query: Select[Any]) -> Select[Any]:
        dialect = self._engine.dialect.name
        conditions: list[ColumnElement[bool]] = []
        if filters.supply_point_id is not None:
            conditions.append(naming(dialect, filters.supply_point_id))
        for name, value in (
            ("account_id", filters.account_id),
            ("person_id", filters.person_id),
            ("action", filters.action),
            ("outcome", filters.outcome),
            ("purpose", filters.purpose),
        ):
            if value is not None:
                conditions.append(stated(dialect, name) == str(value))
        if filters.since is not None:
            conditions.append(stated(dialect, "ts") >= format_timestamp(filters.since))
        if filters.until is not None:
            conditions.append(stated(dialect, "ts") < format_timestamp(filters.until))
        return query.where(*conditions)


def _logged(seq: int, stored: str | bytes) -> LoggedEvent:
    event = event_from_entry(seq, stored)
    if event is not None:
        return LoggedEvent(seq, event)
    return LoggedEvent(seq, None, unreadable_entry=entry_text(stored)[:UNREADABLE_SHOWN])


def _cosignature(row: Any) -> Cosignature:
    return Cosignature(row.witness_name, int(row.tree_size), as_utc(row.cosigned_at), as_utc(row.received_at))
