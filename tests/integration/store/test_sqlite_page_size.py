"""A new SQLite file gets shadan's page size, whoever makes its first table (the migrations or an
engine); a file made before keeps its own and works as it did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from shadan.store.database import SQLITE_PAGE_SIZE, make_engine, migrate


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])


def test_a_migrated_new_file_has_the_page_size(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    migrate(f"sqlite:///{path}")
    assert _page_size(path) == SQLITE_PAGE_SIZE != 4096  # 4096: SQLite's own


def test_a_new_file_opened_by_an_engine_has_the_page_size(tmp_path: Path) -> None:
    path = tmp_path / "engine.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert _page_size(path) == SQLITE_PAGE_SIZE


def test_a_file_made_before_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA page_size=4096")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.execute("INSERT INTO t VALUES (1)")
    connection.close()
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()
    assert _page_size(path) == 4096
