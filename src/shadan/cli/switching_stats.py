"""`shadan switching stats` and `shadan switching fraud`: the statistics and fraud signals of the stored
applications, as the operating-system user on the operator's own database (every area in it).

Exit code 0 when shown (and written), 1 when the access log or the database fails, 2 on a usage error
(a bad date, period or output name: Typer's convention). Every run is an access event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shadan.cli.command_support import built, operator_account
from shadan.domain.switching import ErrorCode
from shadan.domain.vocabulary import Action
from shadan.services.exports import ExportFormat, export
from shadan.services.switching import StrictComparison
from shadan.services.switching_fraud import FraudSignals
from shadan.services.switching_fraud_signals import Heuristic, explain
from shadan.services.switching_oversight import ViewRequest
from shadan.services.switching_periods import Period
from shadan.services.switching_stats import PeriodStatistics, SwitchingStatistics, statistics_table

OUTPUT_FORMATS = {".csv": ExportFormat.CSV, ".xlsx": ExportFormat.XLSX}

FromOption = Annotated[
    str, typer.Option("--from", metavar="YYYY-MM-DD", help="開始日（日本時間、この日を含む）")
]
ToOption = Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="終了日（日本時間、この日を含む）")]
PeriodOption = Annotated[Period, typer.Option("--period", help="集計単位（month・week・day）")]


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("fraud")(fraud)


def stats(
    first: FromOption,
    last: ToOption,
    period: PeriodOption = Period.MONTH,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, metavar="FILE.xlsx|FILE.csv", help="表の書き出し先"),
    ] = None,
) -> None:
    """廃止取次のエラーコード別の件数と比率、--strict との比較を期間別に集計する。"""
    fmt = _output_format(output)
    console = Console()
    with built(console, bad_input_exit=2) as shadan:
        action = Action.EXPORT if output else Action.SEARCH
        result = shadan.switching_stats.operator_statistics(
            operator_account(), ViewRequest(first, last, period.value), action
        )
    _print_statistics(result, console)
    if output is not None and fmt is not None:
        output.write_bytes(export(statistics_table(result), fmt))
        console.print(f"表を {escape(str(output))} に書き出しました。")


def fraud(first: FromOption, last: ToOption, period: PeriodOption = Period.MONTH) -> None:
    """不正の兆候（申込件数の突出、取下げ・期限切れ、02・04の集中、光熱費込み賃貸物件の可能性）を示す。"""
    console = Console()
    with built(console, bad_input_exit=2) as shadan:
        found = shadan.switching_fraud.operator_signals(
            operator_account(), ViewRequest(first, last, period.value)
        )
    _print_signals(found, console)


def _output_format(output: Path | None) -> ExportFormat | None:
    if output is None:
        return None
    fmt = OUTPUT_FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(
            "書き出し先は .xlsx か .csv で終わる名前にしてください。", param_hint="--output"
        )
    return fmt


def _print_statistics(result: SwitchingStatistics, console: Console) -> None:
    total = result.total
    range_text = f"{result.range.first.isoformat()}〜{result.range.last.isoformat()}"
    console.print(
        f"スイッチング統計 {range_text}（{result.period.label}）: 廃止取次 {total.applications:,}件、"
        f"受付可 {total.accepted:,}件、エラー {total.rejected:,}件、記入不備 {total.invalid:,}件"
    )
    console.print(_codes_table(total))
    console.print(_periods_table(result))
    console.print(
        comparison_table(
            "正規化の効果（--strict との比較、全期間）",
            total.strict,
            name=total.listed_name,
            address=total.listed_address,
            rejected=total.rejected,
        )
    )


def _codes_table(total: PeriodStatistics) -> Table:
    table = Table(title="エラーコード別（全期間。比率はエラー件数に対する主エラーの割合）")
    for header in ("コード", "項目名", "件数", "エラー原因の比率", "該当件数"):
        table.add_column(header, justify="left" if header in ("コード", "項目名") else "right")
    for count in total.codes:
        share = "-" if count.percent is None else f"{count.percent:.1f}%"
        table.add_row(count.code.value, count.code.label, f"{count.primary:,}", share, f"{count.listed:,}")
    return table


def _periods_table(result: SwitchingStatistics) -> Table:
    table = Table(title=f"{result.period.label}の内訳（件数は廃止取次、回避は --strict との差）")
    headers = ("期間", "件数", "受付可", "エラー", "不備", "04回避", "05回避", "回避計")
    for header in headers:
        table.add_column(header, justify="left" if header == "期間" else "right", no_wrap=True)
    for p in result.periods:
        strict = p.strict
        counts = (p.applications, p.accepted, p.rejected, p.invalid)
        avoided = (strict.avoided_name, strict.avoided_address, strict.avoided_rejections)
        table.add_row(p.name, *(f"{n:,}" for n in (*counts, *avoided)))
    return table


def comparison_table(
    title: str, strict: StrictComparison, *, name: int, address: int, rejected: int
) -> Table:
    """--strict against normalisation: the applications listing 04, 05 and the rejections under each
    (`name`, `address` and `rejected` are the normalised figures); validate prints the same table."""
    table = Table(title=title)
    for header in ("", "--strict", "正規化", "回避できた件数"):
        table.add_column(header, justify="left" if not header else "right")
    rows = (
        (ErrorCode.NAME.short_label, strict.name_rejections, name, strict.avoided_name),
        (ErrorCode.ADDRESS.short_label, strict.address_rejections, address, strict.avoided_address),
        ("エラー（rejected）合計", strict.rejected, rejected, strict.avoided_rejections),
    )
    for label, before, after, avoided in rows:
        table.add_row(label, f"{before:,}", f"{after:,}", f"{avoided:,}")
    return table


def _print_signals(found: FraudSignals, console: Console) -> None:
    range_text = f"{found.range.first.isoformat()}〜{found.range.last.isoformat()}"
    console.print(
        f"不正の兆候 {range_text}: 廃止取次 {found.applications:,}件から {len(found.signals)}件"
        "（人が確認するための兆候で、自動的な判定ではありません）"
    )
    for heuristic in Heuristic:
        signals = found.of(heuristic)
        console.print(
            f"\n[bold]{heuristic.label}（{len(signals)}件）[/bold]\n{explain(heuristic, found.rules)}"
        )
        if not signals:
            continue
        table = Table()
        for header in ("小売事業者", "担当者", "期間", "供給地点特定番号", "申込番号", "理由"):
            table.add_column(header)
        for s in signals:
            ids = (" ".join(s.supply_point_ids), " ".join(s.application_ids))
            table.add_row(*(escape(cell) for cell in (s.retailer_code, s.staff, s.period, *ids, s.reason)))
        console.print(table)
