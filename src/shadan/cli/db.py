"""`shadan db`: schema migrations (run by the owner role on PostgreSQL) and housekeeping."""

from __future__ import annotations

import typer
from rich.console import Console

from shadan.cli.command_support import built, terminal_operator

app = typer.Typer(help="データベース（スキーマの作成・更新、ログイン状態の整理）", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or update the schema to the newest revision (SHADAN_MIGRATION_DATABASE_URL if set)."""
    console = Console()
    with built(console):
        pass  # building the services migrates the schema
    console.print("[green]スキーマは最新です。[/green]")


@app.command("housekeeping")
def housekeeping() -> None:
    """終了したセッションの記録（保存期間を過ぎたもの）と古い送信元アドレスの失敗回数を削除します。"""
    from shadan.bootstrap import build_housekeeping

    console = Console()
    with built(console) as shadan:
        swept = build_housekeeping(shadan).sweep(terminal_operator())
    console.print(
        f"削除しました: 終了したセッション {swept.sessions:,} 件、"
        f"送信元アドレスの失敗回数 {swept.address_counters:,} 件"
        f" / deleted {swept.sessions:,} ended sessions, {swept.address_counters:,} address counters"
    )
