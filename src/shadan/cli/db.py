"""`shadan db`: schema migrations (run by the owner role on PostgreSQL)."""

from __future__ import annotations

import typer
from rich.console import Console

from shadan.bootstrap import build
from shadan.config import Settings

app = typer.Typer(help="データベース（スキーマの作成・更新）", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or update the schema to the newest revision (SHADAN_MIGRATION_DATABASE_URL if set)."""
    shadan = build(Settings())
    shadan.close()
    Console().print("[green]スキーマは最新です。[/green]")
