"""The demo's summary as rich tables (Japanese): data built, demo logins, scenario, access events, and
the tamper-evident log (checkpoint, verification, a proof file to check by hand)."""

from __future__ import annotations

import base64
import shlex
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from shadan.cli.command_support import jst, jst_cell
from shadan.config import Environment, Settings
from shadan.domain.events import AccessEvent
from shadan.domain.registry import FIELD_LABELS, SUPPLY_POINT_FIELDS
from shadan.domain.vocabulary import InfoCategory, Outcome
from shadan.services.demo import DemoSummary, SwitchingShowcase
from shadan.services.demo_log import LogShowcase
from shadan.services.demo_logins import DemoLogin
from shadan.services.demo_scenario import Lookup, ScenarioReport, TransferOutcome
from shadan.web.labels import WITHHELD, value_label

DEV_BYPASS_CODE = "000000"


def print_summary(console: Console, summary: DemoSummary, settings: Settings) -> None:
    console.print(_world_heading(summary))
    console.print(_world_table(summary))
    _print_logins(console, summary.logins, settings)
    _print_scenario(console, summary.scenario)
    console.print(_switching_line(summary.switching))
    _print_log(console, summary.log)
    console.print(f"[dim]所要時間 {summary.seconds:.1f} 秒 ・ データ: {summary.world.directory}[/dim]")


def _world_heading(summary: DemoSummary) -> str:
    world = summary.world
    operator = world.operator
    reused = "（前回のデータを再利用）" if world.reused else ""
    return (
        f"[bold]合成データ: 関西電力送配電（エリア 06）{reused}[/bold]\n"
        f"供給地点 {len(operator.supply_points):,} 件 ・ 小売電気事業者 {len(operator.retailers)} 社 ・ "
        f"社員 {len(operator.staff)} 名 ・ 検針日 {len(operator.reading_days)} 件"
    )


def _switching_line(switching: SwitchingShowcase) -> str:
    if switching.submitted:
        stored = (
            f"廃止取次 {switching.cancellations:,} 件（受付可 {switching.accepted:,}・エラー "
            f"{switching.rejected:,}）、開始申込でマッチング {switching.matched:,} 件、取下げ "
            f"{switching.withdrawn:,} 件を登録しました"
        )
    else:
        stored = "前回登録した申込をそのまま使います"
    return (
        f"[bold]スイッチング:[/bold] {stored}。「託送業務担当」でログインし、/switching/statistics"
        "（スイッチング統計）と /switching/fraud-signals（不正の兆候）を開いてください"
        "（不正の兆候は「内部監査」でも閲覧できます）。"
    )


def _world_table(summary: DemoSummary) -> Table:
    table = Table()
    table.add_column("ファイル")
    table.add_column("行数", justify="right")
    table.add_column("取込")
    for written in summary.world.files:
        status = "取込済み" if written.imported else "変更なし（再利用）"
        table.add_row(written.name, f"{written.rows:,}", status)
    return table


def _print_logins(console: Console, logins: Sequence[DemoLogin], settings: Settings) -> None:
    table = Table(
        title="デモ用ログイン（デモ専用の認証情報です。実運用には使わないでください）", title_justify="left"
    )
    for column in ("用途", "アカウントID", "氏名", "所属", "パスワード", "TOTPシークレット"):
        table.add_column(column, overflow="fold")
    for login in logins:
        table.add_row(
            login.label, login.account_id, login.name, f"{login.company_name}\n{login.department}",
            login.password, login.totp_secret,
        )  # fmt: skip
    console.print(table)
    console.print("[bold]認証アプリ登録用 otpauth URI（デモ用）[/bold]")
    for login in logins:
        console.print(f"  {login.account_id}: {login.totp_uri}", soft_wrap=True)
    console.print(_mfa_note(settings))


def _mfa_note(settings: Settings) -> Panel:
    if settings.dev_mfa_bypass and settings.environment is Environment.DEVELOPMENT:
        text = (
            f"開発環境（SHADAN_DEV_MFA_BYPASS=true）のため、確認コード [bold]{DEV_BYPASS_CODE}[/bold] でも"
            "ログインできます。\nこの設定は開発環境以外では起動時に拒否され、使用はアクセスログに記録されます。"
        )
    else:
        text = (
            "確認コードは、TOTPシークレット（または otpauth URI）を認証アプリに登録すると"
            "表示される6桁の数字です。\n開発環境に限り SHADAN_DEV_MFA_BYPASS=true で 000000 を"
            "受け付けます（開発環境以外では設定できません）。"
        )
    return Panel(text, title="二要素認証（TOTP）", title_align="left")


def _print_scenario(console: Console, report: ScenarioReport) -> None:
    console.print(_lookup_table(report.lookups))
    console.print(_record_table(report))
    console.print(_transfer_panel(report.transfer))
    console.print(_events_table(report.events))


def _categories(categories: Sequence[InfoCategory]) -> str:
    return "、".join(c.label for c in categories) or "—"


