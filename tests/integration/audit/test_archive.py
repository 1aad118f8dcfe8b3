"""Monthly Parquet archives of the log, on SQLite and PostgreSQL: three months of events on a test clock are
archived as three segments tied to a signed checkpoint; the archive verifies with the public key alone, and
every tampering an attacker with the files can do is caught with its exit code (DESIGN §4.3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import independent_verifier
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from archive_support import (
    OPERATOR,
    cover_tracks,
    edit_manifest,
    entry_with,
    kinds,
    log_month,
    rewrite_parquet,
    utc,
)
from audit_support import Clock, edit_sql
from sqlalchemy import Engine, select, text

from shadan.audit.archive import SqlSegmentArchive
from shadan.audit.archive_check import ParquetArchiveChecker
from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import access_events
from shadan.audit.note import Signer, parse_note
from shadan.audit.record_tables import log_segments
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.domain.vocabulary import AuditTag
from shadan.services.archive import ArchiveConflict, ArchiveService
from shadan.services.archive_report import ArchiveProblem, ArchiveReport
from shadan.services.audit_log import AuditLogService, LogIntegrityError


@pytest.fixture
def three_months(engine: Engine, tlog: SqlTransparencyLog, clock: Clock) -> None:
    """30 events in April 2025, 20 in May, 10 in June; July has begun."""
    log_month(engine, tlog, clock, utc(2025, 4, 10), range(1, 31))
    log_month(engine, tlog, clock, utc(2025, 5, 31, 23, 59), range(31, 51))
    log_month(engine, tlog, clock, utc(2025, 6, 1), range(51, 61))
    clock.now = utc(2025, 7, 1, 0, 5)


def independent_view(directory: Path, segment: str) -> tuple[dict[str, Any], list[bytes]]:
    manifest = json.loads((directory / f"{segment}.manifest.json").read_text(encoding="utf-8"))
    return manifest, pq.read_table(directory / f"{segment}.parquet").column("entry").to_pylist()


def check(directory: Path, keys: FileKeyStore) -> ArchiveReport:
    return ParquetArchiveChecker().check(directory, [keys.signer().verifier.text()], lambda _t, _d: None)


def test_months_become_segments_tied_to_a_signed_checkpoint(
    archive: ArchiveService, three_months: None, archive_dir: Path, engine: Engine, keys: FileKeyStore
) -> None:
    seen: list[tuple[int, int]] = []
    run = archive.archive(OPERATOR, lambda total, done: seen.append((total, done)))
    assert [(s.segment, s.first_leaf, s.end_leaf) for s in run.segments] == [
        ("2025-04", 0, 30),
        ("2025-05", 30, 50),
        ("2025-06", 50, 60),
    ]
    assert run.events == 60
    assert run.checkpoint_size == 60  # a checkpoint covering June's last leaf was signed for the run
    assert seen[-1] == (60, 60)
    assert sorted(p.name for p in archive_dir.iterdir()) == [
        f"2025-0{m}.{kind}" for m in (4, 5, 6) for kind in ("manifest.json", "parquet")
    ]
    with engine.connect() as connection:
        rows = connection.execute(select(log_segments).order_by(log_segments.c.first_leaf)).all()
        tags = connection.execute(select(access_events.c.detail, access_events.c.resource_ids)).all()
    assert [(r.segment_id, r.event_count, r.checkpoint_size, r.deleted_at) for r in rows] == [
        ("2025-04", 30, 60, None),
        ("2025-05", 20, 60, None),
        ("2025-06", 10, 60, None),
    ]
    assert rows[0].manifest == (archive_dir / "2025-04.manifest.json").read_text(encoding="utf-8")
    assert (AuditTag.LOG_ARCHIVED.value, ["2025-04", "2025-05", "2025-06"]) in [tuple(t) for t in tags]
    report = check(archive_dir, keys)
    assert report.ok, report.failures
    assert (report.segments_checked, report.events_checked, report.exit_code) == (3, 60, 0)
    # A second implementation, written from the documentation, agrees.
    for month in ("2025-04", "2025-05", "2025-06"):
        independent_verifier.verify_segment(
            *independent_view(archive_dir, month), keys.signer().verifier.text()
        )


def test_the_parquet_file_is_plain_columns_for_analysis(
    archive: ArchiveService, three_months: None, archive_dir: Path
) -> None:
    archive.archive(OPERATOR)
    table = pq.read_table(archive_dir / "2025-05.parquet")
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("resource_ids").type == pa.list_(pa.string())
    assert table.schema.field("entry").type == pa.binary()
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["leaf_index"], first["seq"], first["event_id"]) == (30, 31, "ev-000031")
    assert first["ts"] == utc(2025, 5, 31, 23, 59)
    assert (first["purpose"], first["resource_ids"]) == ("託送業務", ["0600001111222233300031"])
    assert json.loads(first["extra"]) == {"n": 31}
    assert json.loads(first["entry"])["seq"] == 31


def test_a_month_is_archived_only_when_it_is_over(
    archive: ArchiveService, engine: Engine, tlog: SqlTransparencyLog, clock: Clock
) -> None:
    log_month(engine, tlog, clock, utc(2025, 4, 10), range(1, 6))
    clock.now = utc(2025, 4, 30, 23, 59)
    assert archive.archive(OPERATOR).segments == ()
    clock.now = utc(2025, 5, 1)
    assert [s.segment for s in archive.archive(OPERATOR).segments] == ["2025-04"]
    assert archive.archive(OPERATOR).segments == ()  # nothing new: the run is recorded all the same
    with engine.connect() as connection:
        runs = connection.execute(
            text("SELECT count(*) FROM access_events WHERE detail = :tag"),
            {"tag": AuditTag.LOG_ARCHIVED.value},
        ).scalar_one()
    assert runs == 3


def test_a_month_without_leaves_has_no_segment_and_leaves_no_gap(
    archive: ArchiveService,
    engine: Engine,
    tlog: SqlTransparencyLog,
    clock: Clock,
    archive_dir: Path,
    keys: FileKeyStore,
) -> None:
    log_month(engine, tlog, clock, utc(2025, 4, 10), range(1, 6))
    log_month(engine, tlog, clock, utc(2025, 6, 10), range(6, 9))
    clock.now = utc(2025, 7, 1)
    run = archive.archive(OPERATOR)
    assert [(s.segment, s.first_leaf, s.end_leaf) for s in run.segments] == [
        ("2025-04", 0, 5),
        ("2025-06", 5, 8),
    ]
    assert check(archive_dir, keys).ok


def test_an_edited_event_is_never_archived(
    archive: ArchiveService, three_months: None, owner_engine: Engine, archive_dir: Path, engine: Engine
) -> None:
    with owner_engine.begin() as connection:
        connection.execute(text(edit_sql(40, "purpose", "託送業務", "営業活動")))
    with pytest.raises(LogIntegrityError, match="連番 40"):
        archive.archive(OPERATOR)
    # April was written before May failed; nothing of May is, not even a scratch file.
    assert sorted(p.name for p in archive_dir.iterdir()) == ["2025-04.manifest.json", "2025-04.parquet"]
    with engine.connect() as connection:
        archived = connection.execute(select(log_segments.c.segment_id)).scalars().all()
        run = connection.execute(
            select(access_events.c.extra).where(access_events.c.detail == AuditTag.LOG_ARCHIVED.value)
        ).scalar_one()
    assert archived == ["2025-04"]
    assert run["complete"] is False


# Each attack on the files, as someone who holds the archive (not the key) would do it.


def _edit_entry(directory: Path) -> None:
    def change(columns: dict[str, list[object]]) -> None:
        entry = columns["entry"][3]
        assert isinstance(entry, bytes)
        columns["entry"][3] = entry_with(entry, purpose="営業活動")
        columns["purpose"][3] = "営業活動"  # the decoded column edited alike: only the tree can tell

    rewrite_parquet(directory / "2025-05.parquet", change)
    cover_tracks(directory, "2025-05")


def _edit_column(directory: Path) -> None:
    rewrite_parquet(directory / "2025-05.parquet", lambda c: c["account_id"].__setitem__(2, "someone.else"))
    cover_tracks(directory, "2025-05")


def _delete_row(directory: Path) -> None:
    def change(columns: dict[str, list[object]]) -> None:
        for values in columns.values():
            del values[5]

    rewrite_parquet(directory / "2025-05.parquet", change)
    cover_tracks(directory, "2025-05")


def _swap_file(directory: Path) -> None:
    shutil.copy(directory / "2025-06.parquet", directory / "2025-05.parquet")


def _forge_hashes(directory: Path) -> None:
    def change(document: dict[str, list[dict[str, object]]]) -> None:
        document["left_edge"][0]["hash"] = document["right_range"][0]["hash"]

    edit_manifest(directory / "2025-05.manifest.json", change)


def _sign_with_another_key(directory: Path) -> None:
    path = directory / "2025-05.manifest.json"
    note = parse_note(json.loads(path.read_text(encoding="utf-8"))["checkpoint"])
    forger = Signer.generate(note.signatures[0].name)  # the log's name, a key of the attacker's own
    forged = sign_checkpoint(Checkpoint.parse(note.text), [forger]).render()
    edit_manifest(path, lambda d: d.update(checkpoint=forged))


def _remove_month(directory: Path) -> None:
    (directory / "2025-05.parquet").unlink()
    (directory / "2025-05.manifest.json").unlink()


def _remove_first_month(directory: Path) -> None:
    (directory / "2025-04.parquet").unlink()
    (directory / "2025-04.manifest.json").unlink()


def _rename_month(directory: Path) -> None:
    (directory / "2025-05.manifest.json").rename(directory / "2025-07.manifest.json")


@pytest.mark.parametrize(
    ("attack", "first", "also"),
    [
        (_edit_entry, ArchiveProblem.ROOT_MISMATCH, []),
        (_edit_column, ArchiveProblem.COLUMN_CHANGED, []),
        (_delete_row, ArchiveProblem.ROWS, []),
        (_swap_file, ArchiveProblem.FILE_CHANGED, [ArchiveProblem.ROWS]),
        (_forge_hashes, ArchiveProblem.ROOT_MISMATCH, []),
        (_sign_with_another_key, ArchiveProblem.CHECKPOINT_SIGNATURE, []),
        (_remove_month, ArchiveProblem.SEGMENT_MISSING, []),
        (_remove_first_month, ArchiveProblem.SEGMENT_MISSING, []),
        (_rename_month, ArchiveProblem.MALFORMED, [ArchiveProblem.SEGMENT_MISSING]),
    ],
)
def test_tampering_with_the_archive_is_caught(
    archive: ArchiveService,
    three_months: None,
    archive_dir: Path,
    keys: FileKeyStore,
    attack: object,
    first: ArchiveProblem,
    also: list[ArchiveProblem],
) -> None:
    archive.archive(OPERATOR)
    attack(archive_dir)  # type: ignore[operator]
    if first in (ArchiveProblem.ROOT_MISMATCH, ArchiveProblem.CHECKPOINT_SIGNATURE):
        with pytest.raises(independent_verifier.Rejected):
            independent_verifier.verify_segment(
                *independent_view(archive_dir, "2025-05"), keys.signer().verifier.text()
            )
    report = check(archive_dir, keys)
    assert not report.ok
    assert report.failures[0].kind is first, report.failures
    assert report.exit_code == first.exit_code
    assert set(also) <= {f.kind for f in report.failures}
    # Only the attacked month is named (the others still verify on their own).
    assert {f.segment for f in report.failures} <= {"2025-04", "2025-05", "2025-06", None}


def test_edited_columns_name_the_leaf(
    archive: ArchiveService, three_months: None, archive_dir: Path, keys: FileKeyStore
) -> None:
    archive.archive(OPERATOR)
    _edit_column(archive_dir)
    failure = check(archive_dir, keys).failures[0]
    assert failure.segment == "2025-05"
    assert "leaf 32" in failure.detail_en
    assert "account_id" in failure.detail_ja


def test_a_key_of_another_log_or_no_key(
    archive: ArchiveService, three_months: None, archive_dir: Path, tmp_path: Path
) -> None:
    archive.archive(OPERATOR)
    stranger = Signer.generate("other.example/access-log").verifier.text()
    report = ParquetArchiveChecker().check(archive_dir, [stranger], lambda _t, _d: None)
    assert report.exit_code == ArchiveProblem.CHECKPOINT_SIGNATURE.exit_code
    assert report.failures[0].kind is ArchiveProblem.CHECKPOINT_SIGNATURE
    for keys in ([], ["not a key"]):
        refused = ParquetArchiveChecker().check(archive_dir, keys, lambda _t, _d: None)
        assert kinds(refused.failures) == [ArchiveProblem.KEY]
        assert refused.exit_code == 48


def test_an_empty_directory_is_no_archive(tmp_path: Path, keys: FileKeyStore) -> None:
    report = check(tmp_path, keys)
    assert kinds(report.failures) == [ArchiveProblem.MALFORMED]
    assert report.exit_code == 40


def test_two_runs_at_once_record_a_segment_once(
    engine: Engine,
    keys: FileKeyStore,
    clock: Clock,
    archive_dir: Path,
    service: AuditLogService,
    three_months: None,
) -> None:
    """Two app servers archiving together: the second insert of the month is refused, its files untouched."""
    first, second = (SqlSegmentArchive(engine, archive_dir, keys, clock) for _ in range(2))
    plan = first.pending(clock.now)[0]
    head = service.checkpoint()
    first.write(plan, head, lambda _t, _d: None)
    written = (archive_dir / "2025-04.manifest.json").read_bytes()
    with pytest.raises(ArchiveConflict, match="2025-04"):
        second.write(plan, head, lambda _t, _d: None)
    assert (archive_dir / "2025-04.manifest.json").read_bytes() == written
    assert sorted(p.name for p in archive_dir.iterdir()) == ["2025-04.manifest.json", "2025-04.parquet"]
