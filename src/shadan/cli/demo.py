"""`shadan demo`: build the synthetic operator, print the demo logins and the scenario, serve the web UI."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from shadan.cli.command_support import os_user
from shadan.domain.errors import DomainError
from shadan.services.identity import Actor
from shadan.services.synthetic.defaults import DEFAULT_SEED, DEFAULT_SIZE

if TYPE_CHECKING:
    from shadan.bootstrap import Shadan
    from shadan.services.demo import DemoOptions, DemoSummary
    from shadan.services.demo_world import StageProgress

console = Console()


def demo(
    size: Annotated[
        int, typer.Option("--size", min=1, max=10_000_000, help="合成する供給地点の数")
    ] = DEFAULT_SIZE,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="概要の表示後にWeb画面を起動する")] = True,
    host: Annotated[str, typer.Option(help="Web画面の待受アドレス")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Web画面の待受ポート")] = 8000,
    seed: Annotated[int, typer.Option(help="乱数の種（同じ種なら同じデータ）")] = DEFAULT_SEED,
) -> None:
    """合成の一般送配電事業者（関西エリア 06）を作り、デモの流れを実行して、Web画面を起動します。"""
    # The services, the demo and the web stack are imported here: other commands start without them.
    from shadan.bootstrap import build
    from shadan.cli.demo_report import print_summary
    from shadan.cli.serve import serve as serve_web
    from shadan.config import Settings
    from shadan.services.demo import DemoOptions

    settings = Settings()
    shadan = build(settings)
    try:
        options = DemoOptions(settings.home, _fingerprint(settings.resolved_database_url), size, seed)
        summary = _run(shadan, options)
        print_summary(console, summary, settings)
        if serve:
            console.print(f"\n[bold]Web画面: http://{host}:{port}/[/bold]（Ctrl+C で終了）")
            serve_web(shadan, host, port)
    finally:
        shadan.close()


def _run(shadan: Shadan, options: DemoOptions) -> DemoSummary:
    from shadan.offline import build_proof_checker
    from shadan.services.demo import DemoLogTools, run_demo

    actor = Actor.operator(f"demo:{os_user()}")
    tools = DemoLogTools(shadan.audit_log, build_proof_checker())
    try:
        with _progress() as progress:
            return run_demo(shadan, tools, options, actor, progress)
    except DomainError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None


@contextmanager
def _progress() -> Iterator[StageProgress]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, total: int, done: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], total=max(total, 1), completed=done)

        yield update


def _fingerprint(database_url: str) -> str:
    # The demo state names its database without keeping the URL (which may hold a password).
    return hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]
