"""One SQLite writer at a time, queued on a lock instead of sleeping in SQLite's busy handler.

SQLite admits one write transaction at a time. A writer that finds the database locked sleeps in SQLite's
busy handler (1, 2, 5, 10 ... 100 ms) and tries again, so under load writers convoy and the tail latency
is that sleep schedule, not the work. A write therefore first takes the database file's `WriteGate` — a
lock, handed to the next writer the moment the previous one commits or rolls back, in this process and
in other shadan processes on the same file — and only then starts its SQLite transaction. The busy
handler is left for writers that know nothing of the gate (the migrations, a sqlite3 shell).

The gate is taken by the first INSERT, UPDATE, DELETE or REPLACE of a transaction, which is also where
Python's sqlite3 opens the transaction (or by an explicit BEGIN IMMEDIATE), and released after the DBAPI
commit or rollback returns, so it covers exactly the span in which SQLite holds its write lock. Reads
never take it (WAL: readers do not block the writer or each other).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from typing import Any, cast

# A transaction that will write starts with one of these; BEGIN IMMEDIATE / EXCLUSIVE take SQLite's
# write lock up front (the log sequencer does), so they must queue for the gate first too.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class WriteGate:
    """The write lock of one database file, shared by every engine of this process on that file.

    Two levels: a thread lock queues this process's writers; the one at the head then takes an
    exclusive flock on `<database>.writer-lock`, where the writers of other shadan processes on the
    file (uvicorn workers, the CLI) queue in the kernel and are woken when it is released — rather than
    polling SQLite's lock from the busy handler. The flock wait has no timeout: it is held only from a
    transaction's first write to its end, and the kernel releases it if its process dies.
    """

    def __init__(self, lock_path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._lock_path = lock_path
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout_s: float) -> None:
        if not self._lock.acquire(timeout=timeout_s):
            # What SQLite itself says when its busy timeout runs out; callers already handle it.
            raise sqlite3.OperationalError("database is locked")
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def held(self) -> bool:
        return self._lock.locked()

    def _file(self) -> int | None:
        """The lock file, opened once per process (a forked child must not share its parent's)."""
        if self._lock_path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            self._fd, self._pid = os.open(self._lock_path, flags, 0o600), os.getpid()
            weakref.finalize(self, os.close, self._fd)
        return self._fd


# How long a writer waits for the writers queued before it, as SQLite's default busy timeout in shadan.
WRITE_WAIT_S = 30.0

_gates: weakref.WeakValueDictionary[str, WriteGate] = weakref.WeakValueDictionary()
_gates_lock = threading.Lock()


def gate_for(path: str) -> WriteGate:
    key = os.path.realpath(path)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate(f"{key}.writer-lock")
        return gate


class GatedCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> GatedCursor:
        cast(GatedConnection, self.connection).before(sql)
        super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Any, /) -> GatedCursor:
        cast(GatedConnection, self.connection).before(sql)
        super().executemany(sql, parameters)
        return self


class GatedConnection(sqlite3.Connection):
    """sqlite3 connection (the `factory` of sqlite3.connect) that holds the gate while it writes."""

    # Set by the engine's connect listener; no gate for an in-memory database (one connection).
    gate: WriteGate | None = None
    _holding = False

    def cursor(self, factory: Any = GatedCursor) -> Any:
        return super().cursor(factory)

    def before(self, sql: str) -> None:
        if self._holding or self.gate is None or not sql.lstrip()[:15].upper().startswith(_WRITES):
            return
        self.gate.acquire(WRITE_WAIT_S)
        self._holding = True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._holding and self.gate is not None:
            self._holding = False
            self.gate.release()
