"""`shadan registry import` then `shadan switching validate` in a fresh SHADAN_HOME, nothing else set up."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shadan.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "switching"))
from switching_registry import (
    CALENDAR_CSV,
    MIXED,
    MIXED_EXPECTED,
    POINTS_CSV,
    RETAILERS_CSV,
    applications_csv,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SHADAN_DATABASE_URL", "SHADAN_MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHADAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width
    return tmp_path / "home"


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def shadan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def imported(home: Path, tmp_path: Path) -> None:
    code, output = shadan(
        "registry",
        "import",
        "--retailers",
        write(tmp_path / "r.csv", RETAILERS_CSV),
        "--calendar",
        write(tmp_path / "c.csv", CALENDAR_CSV),
        "--supply-points",
        write(tmp_path / "sp.csv", POINTS_CSV, "cp932"),
    )
    assert code == 0, output


def test_validate_writes_cp932_results_that_excel_can_read(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED), "cp932")
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out), "--encoding", "cp932")
    assert code == 0, output
    # Excel opens a BOM-less CSV as Shift_JIS (CP932): the file must decode that way, CRLF line ends.
    text = out.read_bytes().decode("cp932")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["application_id", "result", "error_code", "error_codes", "message"]
    assert [tuple(r[:4]) for r in table[1:]] == MIXED_EXPECTED
    assert all(r[4] for r in table[1:])
    assert "【02 契約番号不一致エラー】" in table[5][4]
    # The summary: counts per result and per code, and what normalisation avoided.
    assert "受付可（accepted）" in output
    assert "契約番号不一致エラー" in output
    assert "正規化の効果" in output
    assert f"結果を {out}" in output


def test_validate_utf8_sig_for_excel(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "--output", str(out), "--encoding", "utf-8-sig")
    assert code == 0, output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert out.read_bytes().decode("utf-8-sig").splitlines()[1].startswith("AP01,accepted,,,")


def test_strict_mode_shows_no_comparison(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out), "--strict")
    assert code == 0, output
    assert "厳密照合（--strict）" in output
    assert "正規化の効果" not in output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("AP01,rejected,04,04 05,")


def test_an_unreadable_file_exits_1_and_writes_nothing(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", "application_id,unknown\r\nAP1,x\r\n")
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out))
    assert code == 1
    assert "不明な列です" in output
    assert not out.exists()


def test_works_on_an_empty_registry_in_a_fresh_home(home: Path, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out))
    assert code == 0, output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("AP01,rejected,01,01,")
