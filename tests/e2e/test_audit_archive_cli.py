"""`shadan audit archive | verify-archive | retention | hold | set-aside` end to end: a world whose log was
written in April 2019 (a test clock) is archived by the CLI, the archive verifies with the public key alone
(no database, no settings), a legal hold keeps the month, and once it is released `retention --apply`
deletes it with the owner role while `shadan audit verify` still passes; an entry the sequencer left out is
set aside."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result
from world import TestClient, TestClock, World, bearer

from shadan.cli.main import app

POINT = "0600001111222233334444"


@pytest.fixture
def clock() -> TestClock:
    return TestClock(dt.datetime(2019, 4, 10, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def cli(db_url: str, owner_url: str, tmp_path: Path, shadan: Any) -> Any:
    env = {
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_MIGRATION_DATABASE_URL": owner_url,
        "SHADAN_ENVIRONMENT": "test",
        "COLUMNS": "200",  # rich wraps tables to the terminal width
    }

    def run(*args: str, environment: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["audit", *args], env=environment or env)

    return run


@pytest.fixture
def april_2019(client: TestClient, world: World, shadan: Any) -> None:
    """Reads in April 2019, sequenced and signed then."""
    token = world.login("clerk")
    response = client.get(
        f"/api/v1/supply-points/{POINT}", params={"purpose": "託送業務"}, headers=bearer(token)
    )
    assert response.status_code == 200
    shadan.audit_log.checkpoint()


def test_archive_verify_hold_and_retention(cli: Any, april_2019: None, tmp_path: Path) -> None:
    archive_dir, key = tmp_path / "home" / "archive", tmp_path / "log.pub"
    archived = cli("archive")
    assert archived.exit_code == 0, archived.output
    assert "2019-04" in archived.output
    assert "segments archived" in archived.output
    assert (archive_dir / "2019-04.parquet").exists()
    assert cli("archive").exit_code == 0  # nothing new: says so
    assert cli("public-key", "-o", str(key)).exit_code == 0

    offline = {
        "SHADAN_ENVIRONMENT": "production",
        "SHADAN_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    }
    checked = cli("verify-archive", str(archive_dir), "--key", str(key), environment=offline)
    assert checked.exit_code == 0, checked.output
    assert "archive verified" in checked.output

    planned = cli("retention")
    assert planned.exit_code == 0, planned.output
    assert "2019-04" in planned.output
    assert "deletable" in planned.output

    held = cli("hold", "add", "--from", "2019-04-01", "--to", "2019-04-30", "--reason", "調査 2024-17")
    assert held.exit_code == 0, held.output
    assert "legal hold placed" in held.output
    kept = cli("retention", "--apply")
    assert kept.exit_code == 0, kept.output
    assert "法的保全 #1" in kept.output
    assert (archive_dir / "2019-04.parquet").exists()
    listed = cli("hold", "list")
    assert "調査 2024-17" in listed.output

    assert cli("hold", "release", "1").exit_code == 0
    deleted = cli("retention", "--apply")
    assert deleted.exit_code == 0, deleted.output
    assert "2019-04 を削除しました" in deleted.output
    assert sorted(p.name for p in archive_dir.iterdir()) == ["2019-04.deletion"]

    verified = cli("verify")
    assert verified.exit_code == 0, verified.output
    assert "verification passed" in verified.output
    assert cli("verify-archive", str(archive_dir), "--key", str(key)).exit_code == 0


def test_verify_archive_exit_codes(cli: Any, april_2019: None, tmp_path: Path) -> None:
    archive_dir, key = tmp_path / "home" / "archive", tmp_path / "log.pub"
    assert cli("archive").exit_code == 0
    cli("public-key", "-o", str(key))

    missing_key = cli("verify-archive", str(archive_dir), "--key", str(tmp_path / "none.pub"))
    assert missing_key.exit_code == 48, missing_key.output

    manifest = archive_dir / "2019-04.manifest.json"
    original = manifest.read_text(encoding="utf-8")
    manifest.write_text(original.replace('"count": ', '"count": 1'), encoding="utf-8")
    rejected = cli("verify-archive", str(archive_dir), "--key", str(key))
    assert rejected.exit_code == 40, rejected.output
    assert "archive rejected" in rejected.output
    assert "アーカイブを読めません" in rejected.output

    manifest.write_text(original, encoding="utf-8")
    (archive_dir / "2019-04.parquet").write_bytes(b"PAR1 not really")
    unreadable = cli("verify-archive", str(archive_dir), "--key", str(key))
    assert unreadable.exit_code == 40, unreadable.output
    assert "2019-04.parquet を読めません" in unreadable.output
    assert "(exit 41)" in unreadable.output  # its SHA-256 differs too, reported after


def test_holds_refuse_bad_input(cli: Any, shadan: Any) -> None:
    backwards = cli("hold", "add", "--from", "2019-05-01", "--to", "2019-04-01", "--reason", "x")
    assert backwards.exit_code == 1
    assert "開始日から終了日" in backwards.output
    assert cli("hold", "add", "--from", "2019-5-1x", "--to", "2019-05-02", "--reason", "x").exit_code == 2
    unknown = cli("hold", "release", "7")
    assert unknown.exit_code == 1
    assert "#7" in unknown.output
    assert "no legal holds" in cli("hold", "list").output


def test_without_the_owner_role_nothing_is_deleted(
    cli: Any, april_2019: None, db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("roles are PostgreSQL's")
    assert cli("archive").exit_code == 0
    app_only = {
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_ENVIRONMENT": "test",
    }
    refused = cli("retention", "--apply", environment=app_only)
    assert refused.exit_code == 1, refused.output
    assert "SHADAN_MIGRATION_DATABASE_URL" in refused.output
    assert (tmp_path / "home" / "archive" / "2019-04.parquet").exists()


@pytest.fixture
def unreadable(april_2019: None, owner_url: str) -> tuple[int, str]:
    """An entry the sequencer cannot read (a `ts` PostgreSQL cannot cast, a lone surrogate on SQLite),
    written straight into the table after April's reads: its seq and its text."""
    crafted = '{"ts":"\\ud800"}' if owner_url.startswith("sqlite") else '{"ts":"no time"}'
    owner = create_engine(owner_url)
    with owner.begin() as connection:
        insert = text("INSERT INTO access_log_entries (entry) VALUES (:entry) RETURNING seq")
        seq = int(connection.execute(insert, {"entry": crafted}).scalar_one())
    owner.dispose()
    return seq, crafted


