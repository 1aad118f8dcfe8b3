"""`shadan load` and `shadan account` over the identity services (bootstrap replaced by the test's)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from identity_support import COMPANIES_CSV, STAFF_CSV, Identity
from typer.testing import CliRunner

import shadan.cli.identity as cli
from shadan import bootstrap


class _Services:
    def __init__(self, identity: Identity) -> None:
        self.accounts = identity.accounts
        self.transfers = identity.transfers
        self.hr_master = identity.hr

    def close(self) -> None:
        pass


@pytest.fixture
def app(identity: Identity, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(bootstrap, "build", lambda _settings: _Services(identity))  # imported when run
    app = typer.Typer()
    cli.register(app)
    return app


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_load_takes_companies_first_and_reports_counts(app: typer.Typer, tmp_path: Path) -> None:
    staff = _write(tmp_path, "staff.csv", STAFF_CSV, "cp932")
    companies = _write(tmp_path, "companies.csv", COMPANIES_CSV)
    result = CliRunner().invoke(app, ["load", staff, companies])
    assert result.exit_code == 0, result.output
    assert "アカウント 追加" in result.output
    again = CliRunner().invoke(app, ["load", companies, staff])
    assert again.exit_code == 0
    assert again.output.count("変更はありません") == 2


def test_load_with_bad_rows_exits_1_and_names_line_and_column(app: typer.Typer, tmp_path: Path) -> None:
    companies = _write(tmp_path, "companies.csv", COMPANIES_CSV)
    staff = _write(tmp_path, "staff.csv", STAFF_CSV.replace("2023-10-01", "2023/10/01"))
    result = CliRunner().invoke(app, ["load", companies, staff])
    assert result.exit_code == 1
    assert "4行目 列「valid_from」" in result.output
    assert "ファイルごと不採用" in result.output


def test_a_value_that_looks_like_console_markup_is_shown_as_it_is(app: typer.Typer, tmp_path: Path) -> None:
    """The errors name the file's values; rich would read "[/x]" as a closing tag and stop the command."""
    companies = _write(tmp_path, "companies.csv", COMPANIES_CSV)
    staff = _write(tmp_path, "staff.csv", STAFF_CSV.replace("2023-10-01", "[/x]2023-10-01"))
    result = CliRunner().invoke(app, ["load", companies, staff])
    assert result.exit_code == 1, result.output
    assert "[/x]2023-10-01" in result.output


def test_account_commands(app: typer.Typer, tmp_path: Path, identity: Identity) -> None:
    runner = CliRunner()
    runner.invoke(
        app, ["load", _write(tmp_path, "c.csv", COMPANIES_CSV), _write(tmp_path, "s.csv", STAFF_CSV)]
    )
    refused = runner.invoke(app, ["account", "create", "kyotsu01", "--person", "p002"])
    assert refused.exit_code == 1
    assert "共用ID" in refused.output
    password = "Umeda-Sky-Building-Evening-42"
    done = runner.invoke(app, ["account", "set-password", "m.sato"], input=f"{password}\n{password}\n")
    assert done.exit_code == 0, done.output
    assert password not in done.output
    totp = runner.invoke(app, ["account", "enroll-totp", "k.tanaka"])
    assert "otpauth://totp/" in totp.output
    moved = runner.invoke(
        app,
        [
            "account",
            "transfer",
            "p001",
            "--company",
            "aff06",
            "--department",
            "営業本部",
            "--role",
            "retail_staff",
            "--effective",
            "2025-06-02",
        ],
    )
    assert moved.exit_code == 0, moved.output
    assert "異動しました" in moved.output
    assert runner.invoke(app, ["account", "disable", "m.sato", "--reason", "退職"]).exit_code == 0
    assert runner.invoke(app, ["account", "unlock", "nobody.here"]).exit_code == 1
