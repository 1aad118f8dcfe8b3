"""Helpers of the switching CLI tests: `shadan …` run in this process, input files, and the test registry
(tests/integration/switching/switching_registry.py) imported by the CLI as an operator would."""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from shadan.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "switching"))
from switching_registry import CALENDAR_CSV, POINTS_CSV, RETAILERS_CSV


def shadan(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def import_registry(directory: Path) -> None:
    """`shadan registry import` of the test registry, its files written to `directory`."""
    code, output = shadan(
        "registry",
        "import",
        "--retailers",
        write(directory / "r.csv", RETAILERS_CSV),
        "--calendar",
        write(directory / "c.csv", CALENDAR_CSV),
        "--supply-points",
        write(directory / "sp.csv", POINTS_CSV, "cp932"),
    )
    assert code == 0, output
