"""`shadan registry import` end to end in a fresh SHADAN_HOME (embedded SQLite, nothing else set up)."""

from __future__ import annotations

import csv
from pathlib import Path

from registry_files import CALENDAR_CSV, RETAILERS_CSV, point_cells, points_csv
from typer.testing import CliRunner

from shadan.cli.registry import app


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["import", *args])
    return result.exit_code, result.output


def test_fresh_home_imports_all_three_files(home: Path, tmp_path: Path) -> None:
    code, output = run(
        "--supply-points",
        write(tmp_path / "sp.csv", points_csv(range(1, 101)), "cp932"),
        "--retailers",
        write(tmp_path / "r.csv", RETAILERS_CSV),
        "--calendar",
        write(tmp_path / "c.csv", CALENDAR_CSV),
    )
    assert code == 0, output
    assert output.count("取込済み") == 3
    assert "cp932" in output
    assert (home / "shadan.db").exists()


def test_a_rejected_file_exits_1_and_lists_its_rows(home: Path, tmp_path: Path) -> None:
    bad = points_csv([1, 2], [point_cells(3, kind="需要")])
    code, output = run(
        "--retailers",
        write(tmp_path / "r.csv", RETAILERS_CSV),
        "--supply-points",
        write(tmp_path / "sp.csv", bad),
    )
    assert code == 1
    assert "取込なし" in output
    # The retailers file was still imported; the supply points fail twice: no calendar, and a bad kind.
    assert "取込済み" in output
    assert "「需要」は使えません" in output
    assert "検針カレンダーにありません" in output


def test_skip_invalid_exits_0_and_can_write_every_error(home: Path, tmp_path: Path) -> None:
    run(
        "--retailers",
        write(tmp_path / "r.csv", RETAILERS_CSV),
        "--calendar",
        write(tmp_path / "c.csv", CALENDAR_CSV),
    )
    bad = points_csv(range(1, 6), [point_cells(n, voltage="?") for n in range(6, 11)])
    report = tmp_path / "errors.csv"
    code, output = run(
        "--supply-points",
        write(tmp_path / "sp.csv", bad),
        "--skip-invalid",
        "--show-errors",
        "2",
        "--errors-csv",
        str(report),
    )
    assert code == 0, output
    assert "一部取込" in output
    assert "ほか 3 件" in output
    rows = list(csv.DictReader(report.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["line"], r["column"]) for r in rows] == [(str(n), "voltage") for n in range(7, 12)]


def test_at_least_one_file_is_required(home: Path) -> None:
    code, output = run()
    assert code == 2
    assert "いずれか1つ以上" in output


def test_a_value_that_looks_like_console_markup_is_shown_as_it_is(home: Path, tmp_path: Path) -> None:
    """The errors name the file's values; rich would read "[/x]" as a closing tag and stop the command."""
    bad = points_csv([1], [point_cells(2, kind="[/x][bold]需要")])
    code, output = run("--supply-points", write(tmp_path / "sp[1].csv", bad))
    assert code == 1
    assert "「[/x][bold]需要」は使えません" in output
    assert "sp[1].csv" in output
