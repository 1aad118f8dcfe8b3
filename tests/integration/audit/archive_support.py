"""Helpers of the archive and retention tests: months of events sequenced on a test clock, and the
attacker's tools on archive files (the archive service itself is a fixture, conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from audit_support import Clock, event
from sqlalchemy import Engine

from shadan.audit.archive_format import file_sha256
from shadan.audit.log import SqlAccessLog
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.services.identity import Actor

OPERATOR = Actor("system:archivist", terminal_id="ops-01")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)  # type: ignore[misc]


def log_month(engine: Engine, tlog: SqlTransparencyLog, clock: Clock, day: dt.datetime, ids: range) -> None:
    """Events `ids`, made on `day` and sequenced then (a segment's month is its leaves' sequencing time)."""
    clock.now = day
    events = [event(i, ts=day + dt.timedelta(seconds=n)) for n, i in enumerate(ids)]
    with engine.begin() as connection:
        SqlAccessLog(connection).append(events)
    tlog.sequence()


def rewrite_parquet(path: Path, change: Callable[[dict[str, list[Any]]], None]) -> None:
    """Edit the rows of a segment file (as lists per column) and write it back with the same schema."""
    table = pq.read_table(path)
    columns = table.to_pydict()
    change(columns)
    pq.write_table(table.from_pydict(columns, schema=table.schema), path)


def edit_manifest(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def cover_tracks(directory: Path, segment: str) -> None:
    """What a careful attacker does after editing a file: the manifest's SHA-256 made to match again."""
    sha = file_sha256(directory / f"{segment}.parquet")
    edit_manifest(directory / f"{segment}.manifest.json", lambda d: d.update(file_sha256=sha))


def entry_with(entry: bytes, **changes: Any) -> bytes:
    document = json.loads(entry)
    document.update(changes)
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def kinds(failures: Sequence[Any]) -> list[str]:
    return [str(f.kind) for f in failures]
