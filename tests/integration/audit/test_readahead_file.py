"""The readahead of a real log file (audit/readahead.py) through the kernel's `posix_fadvise`, and which
databases verification reads ahead (verify_chunks.file_readahead)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import make_url

from shadan.audit.readahead import Readahead, memory_available
from shadan.audit.verify_chunks import file_readahead

pytestmark = pytest.mark.skipif(
    not hasattr(os, "posix_fadvise") or not Path("/proc/self/fd").is_dir(),
    reason="Linux: posix_fadvise, /proc",
)


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_file_is_asked_for_and_closed_again(tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    log.write_bytes(os.urandom(3 << 20))
    before = _open_files()
    readahead = Readahead.of_file(log, 1 << 20)
    assert readahead is not None
    readahead.advance(1.0)
    readahead.stop()
    assert _open_files() == before


def test_a_missing_file_is_not_read_ahead(tmp_path: Path) -> None:
    assert Readahead.of_file(tmp_path / "absent.db", 1 << 20) is None


def test_the_memory_available_is_known_on_linux() -> None:
    available = memory_available()
    assert available is not None
    assert available > 0


def test_only_a_sqlite_file_is_read_ahead(tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    log.write_bytes(b"\0" * 4096)
    readahead = file_readahead(make_url(f"sqlite:///{log}"))
    assert readahead is not None
    readahead.stop()
    assert file_readahead(make_url("sqlite://")) is None
    assert file_readahead(make_url("postgresql+psycopg://shadan@localhost/shadan")) is None
