"""`shadan load` (人事マスタ) and `shadan account`: thin commands over the identity services.

Exit codes: 0 done; 1 refused (a file with bad rows and no --skip-invalid, a weak password, a shared ID,
an unknown account...); 2 usage error (Typer). Secrets are read with hidden prompts, never as arguments,
so they stay out of shell history and process listings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shadan.cli.command_support import built, terminal_operator
from shadan.domain.errors import DomainError
from shadan.domain.identity import AccountKind
from shadan.domain.japan_time import local_day
from shadan.services.accounts import NewAccount
from shadan.services.hr_master import LoadResult
from shadan.services.hr_master_format import FileKind, detect_kind

console = Console()
account_app = typer.Typer(
    help="アカウント（作成・パスワード・二要素認証・無効化・異動）", no_args_is_help=True
)

COUNT_LABELS = {
    "companies_created": "会社 追加",
    "companies_updated": "会社 更新",
    "persons_created": "人物 追加",
    "persons_updated": "人物 更新",
    "employments_added": "所属 追加",
    "transfers": "異動",
    "employments_ended": "所属 終了",
    "accounts_created": "アカウント 追加",
    "accounts_updated": "アカウント 更新",
    "sessions_revoked": "終了させたセッション",
}


def register(app: typer.Typer) -> None:
    """Add `shadan load` and `shadan account` to the main command."""
    app.command("load")(load)
    app.add_typer(account_app, name="account")


# shadan load
def load(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="人事マスタCSV（1つ以上）"),
    ],
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="誤りのある人・会社を除いて読み込む（既定はファイルごと不採用）"),
    ] = False,
    show_errors: Annotated[
        int, typer.Option("--show-errors", min=0, help="表示する誤りの上限（ファイルごと）")
    ] = 200,
) -> None:
    """人事マスタ（会社ファイル・社員ファイル）を読み込む。会社ファイルを先に処理する。"""
    contents = [(path, path.read_bytes()) for path in files]
    contents.sort(key=lambda item: 0 if _kind_or_none(item[1]) is FileKind.COMPANIES else 1)
    refused = False
    with built(console) as shadan:
        for path, data in contents:
            try:
                result = shadan.hr_master.load(data, terminal_operator(), skip_invalid=skip_invalid)
            except DomainError as exc:
                console.print(f"[red]{escape(f'{path}: {exc.message}')}[/red]")
                refused = True
                continue
            _report(path, result, show_errors)
            refused = refused or not result.committed
    if refused:
        raise typer.Exit(1)


def _kind_or_none(data: bytes) -> FileKind | None:
    try:
        return detect_kind(data)
    except DomainError:
        return None


def _report(path: Path, result: LoadResult, show_errors: int) -> None:
    kind = "会社ファイル" if result.kind is FileKind.COMPANIES else "社員ファイル"
    if not result.committed:
        status = "[red]読み込みなし（誤りがあるためファイルごと不採用）[/red]"
    elif result.errors:
        status = "[yellow]一部読み込み（誤りのある行を除外）[/yellow]"
    else:
        status = "[green]読み込み済み[/green]"
    console.print(f"{escape(str(path))}（{kind}、{result.encoding}、{result.rows}行）: {status}")
    table = Table(show_header=True, header_style="bold")
    table.add_column("変更")
    table.add_column("件数", justify="right")
    for key, label in COUNT_LABELS.items():
        if result.counts.get(key):
            table.add_row(label, str(result.counts[key]))
    if result.committed and not result.changed:
        console.print("  変更はありません（読み込み済みの内容と同じです）。")
    elif result.committed:
        console.print(table)
    for error in result.errors[:show_errors]:
        console.print(f"  [red]{escape(str(error))}[/red]")
    if len(result.errors) > show_errors:
        console.print(f"  …ほか {len(result.errors) - show_errors} 件の誤り")


# shadan account
@account_app.command("create")
def create(
    account_id: Annotated[str, typer.Argument(help="アカウントID（個人を特定できるもの）")],
    person: Annotated[str, typer.Option("--person", help="本人の person_id（サービスアカウントは所有者）")],
    role: Annotated[list[str] | None, typer.Option("--role", help="ロール（複数指定可）")] = None,
    kind: Annotated[
        AccountKind, typer.Option("--kind", help="personal または service")
    ] = AccountKind.PERSONAL,
    set_password: Annotated[
        bool, typer.Option("--set-password", help="続けて初期パスワードを入力する")
    ] = False,
) -> None:
    """個人アカウント（またはサービスアカウント）を作成する。共用IDは作成できない。"""
    password = _ask_password() if set_password else None
    new = NewAccount(account_id, person, frozenset(role or ()), kind, password)
    with built(console) as shadan:
        account = shadan.accounts.create(new, terminal_operator())
    console.print(f"[green]アカウント {account.account_id} を作成しました（{account.person_id}）。[/green]")
    if password is None:
        console.print("パスワードは `shadan account set-password` で設定してください。")


@account_app.command("set-password")
def set_password(account_id: Annotated[str, typer.Argument(help="アカウントID")]) -> None:
    """パスワードを設定・再設定する（そのアカウントのセッションはすべて終了）。"""
    password = _ask_password()
    with built(console) as shadan:
        shadan.accounts.set_password(account_id, password, terminal_operator())
    console.print(f"[green]{account_id} のパスワードを設定しました。[/green]")


@account_app.command("enroll-totp")
def enroll_totp(account_id: Annotated[str, typer.Argument(help="アカウントID")]) -> None:
    """二要素認証（TOTP）を登録し、認証アプリ用の otpauth URI を表示する。"""
    with built(console) as shadan:
        enrollment = shadan.accounts.enroll_totp(account_id, terminal_operator())
    console.print(
        "認証アプリにこのURIを登録してください（表示はこの一度だけです。本人にのみ渡してください）:"
    )
    console.print(enrollment.uri, markup=False, soft_wrap=True)
    console.print(f"手入力用の鍵: {enrollment.secret}", markup=False)


@account_app.command("disable")
def disable(
    account_id: Annotated[str, typer.Argument(help="アカウントID")],
    reason: Annotated[str, typer.Option("--reason", help="理由（ログに記録）")] = "",
) -> None:
    """アカウントを無効にし、そのセッションを直ちに終了する。"""
    with built(console) as shadan:
        revoked = shadan.accounts.disable(account_id, terminal_operator(), reason)
    console.print(f"[green]{account_id} を無効にしました（終了したセッション: {revoked}）。[/green]")


@account_app.command("enable")
def enable(account_id: Annotated[str, typer.Argument(help="アカウントID")]) -> None:
    """無効にしたアカウントを有効に戻す。"""
    with built(console) as shadan:
        shadan.accounts.enable(account_id, terminal_operator())
    console.print(f"[green]{account_id} を有効にしました。[/green]")


@account_app.command("unlock")
def unlock(account_id: Annotated[str, typer.Argument(help="アカウントID")]) -> None:
    """連続失敗によるロックを解除する。"""
    with built(console) as shadan:
        shadan.accounts.unlock(account_id, terminal_operator())
    console.print(f"[green]{account_id} のロックを解除しました。[/green]")


@account_app.command("roles")
def roles(
    account_id: Annotated[str, typer.Argument(help="アカウントID")],
    role: Annotated[
        list[str] | None, typer.Option("--role", help="付与するロール（指定しないものは外す）")
    ] = None,
) -> None:
    """アカウントのロールを指定したものに置き換える。"""
    with built(console) as shadan:
        shadan.accounts.set_roles(account_id, role or [], terminal_operator())
    console.print(f"[green]{account_id} のロール: {', '.join(sorted(role or [])) or '（なし）'}[/green]")


@account_app.command("transfer")
def transfer(
    person_id: Annotated[str, typer.Argument(help="異動する人の person_id")],
    company: Annotated[str, typer.Option("--company", help="異動先の会社ID")],
    department: Annotated[str, typer.Option("--department", help="異動先の部署")],
    role: Annotated[list[str] | None, typer.Option("--role", help="異動後のロール（複数指定可）")] = None,
    effective: Annotated[
        str | None, typer.Option("--effective", help="発令日 YYYY-MM-DD（既定は今日）")
    ] = None,
) -> None:
    """人事異動: 所属とロールを変更し、その人のセッションを同じトランザクションで終了する。"""
    day = _date(effective)
    with built(console) as shadan:
        result = shadan.transfers.transfer(
            person_id, company, department, day, role or [], terminal_operator()
        )
    console.print(
        f"[green]{person_id} を {result.to_company_id} {result.to_department} へ異動しました"
        f"（{result.effective.isoformat()}付、終了したセッション: {result.sessions_revoked}）。[/green]"
    )


def _date(raw: str | None) -> dt.date:
    if raw is None:
        return local_day(dt.datetime.now(dt.UTC))
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        console.print("[red]発令日は YYYY-MM-DD 形式で指定してください。[/red]")
        raise typer.Exit(2) from None


def _ask_password() -> str:
    password: str = typer.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")
    return password
