"""`shadan switching validate | submit | start`: 廃止取次 and 開始申込 files against the registry (DESIGN §5).

`validate` is a dry run; `submit` and `start` store the applications and match them (docs/switching.md).
The command line acts as the operator, for every area. Exit code 0 when the file was checked (whatever the
results), 1 when the file itself could not be read or was refused (encoding, header, a replay), 2 on a
usage error (Typer's convention).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shadan.cli.command_support import operator_account, progress_bar
from shadan.cli.switching_cases import operator
from shadan.cli.switching_cases import register as register_cases
from shadan.cli.switching_stats import comparison_table
from shadan.cli.switching_stats import register as register_stats
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState
from shadan.services.switching import ValidationSummary
from shadan.services.switching_cases import SubmissionReport
from shadan.services.switching_files import ApplicationResult, ResultEncoding, write_results

app = typer.Typer(help="スイッチング（廃止取次・開始申込・マッチング）", no_args_is_help=True)
register_stats(app)  # `shadan switching stats` and `shadan switching fraud` (cli/switching_stats.py)
register_cases(app)  # `expire`, `withdraw` and `status` (cli/switching_cases.py)

CHECKING = "申込の照合"


def _csv_file(metavar: str, help: str) -> Any:
    return typer.Argument(exists=True, dir_okay=False, readable=True, metavar=metavar, help=help)


_OUTPUT = typer.Option("--output", "-o", dir_okay=False, metavar="RESULTS.csv", help="結果CSVの書き出し先")
ApplicationsFile = Annotated[Path, _csv_file("APPS.csv", "廃止取次の申込CSV")]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="名義・住所を NFKC と空白除去だけで照合する（従来どおり）")
]
EncodingOption = Annotated[
    ResultEncoding,
    typer.Option("--encoding", help="結果CSVの文字コード（Excel で開くなら utf-8-sig または cp932）"),
]
OutputOption = Annotated[Path | None, _OUTPUT]


@app.callback()
def switching() -> None:
    """スイッチング（廃止取次・開始申込・マッチング）"""


@app.command("validate")
def validate(
    applications: ApplicationsFile,
    output: Annotated[Path, _OUTPUT],
    strict: StrictOption = False,
    encoding: EncodingOption = ResultEncoding.UTF8,
) -> None:
    """廃止取次の申込を登録簿と照合する（確認のみ。登録簿は変更しない）。"""
    data = applications.read_bytes()
    console = Console()
    with operator(console) as (shadan, _actor), progress_bar(console, CHECKING) as update:
        report = shadan.switching.validate(
            data, operator_account(), strict=strict, source_name=applications.name, progress=update
        )
    _write(report.results, output, encoding, console)
    print_summary(report.summary, console)


@app.command("submit")
def submit(
    applications: ApplicationsFile,
    strict: StrictOption = False,
    output: OutputOption = None,
    encoding: EncodingOption = ResultEncoding.UTF8,
) -> None:
    """廃止取次の申込を照合して登録する（受付可の申込はマッチング待ちに、供給地点は廃止受付中になる）。"""
    data = applications.read_bytes()
    console = Console()
    with operator(console) as (shadan, actor), progress_bar(console, CHECKING) as update:
        report = shadan.switching_cases.submit(
            data, actor, strict=strict, source_name=applications.name, progress=update
        )
    _stored(report, output, encoding, console)


@app.command("start")
def start(
    applications: Annotated[Path, _csv_file("STARTS.csv", "開始申込のCSV")],
    output: OutputOption = None,
    encoding: EncodingOption = ResultEncoding.UTF8,
) -> None:
    """開始申込を照合して登録し、マッチング待ちの廃止取次とマッチングする。"""
    data = applications.read_bytes()
    console = Console()
    with operator(console) as (shadan, actor), progress_bar(console, CHECKING) as update:
        report = shadan.switching_cases.start(data, actor, source_name=applications.name, progress=update)
    _stored(report, output, encoding, console)


def _write(
    results: tuple[ApplicationResult, ...], output: Path, encoding: ResultEncoding, console: Console
) -> None:
    with output.open("wb") as out:
        write_results(results, out, encoding)
    console.print(f"結果を {escape(str(output))}（{encoding.value}）に書き出しました。")


def _stored(
    report: SubmissionReport, output: Path | None, encoding: ResultEncoding, console: Console
) -> None:
    if output is not None:
        _write(report.results, output, encoding, console)
    if report.summary is not None:
        print_summary(report.summary, console)
    pending = sum(1 for r in report.rows if r.record.state is CaseState.PENDING)
    console.print(
        f"申込登録番号 {report.submission_id}（{report.submission.half.label}）を登録しました: "
        f"マッチング待ち {pending:,} 件、マッチング成立 {report.matched:,} 件、"
        f"期限切れにした申込 {report.expired:,} 件。"
    )


def print_summary(summary: ValidationSummary, console: Console) -> None:
    console.print(_results_table(summary))
    if summary.primary:
        console.print(_codes_table(summary))
    if summary.comparison is not None:
        comparison = comparison_table(
            "正規化の効果（同じ申込を --strict で照合した場合との比較）",
            summary.comparison,
            name=summary.listed.get(ErrorCode.NAME, 0),
            address=summary.listed.get(ErrorCode.ADDRESS, 0),
            rejected=summary.by_result.get(ResultKind.REJECTED, 0),
        )
        console.print(comparison)
    if summary.unbounded_windows:
        console.print(
            f"[yellow]検針カレンダーに次々回検針日がない申込が {summary.unbounded_windows:,} 件あります"
            "（廃止年月日の上限を確認できません）。"
            "reading_calendar.csv で検針日程を延長してください。[/yellow]"
        )


def _results_table(summary: ValidationSummary) -> Table:
    mode = "厳密照合（--strict）" if summary.strict else "正規化して照合"
    table = Table(title=f"照合結果: {escape(summary.source_name)}（{summary.encoding}、{mode}）")
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


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "-"
