"""The `shadan` program's entry module: it runs the command line, and importing it loads none of it (the
worker processes of verification import it again when they start)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_the_console_script_is_the_entry_module() -> None:
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"shadan": "shadan.__main__:main"}


def test_python_m_shadan_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shadan", "audit", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: shadan audit" in done.stdout


def test_importing_the_entry_module_loads_no_command() -> None:
    probe = "import sys, shadan.__main__; print(sorted(m for m in sys.modules if m.startswith('shadan.')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['shadan.__main__']"


def test_the_command_line_starts_without_the_composition_root() -> None:
    """Each command imports bootstrap and the settings (and the web stack, for `serve` and `demo`) when it
    runs: `--help` and a usage error load none of the database, analysis and web libraries."""
    heavy = (
        "shadan.bootstrap",
        "shadan.config",
        "pydantic_settings",
        "sqlalchemy",
        "shadan.web.app",
        "fastapi",
        "uvicorn",
        "pyarrow",
        "duckdb",
        "openpyxl",
        "faker",
    )
    probe = f"import sys, shadan.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_proof_is_checked_without_the_composition_root(tmp_path: Path) -> None:
    """`verify-proof` is built by shadan.offline: no settings, no database, no archive libraries load."""
    proof, key = tmp_path / "event.tlog-proof", tmp_path / "log.pub"
    proof.write_text("hello\n")
    key.write_text("log.example+01234567+AQ==\n")
    heavy = ("shadan.bootstrap", "shadan.config", "sqlalchemy", "cedarpy", "pyarrow", "duckdb", "fastapi")
    probe = (
        "import sys; from typer.testing import CliRunner; from shadan.cli.main import app; "
        f"done = CliRunner().invoke(app, ['audit', 'verify-proof', {str(proof)!r}, '--key', {str(key)!r}]); "
        "print(done.exit_code, 'shadan.audit.proof_checker' in sys.modules, "
        f"[m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    code, checked, loaded = done.stdout.strip().split(" ", 2)
    assert 30 <= int(code) <= 34  # refused (a documented verify-proof code), by the proof checker itself
    assert (checked, loaded) == ("True", "[]")
