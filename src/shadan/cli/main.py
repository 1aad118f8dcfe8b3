"""The `shadan` command: a thin Typer front over the services that bootstrap builds."""

from __future__ import annotations

import typer

from shadan.cli.db import app as db_app

app = typer.Typer(
    name="shadan",
    help="shadan (情報遮断): information firewall for T&D operators.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")


def main() -> None:  # pragma: no cover - console entry
    app()