def test_set_aside_keeps_the_entry_then_removes_its_row(
    cli: Any, unreadable: tuple[int, str], shadan: Any, tmp_path: Path
) -> None:
    """The entry's bytes go to the file first, never over an existing one; then its row goes, recorded,
    and verification passes."""
    seq, crafted = unreadable
    kept = tmp_path / "left-out.json"
    kept.write_bytes(b"earlier evidence")
    refused = cli("set-aside", str(seq), "--reason", "事案 17", "-o", str(kept))
    assert refused.exit_code == 1
    assert "に書けません" in refused.output
    assert "エントリは外していません" in refused.output
    assert kept.read_bytes() == b"earlier evidence"
    readable = cli("set-aside", str(seq - 1), "--reason", "事案 17", "-o", str(tmp_path / "other.json"))
    assert (readable.exit_code, readable.output.strip()) == (
        1,
        f"連番 {seq - 1} のイベントは木に記録されているため、外せません。",
    )
    kept.unlink()
    done = cli("set-aside", str(seq), "--reason", "事案 17", "-o", str(kept))
    assert done.exit_code == 0, done.output
    assert kept.read_bytes() == crafted.encode("utf-8")
    assert hashlib.sha256(crafted.encode("utf-8")).hexdigest() in done.output
    again = cli("set-aside", str(seq), "--reason", "事案 17", "-o", str(tmp_path / "again.json"))
    assert (again.exit_code, f"連番 {seq} のエントリはありません" in again.output) == (1, True)
    shadan.audit_log.checkpoint()
    assert cli("verify").exit_code == 0


def test_retention_keeps_a_month_recording_an_entry_left_out_until_it_is_set_aside(
    cli: Any, unreadable: tuple[int, str], shadan: Any, tmp_path: Path
) -> None:
    """April holds the sequencer's record of an entry it left out: `retention` names the entry and keeps
    the month until the entry is set aside."""
    seq, _ = unreadable
    shadan.audit_log.checkpoint()  # in April 2019: the entry is left out, and its record gets a leaf
    assert cli("archive").exit_code == 0
    planned = cli("retention")
    assert planned.exit_code == 0, planned.output
    assert f"木から外されたエントリ（連番 {seq}）の記録を含むため保留" in planned.output
    assert "deletable" not in planned.output
    kept = cli("retention", "--apply")
    assert kept.exit_code == 0, kept.output
    assert f"木から外されたエントリ（連番 {seq}）" in kept.output
    assert (tmp_path / "home" / "archive" / "2019-04.parquet").exists()
    set_aside = cli("set-aside", str(seq), "--reason", "事案 17", "-o", str(tmp_path / "left-out.json"))
    assert set_aside.exit_code == 0, set_aside.output
    deleted = cli("retention", "--apply")
    assert deleted.exit_code == 0, deleted.output
    assert "2019-04 を削除しました" in deleted.output
