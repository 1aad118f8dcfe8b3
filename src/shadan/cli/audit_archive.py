"""`shadan audit archive | verify-archive | retention | hold | set-aside`: the access log's Parquet archive,
its stand-alone check, retention and legal holds, and the removal of an entry the sequencer left out
(docs/access-log.md, "Archive (Parquet)", "Retention and legal hold", "Time spans"): the owner's work.

Exit codes: 0 success; 1 the command could not be carried out; 2 usage error; 40-48 `verify-archive` found
a problem, one code per kind (services.archive_report.ArchiveProblem).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shadan.cli.command_support import built, jst, jst_cell, progress_bar, show_failure, terminal_operator
from shadan.services.archive import ArchiveService, LegalHold, RetentionItem, RetentionPlan, RetentionResult
from shadan.services.archive_report import ArchiveProblem, ArchiveReport

console = Console(soft_wrap=True, highlight=False)
hold_app = typer.Typer(help="法的保全（期間内のアクセスログを削除させない）", no_args_is_help=True)

MINUTES = "%Y-%m-%d %H:%M"  # retention is counted in days: seconds would only clutter the tables


def register(app: typer.Typer) -> None:
    """Add the archive and retention commands to `shadan audit`."""
    app.command("archive")(archive)
    app.command("verify-archive")(verify_archive)
    app.command("retention")(retention)
    app.add_typer(hold_app, name="hold")
    app.command("set-aside")(set_aside)


@contextmanager
def _service() -> Iterator[ArchiveService]:
    from shadan.bootstrap import build_archive

    with built(console) as shadan:
        yield build_archive(shadan)


def archive() -> None:
    """終わった月のアクセスログを Parquet とマニフェストに書き出す（署名済みチェックポイントに結ぶ）。"""
    from shadan.config import Settings

    with _service() as service, progress_bar(console, "アーカイブ中 / archiving") as progress:
        run = service.archive(terminal_operator(), progress)
    directory = escape(str(Settings().resolved_archive_dir))
    if not run.segments:
        console.print(
            "アーカイブする月はありません / nothing to archive (no month is over since the last one)"
        )
        return
    for segment in run.segments:
        console.print(
            f"[green]{segment.segment}[/green]: 葉 {segment.first_leaf:,}〜{segment.end_leaf - 1:,}"
            f"（{segment.event_count:,} 件）"
        )
    console.print(
        f"[green]{len(run.segments)} セグメントを {directory} に書き出しました / segments archived[/green]"
        f"（チェックポイントのサイズ / checkpoint size {run.checkpoint_size:,}）"
    )


def verify_archive(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="アーカイブのディレクトリ")],
    key: Annotated[list[Path], typer.Option("--key", dir_okay=False, help="検証鍵ファイル（複数指定可）")],
) -> None:
    """アーカイブを検証鍵だけで検証する（データベース・設定は使わない）。"""
    from shadan.offline import build_archive_checker

    try:
        keys = [k.read_text(encoding="utf-8") for k in key]
    except (OSError, UnicodeDecodeError) as exc:
        console.print(f"[red]検証鍵ファイルを読めません / cannot read the key file[/red]: {escape(str(exc))}")
        raise typer.Exit(ArchiveProblem.KEY.exit_code) from exc
    with progress_bar(console, "検証中 / verifying") as progress:
        report = build_archive_checker().check(directory, keys, progress)
    _show_archive_report(report)
    raise typer.Exit(report.exit_code)


def retention(
    apply: Annotated[
        bool, typer.Option("--apply", help="期限切れのセグメントを削除する（既定は一覧のみ）")
    ] = False,
) -> None:
    """保存期間を過ぎたセグメントを一覧にする。--apply で丸ごと削除し、署名付きの削除記録を残す。"""
    with _service() as service:
        plan = service.retention_plan()
        _show_plan(plan)
        if not apply or not plan.deletable:
            return
        with progress_bar(console, "削除中 / deleting") as progress:
            result = service.apply_retention(terminal_operator(), progress)
    _show_result(result)


@hold_app.command("add")
def hold_add(
    period_from: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="開始日（JST）")],
    period_to: Annotated[
        dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="終了日（JST、この日を含む）")
    ],
    reason: Annotated[str, typer.Option("--reason", help="理由（事案番号など）")],
) -> None:
    """期間内（JST の日付、両端を含む）のイベントを含むセグメントの削除を止める。"""
    with _service() as service:
        hold = service.place_hold(period_from.date(), period_to.date(), reason, terminal_operator())
    console.print(f"[green]法的保全 #{hold.hold_id} を設定しました / legal hold placed[/green]")
    _show_holds([hold])


@hold_app.command("release")
def hold_release(hold_id: Annotated[int, typer.Argument(min=1, help="法的保全の番号")]) -> None:
    """法的保全を解除する（保存期間を過ぎたセグメントは次の retention --apply で削除される）。"""
    with _service() as service:
        hold = service.release_hold(hold_id, terminal_operator())
    console.print(f"[green]法的保全 #{hold.hold_id} を解除しました / legal hold released[/green]")


@hold_app.command("list")
def hold_list() -> None:
    """法的保全の一覧（解除済みを含む）。"""
    with _service() as service:
        holds = service.holds()
    if not holds:
        console.print("法的保全はありません / no legal holds")
        return
    _show_holds(holds)


def set_aside(
    seq: Annotated[int, typer.Argument(min=1, help="外すエントリの連番")],
    reason: Annotated[str, typer.Option("--reason", help="理由（事案番号など）")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="エントリの本文を保存するファイル（既存のファイルには書かない）"),
    ],
) -> None:
    """順序付けで読めず木から外されたエントリの行を、記録を残して取り除く（本文は先にファイルへ保存）。"""
    from shadan.bootstrap import build_entry_set_aside

    with built(console) as shadan:
        service = build_entry_set_aside(shadan)
        entry = service.entry(seq)
        _keep(entry.stored, output)
        service.set_aside(entry, reason, terminal_operator())
    console.print(f"[green]連番 {seq} のエントリを外しました / entry set aside[/green]")
    console.print(f"SHA-256 {entry.sha256}, {len(entry.stored):,} bytes → {escape(str(output))}")


def _keep(stored: bytes, path: Path) -> None:
    """The entry's bytes as evidence, before its row goes; never over an existing file."""
    try:
        with path.open("xb") as file:
            file.write(stored)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        reason = escape(exc.strerror or type(exc).__name__)
        console.print(f"[red]{escape(str(path))} に書けません: {reason}（エントリは外していません）[/red]")
        raise typer.Exit(1) from exc


