"""The `shadan` command: a thin Typer front over the services that bootstrap builds.

Each command imports the composition root (`shadan.bootstrap`, and the web stack for `serve` and `demo`)
when it runs, not at the CLI's start: `--help` and a usage error need none of the database, analysis and
web libraries it loads, and a command needs the web stack only to serve (together about a second of every
start on the reference machine).
"""

from __future__ import annotations

import typer

from shadan.cli.audit import app as audit_app
from shadan.cli.db import app as db_app
from shadan.cli.demo import demo
from shadan.cli.identity import register as register_identity
from shadan.cli.registry import app as registry_app
from shadan.cli.serve import serve_command
from shadan.cli.switching import app as switching_app
from shadan.cli.witness import app as witness_app

app = typer.Typer(
    name="shadan",
    help="shadan (情報遮断): information firewall for T&D operators.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(audit_app, name="audit")
app.add_typer(switching_app, name="switching")
app.add_typer(witness_app, name="witness")
register_identity(app)
app.command("demo")(demo)
app.command("serve")(serve_command)
