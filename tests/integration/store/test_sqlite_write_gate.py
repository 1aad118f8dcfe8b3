"""SQLite writers queue on the file's write gate (in-process and across processes) instead of SQLite's
busy handler.

With a busy timeout of zero, SQLite refuses a second writer at once ("database is locked"); through the
gate, concurrent writers of the process all succeed, each after the previous one commits.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from shadan.store.database import make_engine
from shadan.store.sqlite_writes import gate_for


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "gate.db"


@pytest.fixture
def impatient(path: Path) -> Iterator[Engine]:
    """An engine whose SQLite gives up at once when another writer holds the lock."""
    engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (writer INTEGER, n INTEGER)"))
    yield engine
    engine.dispose()


def _write_many(engine: Engine, writer: int) -> None:
    for n in range(25):
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO counter VALUES (:w, :n)"), {"w": writer, "n": n})
            connection.execute(text("UPDATE counter SET n = n WHERE writer = :w"), {"w": writer})
            connection.commit()


def test_concurrent_writers_queue_instead_of_failing(impatient: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda w: _write_many(impatient, w), range(8)))
    with impatient.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM counter")).scalar_one() == 8 * 25


def test_two_engines_on_one_file_share_the_gate(impatient: Engine, path: Path) -> None:
    second = make_engine(f"sqlite:///{path}", busy_timeout_s=0)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda w: _write_many(impatient if w % 2 else second, w), range(4)))
    finally:
        second.dispose()
    with impatient.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM counter")).scalar_one() == 4 * 25


def test_the_gate_is_held_from_the_first_write_until_the_transaction_ends(
    impatient: Engine, path: Path
) -> None:
    gate = gate_for(str(path))
    with impatient.connect() as connection:
        connection.execute(text("SELECT count(*) FROM counter"))
        assert not gate.held()  # reads never take it
        connection.execute(text("INSERT INTO counter VALUES (1, 1)"))
        assert gate.held()
        connection.commit()
        assert not gate.held()
        connection.execute(text("DELETE FROM counter"))
        assert gate.held()
        connection.rollback()
        assert not gate.held()
        with pytest.raises(Exception, match="no such table"):
            connection.execute(text("INSERT INTO missing VALUES (1)"))
        connection.rollback()
        assert not gate.held()


def test_begin_immediate_takes_the_gate_too(impatient: Engine, path: Path) -> None:
    gate = gate_for(str(path))
    with impatient.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        assert gate.held()
        connection.execute(text("INSERT INTO counter VALUES (1, 1)"))
        connection.commit()
    assert not gate.held()


def test_a_connection_closed_mid_transaction_releases_the_gate(impatient: Engine, path: Path) -> None:
    gate = gate_for(str(path))
    connection = impatient.connect()
    connection.execute(text("INSERT INTO counter VALUES (1, 1)"))
    assert gate.held()
    connection.close()
    assert not gate.held()
    with impatient.connect() as other:
        assert other.execute(text("SELECT count(*) FROM counter")).scalar_one() == 0


HOLDER = """
import sys
from sqlalchemy import text
from shadan.store.database import make_engine
engine = make_engine(sys.argv[1], busy_timeout_s=0)
with engine.connect() as connection:
    connection.execute(text("INSERT INTO counter VALUES (0, 0)"))
    print("holding", flush=True)
    sys.stdin.readline()
    connection.commit()
engine.dispose()
"""


def test_a_writer_of_another_process_is_waited_for_not_refused(impatient: Engine, path: Path) -> None:
    """Another shadan process holds the write lock; SQLite alone would refuse at once (busy timeout 0)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"sqlite:///{path}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        outcome: list[BaseException | None] = []

        def write() -> None:
            try:
                with impatient.connect() as connection:
                    connection.execute(text("INSERT INTO counter VALUES (1, 1)"))
                    connection.commit()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive(), f"the write did not wait: {outcome}"  # queued behind the other process
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        writer.join()
        assert outcome == [None]
    finally:
        holder.communicate(timeout=30)
    with impatient.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM counter")).scalar_one() == 2


def test_engines_opening_a_fresh_file_together_all_switch_it_to_wal(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """The migrated file starts in rollback-journal mode; the first connections switch it to WAL, which
    needs the file to itself. Opened at once, they must queue, not refuse each other."""
    for attempt in range(100):
        path = tmp_path / f"fresh-{attempt}.db"
        shutil.copy(sqlite_template, path)
        engines = [make_engine(f"sqlite:///{path}") for _ in range(3)]
        try:
            with ThreadPoolExecutor(max_workers=3) as pool:
                modes = list(pool.map(_journal_mode, engines))
        finally:
            for engine in engines:
                engine.dispose()
        assert modes == ["wal"] * 3


def _journal_mode(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar_one())