def _lookup_table(lookups: Sequence[Lookup]) -> Table:
    table = Table(title="シナリオ1: 供給地点の照会（同じ新電力顧客の1件）", title_justify="left")
    for column in (
        "利用者",
        "利用目的",
        "結果",
        "表示した情報区分",
        "非表示の情報区分",
        "判定ポリシー / 理由",
    ):
        table.add_column(column, overflow="fold")
    for lookup in lookups:
        result = "[green]表示[/green]" if lookup.allowed else "[red]拒否（記録済み）[/red]"
        why = "、".join(lookup.policy_ids) if lookup.allowed else lookup.message
        table.add_row(
            f"{lookup.who}\n{lookup.account_id}", lookup.purpose, result,
            _categories(lookup.shown), _categories(lookup.withheld), why,
        )  # fmt: skip
    return table


def _record_table(report: ScenarioReport) -> Table:
    """The same record side by side, as each allowed reader saw it."""
    readers = [x for x in report.lookups if x.allowed]
    table = Table(title=f"供給地点 {report.target.supply_point_id} の見え方", title_justify="left")
    table.add_column("項目")
    for reader in readers:
        table.add_column(f"{reader.who}（{reader.purpose}）", overflow="fold")
    for name in SUPPLY_POINT_FIELDS:
        values = []
        for reader in readers:
            shown = {f.name: f.value for f in reader.fields}
            values.append(value_label(shown[name]) if name in shown else f"[dim]{WITHHELD}[/dim]")
        table.add_row(FIELD_LABELS[name], *values)
    return table


def _transfer_panel(transfer: TransferOutcome) -> Panel:
    after = (
        f"[red]拒否[/red]（{transfer.message_after}）"
        if transfer.refused_after
        else "[yellow]成功（要確認）[/yellow]"
    )
    text = (
        f"{transfer.name}（{transfer.account_id}）: {transfer.from_company} → "
        f"{transfer.to_company} {transfer.to_department}\n"
        f"異動前の照会: {'成功' if transfer.read_before else '失敗'} ・ "
        f"異動で終了したセッション: {transfer.sessions_revoked} 件 ・ 異動直後の次の要求: {after}"
    )
    return Panel(text, title="シナリオ2: 人事異動でセッションを即時終了", title_align="left")


def _print_log(console: Console, log: LogShowcase) -> None:
    console.print(_log_panel(log))
    console.print("公開鍵だけで証明を確かめるには / to check the proof with the public key alone:")
    command = ["shadan", "audit", "verify-proof", str(log.proof_file), "--key", str(log.key_file)]
    # Unwrapped and unstyled, so that it can be copied as it is.
    console.print(f"  {shlex.join(command)}", markup=False, highlight=False, soft_wrap=True)


def _log_panel(log: LogShowcase) -> Panel:
    head, report = log.checkpoint, log.verification
    verdict = (
        "[green]成功（改ざんなし）[/green]"
        if report.ok
        else f"[red]失敗（終了コード {report.exit_code}、最初の不正な連番 {report.first_bad_seq}）[/red]"
    )
    text = (
        f"木のサイズ: {head.size:,} 件（ログ名 {escape(head.origin)}）\n"
        f"チェックポイント: 根ハッシュ {base64.b64encode(head.root_hash).decode()}"
        f"（{jst(head.created_at)} に署名）\n"
        f"検証: {verdict} ・ イベント {report.events_checked:,} 件、チェックポイント "
        f"{report.checkpoints_checked} 件を計算し直しました\n"
        f"拒否された照会（連番 {log.seq}）の証明ファイル: {escape(str(log.proof_file))}\n"
        f"検証鍵: {escape(str(log.key_file))}\n"
        f"公開鍵だけでの確認: [green]成功[/green]（葉 {log.checked.leaf_index}、木のサイズ "
        f"{log.checked.tree_size:,}）"
    )
    return Panel(text, title="アクセスログの改ざん検知（署名・検証・証明）", title_align="left")


def _events_table(events: Sequence[AccessEvent]) -> Table:
    counts = Counter(e.outcome for e in events)
    title = (
        f"アクセスログ（このデモ実行分・照会した供給地点と異動者に関するもの）: {len(events)} 件"
        f"（許可 {counts[Outcome.ALLOWED]} ・ 拒否 {counts[Outcome.DENIED]}）"
    )
    table = Table(title=title, title_justify="left")
    for column in ("日時（JST）", "アカウント", "操作", "対象", "結果", "利用目的", "判定ポリシー / 内容"):
        table.add_column(column, overflow="fold")
    for event in events:
        outcome = value_label(event.outcome)
        styled = f"[red]{outcome}[/red]" if event.outcome is Outcome.DENIED else outcome
        table.add_row(
            jst_cell(event.ts), event.account_id,
            value_label(event.action), f"{event.resource_type}\n{' '.join(event.resource_ids)}",
            styled, event.purpose or "—", "、".join(event.policy_ids) or event.detail,
        )  # fmt: skip
    return table
