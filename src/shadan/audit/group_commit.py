"""Group commit of the access log: the events of concurrent requests in one transaction, one fsync.

A read answers only once its access event is durable (DESIGN §4.3). Committed one by one, every read
pays a commit (an fsync with SQLite's synchronous=FULL) and, on SQLite, the writers queue behind each
other. Here a request hands its events to the `GroupCommit` and waits. If no commit is under way, it
becomes the leader: it takes every event handed in so far and commits them in one transaction with the
append path of `audit.log`; requests arriving meanwhile gather for the next commit, which one of them
leads as soon as this one ends. Each request returns only after the commit holding its events succeeded;
if that commit fails, every request of the batch gets AuditUnavailable (fail closed: 503, no data).

There is no writer thread: the leader is a waiting request's own worker thread, so a lone request
commits as soon as it arrives, with no hand-off, and concurrent requests share commits without any
timer. Nothing is held in the process but the events of requests still waiting for their answer; an
event exists only once it is committed, in the database every app server shares. Other processes commit
their own batches concurrently (PostgreSQL), or take their turn at SQLite's lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from shadan.audit.log import SqlAccessLog
from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.services.log_sink import UNAVAILABLE_MESSAGE

Write = Callable[[Sequence[AccessEvent]], None]


def sql_write(engine: Engine) -> Write:
    """Append the events in one transaction of their own and commit it (the batch's one fsync)."""

    def write(events: Sequence[AccessEvent]) -> None:
        with engine.connect() as connection:
            SqlAccessLog(connection).append(events)
            connection.commit()

    return write


@dataclass(eq=False)
class _Batch:
    ready: threading.Condition
    events: list[AccessEvent] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None


class _NotCommitted(Exception):
    """The leader stopped before its commit returned (an interrupt): its batch is not durable."""


class GroupCommit:
    """The AccessLogSink the app servers use (services.ports.AccessLogSink)."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._open: _Batch | None = None  # gathers events while another batch is being committed
        self._committing = False

    @classmethod
    def on(cls, engine: Engine) -> GroupCommit:
        return cls(sql_write(engine))

    @property
    def waiting(self) -> int:
        """Events handed in and waiting for the next commit (for tests and monitoring)."""
        with self._lock:
            return 0 if self._open is None else len(self._open.events)

    def record(self, events: Sequence[AccessEvent]) -> None:
        if not events:
            return
        batch, leader = self._join(events)
        if leader:
            self._lead(batch)
        if batch.error is not None:
            raise AuditUnavailable(UNAVAILABLE_MESSAGE) from batch.error

    def _join(self, events: Sequence[AccessEvent]) -> tuple[_Batch, bool]:
        """Add the events to the open batch; wait until it is committed or it is our turn to lead."""
        with self._lock:
            batch = self._open
            if batch is None:
                batch = self._open = _Batch(threading.Condition(self._lock))
            batch.events.extend(events)
            while self._committing and not batch.done:
                batch.ready.wait()
            if batch.done:
                return batch, False
            # Nobody is committing: this thread commits the batch; later arrivals open the next one.
            self._committing = True
            self._open = None
            return batch, True

    def _lead(self, batch: _Batch) -> None:
        error: BaseException | None = _NotCommitted()
        try:
            self._write(batch.events)
            error = None
        except Exception as exc:
            error = exc
        finally:
            self._finish(batch, error)

    def _finish(self, batch: _Batch, error: BaseException | None) -> None:
        with self._lock:
            batch.error = error
            batch.done = True
            self._committing = False
            batch.ready.notify_all()
            if self._open is not None:
                # One of the requests gathered meanwhile leads the next commit.
                self._open.ready.notify()
