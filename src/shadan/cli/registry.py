"""`shadan registry import`: load the registry files (DESIGN §5.1) with a progress bar and a report.

Exit code 0 when every given file was imported (with --skip-invalid, possibly without its bad rows), 1 when
any file was refused whole, 2 on a usage error (Typer's convention).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shadan.cli.command_support import built, operator_account
from shadan.services.registry_import import (
    FileImportResult,
    ImportOutcome,
    ImportSource,
    RegistryImportService,
)
from shadan.services.registry_rows import RegistryFile

app = typer.Typer(help="登録簿（供給地点・小売電気事業者・検針カレンダー）", no_args_is_help=True)


@app.callback()
def registry() -> None:
    """登録簿（供給地点・小売電気事業者・検針カレンダー）"""  # a group, even while it has one command


OUTCOME_LABELS: dict[ImportOutcome, str] = {
    ImportOutcome.IMPORTED: "[green]取込済み[/green]",
    ImportOutcome.PARTIAL: "[yellow]一部取込（不正行を除外）[/yellow]",
    ImportOutcome.REJECTED: "[red]取込なし（ファイルごと不採用）[/red]",
}


@app.command("import")
def import_(
    supply_points: Annotated[
        Path | None,
        typer.Option(
            "--supply-points",
            exists=True,
            dir_okay=False,
            readable=True,
            help="supply_points.csv（供給地点）",
        ),
    ] = None,
    retailers: Annotated[
        Path | None,
        typer.Option(
            "--retailers", exists=True, dir_okay=False, readable=True, help="retailers.csv（小売電気事業者）"
        ),
    ] = None,
    calendar: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            exists=True,
            dir_okay=False,
            readable=True,
            help="reading_calendar.csv（検針カレンダー）",
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="不正な行を除いて取り込む（既定はファイルごと不採用）")
    ] = False,
    show_errors: Annotated[
        int, typer.Option("--show-errors", min=0, help="画面に表示する不正行の上限（ファイルごと）")
    ] = 200,
    errors_csv: Annotated[
        Path | None, typer.Option("--errors-csv", dir_okay=False, help="不正行の一覧をすべてCSVに書き出す")
    ] = None,
) -> None:
    """登録簿ファイルを取り込む（1つ以上。小売電気事業者 → 検針カレンダー → 供給地点の順に処理）。"""
    paths = {
        RegistryFile.SUPPLY_POINTS: supply_points,
        RegistryFile.RETAILERS: retailers,
        RegistryFile.READING_CALENDAR: calendar,
    }
    sources = [
        ImportSource(kind, str(path), path.read_bytes()) for kind, path in paths.items() if path is not None
    ]
    if not sources:
        raise typer.BadParameter(
            "--supply-points, --retailers, --calendar のいずれか1つ以上を指定してください。"
        )
    console = Console()
    with built(console) as shadan:
        results = _run(shadan.registry_import, sources, skip_invalid, console)
    report(results, console, show_errors)
    if errors_csv is not None:
        write_errors_csv(results, errors_csv)
        console.print(f"不正行の一覧を {escape(str(errors_csv))} に書き出しました。")
    if any(r.outcome is ImportOutcome.REJECTED for r in results):
        raise typer.Exit(1)


def _run(
    service: RegistryImportService, sources: Sequence[ImportSource], skip_invalid: bool, console: Console
) -> tuple[FileImportResult, ...]:
    with _progress(console) as progress_for:
        return service.import_files(
            sources, operator_account(), skip_invalid=skip_invalid, progress_for=progress_for
        )


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[RegistryFile], Callable[[int, int], None]]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:

        def progress_for(kind: RegistryFile) -> Callable[[int, int], None]:
            task = progress.add_task(f"{kind.label}（{kind.value}.csv）", total=None)

            def update(total: int, done: int) -> None:
                progress.update(task, total=total, completed=done)

            return update

        yield progress_for


def report(results: Sequence[FileImportResult], console: Console, show_errors: int) -> None:
    summary = Table(title="取込結果")
    for header in ("ファイル", "文字コード", "読込行数", "登録件数", "不正行数", "結果"):
        summary.add_column(header)
    for r in results:
        summary.add_row(
            escape(r.source_name),
            r.encoding or "不明",
            str(r.rows_read),
            str(r.rows_written),
            str(r.rows_rejected),
            OUTCOME_LABELS[r.outcome],
        )
    console.print(summary)
    for r in results:
        if r.rejected:
            console.print(_errors_table(r, show_errors))
            if len(r.rejected) > show_errors:
                console.print(
                    f"… ほか {len(r.rejected) - show_errors} 件（--errors-csv ですべて書き出せます）"
                )


def _errors_table(result: FileImportResult, limit: int) -> Table:
    table = Table(title=f"不正な行: {escape(result.source_name)}")
    table.add_column("行", justify="right")
    table.add_column("列")
    table.add_column("理由")
    for error in result.rejected[:limit]:
        table.add_row(str(error.line), escape(error.column), escape(error.reason))
    return table


def write_errors_csv(results: Sequence[FileImportResult], path: Path) -> None:
    # UTF-8 with BOM: Excel, where these lists are usually read, then detects the encoding.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "reason"])
        for r in results:
            writer.writerows([r.source_name, e.line, e.column, e.reason] for e in r.rejected)
