"""`shadan switching validate`: check 廃止取次 applications against the registry (DESIGN §5.2–5.3).

A dry run: the registry is not changed. Exit code 0 when the file was checked (whatever the results),
1 when the file itself could not be read (encoding, header), 2 on a usage error (Typer's convention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shadan.bootstrap import build
from shadan.cli.registry import operator_account
from shadan.config import Settings
from shadan.domain.errors import DomainError
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.services.switching import StrictComparison, ValidationReport, ValidationSummary
from shadan.services.switching_files import ResultEncoding, write_results

app = typer.Typer(help="スイッチング（廃止取次）", no_args_is_help=True)


@app.callback()
def switching() -> None:
    """スイッチング（廃止取次）"""  # a group, even while it has one command


@app.command("validate")
def validate(
    applications: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="APPS.csv", help="廃止取次の申込CSV"
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", dir_okay=False, metavar="RESULTS.csv", help="結果CSVの書き出し先"),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="名義・住所を NFKC と空白除去だけで照合する（従来どおり）")
    ] = False,
    encoding: Annotated[
        ResultEncoding,
        typer.Option("--encoding", help="結果CSVの文字コード（Excel で開くなら utf-8-sig または cp932）"),
    ] = ResultEncoding.UTF8,
) -> None:
    """廃止取次の申込を登録簿と照合する（確認のみ。登録簿は変更しない）。"""
    data = applications.read_bytes()
    console = Console()
    shadan = build(Settings())
    try:
        with _progress(console) as update:
            report = shadan.switching.validate(
                data, operator_account(), strict=strict, source_name=applications.name, progress=update
            )
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        shadan.close()
    with output.open("wb") as out:
        write_results(report.results, out, encoding)
    print_summary(report, console)
    console.print(f"結果を {output}（{encoding.value}）に書き出しました。")


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("申込の照合", total=None)

        def update(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)

        yield update


def print_summary(report: ValidationReport, console: Console) -> None:
    summary = report.summary
    console.print(_results_table(summary))
    if summary.primary:
        console.print(_codes_table(summary))
    if summary.comparison is not None:
        console.print(_comparison_table(summary, summary.comparison))
    if summary.unbounded_windows:
        console.print(
            f"[yellow]検針カレンダーに次々回検針日がない申込が {summary.unbounded_windows:,} 件あります"
            "（廃止年月日の上限を確認できません）。"
            "reading_calendar.csv で検針日程を延長してください。[/yellow]"
        )


def _results_table(summary: ValidationSummary) -> Table:
    mode = "厳密照合（--strict）" if summary.strict else "正規化して照合"
    table = Table(title=f"照合結果: {summary.source_name}（{summary.encoding}、{mode}）")
    for header in ("結果", "件数", "割合"):
        table.add_column(header, justify="left" if header == "結果" else "right")
    for kind in ResultKind:
        count = summary.by_result.get(kind, 0)
        table.add_row(f"{kind.label}（{kind.value}）", f"{count:,}", _share(count, summary.total))
    table.add_row("合計", f"{summary.total:,}", "")
    return table


def _codes_table(summary: ValidationSummary) -> Table:
    rejected = summary.by_result.get(ResultKind.REJECTED, 0)
    table = Table(title="エラーコード別（割合はエラー件数に対する主エラーの比率）")
    for header in ("コード", "項目名", "主エラー（error_code）", "該当（error_codes）", "割合"):
        table.add_column(header, justify="right" if header not in ("コード", "項目名") else "left")
    for code in ErrorCode:
        primary, listed = summary.primary.get(code, 0), summary.listed.get(code, 0)
        table.add_row(code.value, code.label, f"{primary:,}", f"{listed:,}", _share(primary, rejected))
    return table


def _comparison_table(summary: ValidationSummary, strict: StrictComparison) -> Table:
    table = Table(title="正規化の効果（同じ申込を --strict で照合した場合との比較）")
    for header in ("", "--strict", "正規化", "回避できた件数"):
        table.add_column(header, justify="left" if not header else "right")
    now_rejected = summary.by_result.get(ResultKind.REJECTED, 0)
    rows = (
        ("04 名義不一致", strict.name_rejections, summary.listed.get(ErrorCode.NAME, 0), strict.avoided_name),
        (
            "05 住所不一致",
            strict.address_rejections,
            summary.listed.get(ErrorCode.ADDRESS, 0),
            strict.avoided_address,
        ),
        ("エラー（rejected）合計", strict.rejected, now_rejected, strict.avoided_rejections),
    )
    for label, before, after, avoided in rows:
        table.add_row(label, f"{before:,}", f"{after:,}", f"{avoided:,}")
    return table


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "-"