def _show_archive_report(report: ArchiveReport) -> None:
    summary = (
        f"ログ {escape(report.origin)}: セグメント {report.segments_checked} 件、イベント"
        f" {report.events_checked:,} 件、削除記録 {report.deletions_checked} 件を検証"
    )
    if report.ok:
        console.print(f"[green]アーカイブの検証に成功しました / archive verified[/green] — {summary}")
        return
    console.print(f"[red]アーカイブに問題があります / archive rejected[/red] — {summary}")
    for failure in report.failures:
        show_failure(
            console, failure.kind.titles, failure.kind.exit_code, failure.detail_ja, failure.detail_en
        )


def _show_plan(plan: RetentionPlan) -> None:
    console.print(
        f"保存期間 / retention: {plan.years} 年（月末から起算 / from the end of each month）、"
        f"基準日時 / as of {jst(plan.now, MINUTES)}"
    )
    if not plan.expired:
        console.print("保存期間を過ぎたセグメントはありません / no segment has expired")
        return
    table = Table("セグメント", "葉", "件数", "期限（JST）", "状態 / status")
    for item in plan.expired:
        segment = item.segment
        status = _why_kept(item) if item.kept else "[green]削除可 / deletable[/green]"
        table.add_row(
            segment.segment,
            f"{segment.first_leaf:,}〜{segment.end_leaf - 1:,}",
            f"{segment.event_count:,}",
            jst_cell(item.expired_at, MINUTES),
            status,
        )
    console.print(table)


def _show_result(result: RetentionResult) -> None:
    for deleted in result.deleted:
        console.print(
            f"[green]{deleted.segment} を削除しました / deleted[/green]: 葉 {deleted.first_leaf:,}〜"
            f"{deleted.end_leaf - 1:,}（{deleted.event_count:,} 件）、署名付き削除記録を保存"
        )
    for item in result.kept:
        console.print(f"{item.segment.segment} は削除しません / kept: {_why_kept(item)}")


def _why_kept(item: RetentionItem) -> str:
    if item.hold is not None:
        return f"[yellow]法的保全 #{item.hold.hold_id} により保留 / held[/yellow]: {escape(item.hold.reason)}"
    seqs = ", ".join(str(seq) for seq in item.left_out)
    return (
        f"[yellow]木から外されたエントリ（連番 {seqs}）の記録を含むため保留 / keeps the record of entries"
        " left out of the tree[/yellow]: 行が残るエントリは shadan audit set-aside で外してください"
        "（外した記録は元の記録が消えるまで、行が記録なしに消えたエントリの記録はずっと残します。"
        "shadan audit verify で確かめられます）"
    )


def _show_holds(holds: list[LegalHold]) -> None:
    table = Table("#", "期間（JST）", "理由", "設定 / placed", "解除 / released")
    for hold in holds:
        released = "—" if hold.released_at is None else f"{jst(hold.released_at, MINUTES)} {hold.released_by}"
        table.add_row(
            str(hold.hold_id),
            f"{hold.period_from}〜{hold.period_to}",
            escape(hold.reason),
            f"{jst(hold.placed_at, MINUTES)} {escape(hold.placed_by)}",
            escape(released),
        )
    console.print(table)
