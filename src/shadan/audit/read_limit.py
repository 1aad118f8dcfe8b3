"""A time limit on the reads of one auditors' search (a page's events and count share one deadline):
SQLite's progress handler, PostgreSQL's statement_timeout. A search without a supply point, person or
account has no index to read and scans the log from the newest event (within the time spans of its
period, if it has one: time_spans.py); on years of events that is minutes of the database's work for one
click, so such a read is stopped at the limit (as Datasette stops a slow query) and the auditor asked to
narrow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from shadan.services.audit_review import SearchTimedOut

_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by statement_timeout
_CHECK_EVERY = 10_000  # SQLite virtual-machine steps between looks at the clock (microseconds apart)


@contextmanager
def time_limited(connection: Connection, deadline: float, clock: Callable[[], float]) -> Iterator[None]:
    """Every statement run on the connection inside the block stops when `clock` passes `deadline`
    (SearchTimedOut); a block entered past it runs nothing. Blocks with one deadline share one limit. On
    PostgreSQL the limit holds for the rest of the connection's transaction (SET LOCAL)."""
    seconds = deadline - clock()
    if seconds <= 0:
        raise SearchTimedOut
    if connection.dialect.name == "postgresql":
        milliseconds = max(1, round(seconds * 1000))
        connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds:d}"))
        with _stopped_as_timed_out(lambda exc: getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED):
            yield
        return
    sqlite: Any = connection.connection.driver_connection
    sqlite.set_progress_handler(lambda: clock() > deadline, _CHECK_EVERY)
    try:
        with _stopped_as_timed_out(lambda exc: "interrupted" in str(exc.orig)):
            yield
    finally:
        sqlite.set_progress_handler(None, 0)  # the connection goes back to the pool without it


@contextmanager
def _stopped_as_timed_out(stopped: Callable[[DBAPIError], bool]) -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if stopped(exc):
            raise SearchTimedOut from exc
        raise
