"""`shadan switching expire | withdraw | status`: the stored applications of a switch (docs/switching.md).

Registered into the `switching` group by cli/switching.py. The command line acts as the operator, for
every area; times are shown in Japan time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shadan.cli.command_support import built, jst_cell, operator_account
from shadan.domain.switching_case import HistoryEntry
from shadan.services.switching_cases import SupplyPointCase
from shadan.services.switching_events import SwitchingActor
from shadan.web.labels import value_label

if TYPE_CHECKING:
    from shadan.bootstrap import Shadan


@contextmanager
def operator(console: Console) -> Iterator[tuple[Shadan, SwitchingActor]]:
    """The container and the operator as actor; a refusal (bad file, replay, locked) is printed, exit 1."""
    with built(console) as shadan:
        yield shadan, SwitchingActor(operator_account())


def register(app: typer.Typer) -> None:
    app.command("expire")(expire)
    app.command("withdraw")(withdraw)
    app.command("status")(status)


def expire() -> None:
    """マッチング期限（営業日）を過ぎた申込を期限切れにする（廃止取次の供給地点は通常に戻る）。"""
    console = Console()
    with operator(console) as (shadan, actor):
        expired = shadan.switching_cases.expire(actor)
    if expired:
        console.print(_history_table(expired, "期限切れにした申込"))
    console.print(f"期限切れにした申込: {len(expired):,} 件。")


def withdraw(
    application_id: Annotated[str, typer.Argument(metavar="APPLICATION_ID", help="取り下げる申込の申込番号")],
    retailer: Annotated[str, typer.Option("--retailer", help="申込の新小売事業者コード")],
    reason: Annotated[str, typer.Option("--reason", help="取下げの理由（履歴に残る）")],
) -> None:
    """マッチング前の申込を取り下げる（マッチング済みの申込は取り下げられない）。"""
    console = Console()
    with operator(console) as (shadan, actor):
        changes = shadan.switching_cases.withdraw(application_id, retailer, reason, actor)
    console.print(_history_table(changes, "取り下げた申込"))


def status(
    supply_point_id: Annotated[str, typer.Argument(metavar="SUPPLY_POINT_ID", help="供給地点特定番号")],
) -> None:
    """供給地点のスイッチングの状態と、申込・状態変更の履歴（日本時間）を表示する。"""
    console = Console()
    with operator(console) as (shadan, actor):
        case = shadan.switching_cases.status(supply_point_id, actor)
    console.print(f"供給地点 {case.supply_point_id}: {value_label(case.status)}（{case.status.value}）")
    console.print(_applications_table(case))
    console.print(_history_table(case.history, "履歴"))


def _applications_table(case: SupplyPointCase) -> Table:
    table = Table(title="申込")
    for header in ("申込番号", "種別", "新小売事業者", "日付", "受付日時（JST）", "結果", "状態", "期限"):
        table.add_column(header)
    for row in case.rows:
        record = row.record
        table.add_row(
            escape(record.application_id),
            record.half.label,
            escape(record.new_retailer_code),
            str(record.switch_date or ""),
            jst_cell(record.received_at),
            f"{record.result.label} {' '.join(c.value for c in record.error_codes)}".strip(),
            record.state.label,
            str(case.deadlines.get(row.row_id, "")),
        )
    return table


def _history_table(entries: list[HistoryEntry] | tuple[HistoryEntry, ...], title: str) -> Table:
    table = Table(title=title)
    for header in ("日時（JST）", "申込番号", "種別", "状態", "供給地点の状態", "操作者", "理由"):
        table.add_column(header)
    for entry in entries:
        table.add_row(
            jst_cell(entry.changed_at),
            escape(entry.application_id),
            entry.half.label,
            entry.state.label,
            value_label(entry.registry_status),
            escape(entry.changed_by),
            escape(entry.reason),
        )
    return table
