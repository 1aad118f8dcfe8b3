"""`shadan witness`: a witness (c2sp.org/tlog-witness) for shadan's access logs, run by another party
such as the regulator. It keeps its own key and state in `--home`, nothing of shadan's database.

Exit codes (docs/witness.md): 0 success; 1 the command could not be carried out (home not initialised,
bad key file); 2 usage error; 50-56 `add` refused the checkpoint, one code per reason (56: split view).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from shadan.cli.command_support import jst, show_failure, show_key
from shadan.domain.errors import DomainError
from shadan.services.witness import SplitView, WitnessRefused, WitnessService

app = typer.Typer(
    help="証人（witness）: ログのチェックポイントに連署し、分岐を検出する", no_args_is_help=True
)
console = Console(soft_wrap=True, highlight=False)
# The cosigned checkpoint goes to stdout when no file is named; the report then goes to stderr.
report_console = Console(soft_wrap=True, highlight=False, stderr=True)

Home = Annotated[Path, typer.Option("--home", file_okay=False, help="証人のホームディレクトリ（鍵と状態）")]


@contextmanager
def _witness(home: Path) -> Iterator[WitnessService]:
    from shadan.bootstrap import build_witness

    try:
        yield build_witness(home)
    except WitnessRefused:
        raise  # `add` reports a refusal with its own exit code
    except DomainError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from exc


@app.command("init")
def init(
    home: Home,
    name: Annotated[str, typer.Option("--name", help="証人の名前（例: witness.example.jp/shadan）")],
) -> None:
    """証人の鍵（Ed25519、cosignature/v1）と状態ファイルを作る。既に鍵があるホームでは中止する。"""
    with _witness(home) as witness:
        key = witness.init(name)
    console.print(f"[green]証人を初期化しました / witness initialised[/green]: {escape(str(home))}")
    console.print("検証鍵 / verifier key（ログの運用者に渡す）:")
    console.print(key, markup=False)


@app.command("trust")
def trust(
    log_key_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="ログの検証鍵ファイル")
    ],
    home: Home,
) -> None:
    """ログの検証鍵を登録する（ログ名＝鍵の名前）。登録したログのチェックポイントだけに連署する。"""
    with _witness(home) as witness:
        trusted = witness.trust(log_key_file.read_text(encoding="utf-8"))
    for key in trusted:
        state = "登録しました / trusted" if key.added else "登録済みです / already trusted"
        console.print(f"{state}: ログ {escape(key.origin)}")
        console.print(f"  {key.verifier_key}", markup=False)


@app.command("serve")
def serve(
    home: Home,
    host: Annotated[str, typer.Option(help="待ち受けアドレス")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="待ち受けポート")] = 8480,
) -> None:
    """HTTP で add-checkpoint を受け付ける（POST /add-checkpoint、GET / は稼働確認）。"""
    import uvicorn

    from shadan.web.witness_app import create_witness_app

    with _witness(home) as witness:
        status = witness.status()
    console.print(f"証人 / witness: {status.verifier_key}（ログ {status.logs} 件）", markup=False)
    uvicorn.run(create_witness_app(witness), host=host, port=port, server_header=False, log_level="info")


@app.command("add")
def add(
    request_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="add-checkpoint 要求の本文")
    ],
    home: Home,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", dir_okay=False, help="連署済みチェックポイントの書き出し先"),
    ] = None,
) -> None:
    """オフラインの add-checkpoint: 要求ファイルを検査し、受け入れれば連署したチェックポイントを書き出す。"""
    try:
        with _witness(home) as witness:
            cosigned = witness.add_checkpoint(request_file.read_bytes())
    except WitnessRefused as exc:
        _show_refusal(exc)
        raise typer.Exit(exc.refusal.exit_code) from exc
    head = cosigned.head
    summary = f"ログ {escape(head.origin)}、サイズ {head.size:,}"
    if output is None:
        console.print(cosigned.cosigned_note, markup=False, end="")
        report_console.print(f"[green]連署しました / cosigned[/green]: {summary}")
        return
    output.write_text(cosigned.cosigned_note, encoding="utf-8")
    console.print(f"[green]連署しました / cosigned[/green]: {summary} → {escape(str(output))}")


@app.command("public-key")
def public_key(
    home: Home,
    output: Annotated[Path | None, typer.Option("-o", "--output", dir_okay=False, help="書き出し先")] = None,
) -> None:
    """証人の検証鍵（type 0x04）を書き出す。ログの運用者が連署の検証に使う。"""
    with _witness(home) as witness:
        key = witness.public_key()
    show_key(key, output, console)


@app.command("rotate-key")
def rotate_key(home: Home) -> None:
    """新しい鍵（同じ名前）を作る。retire-keys までは新旧両方の鍵で連署するので、その間にログの運用者と
    監査人は新しい鍵に切り替える。"""
    with _witness(home) as witness:
        key = witness.rotate_key()
    console.print("[green]新しい鍵を作りました / new key added[/green]（新旧両方の鍵で連署します）")
    console.print(key, markup=False)
    console.print(
        "ログの運用者と監査人が切り替えたら `shadan witness retire-keys` で古い鍵を退役させてください。"
    )


@app.command("retire-keys")
def retire_keys(home: Home) -> None:
    """鍵の更新を終える: 最新の鍵以外の鍵を破棄し、以後は最新の鍵だけで連署する。"""
    with _witness(home) as witness:
        retired = witness.retire_keys()
    console.print("[green]古い鍵を退役させました / old keys retired[/green]:")
    for key in retired:
        console.print(f"  {key}", markup=False)


@app.command("keys")
def keys(home: Home) -> None:
    """連署に使っている鍵と、鍵の追加・退役の履歴（日本時間）を示す。"""
    with _witness(home) as witness:
        status, history = witness.status(), witness.key_history()
    console.print("連署に使う鍵 / cosigning keys:")
    for key in status.verifier_keys:
        console.print(f"  {key}", markup=False)
    console.print("履歴 / history:")
    for change in history:
        console.print(f"  {jst(change.at)}  {change.event.label}  {change.verifier_key}", markup=False)


@app.command("conflicts")
def conflicts(home: Home) -> None:
    """記録された分岐（同じサイズで根が異なる、どちらもログが署名したチェックポイント）を一覧する。"""
    with _witness(home) as witness:
        split_views = witness.split_views()
    if not split_views:
        console.print("分岐は記録されていません / no split views recorded")
        return
    console.print(f"[red]分岐 {len(split_views)} 件 / {len(split_views)} split view(s)[/red]")
    for split_view in split_views:
        _show_split_view(split_view)


def _show_refusal(exc: WitnessRefused) -> None:
    show_failure(console, exc.refusal.titles, exc.refusal.exit_code, exc.message)
    if exc.split_view is not None:
        _show_split_view(exc.split_view)


def _show_split_view(split_view: SplitView) -> None:
    console.print(
        f"ログ {escape(split_view.origin)}、サイズ {split_view.tree_size:,}、"
        f"検出 {jst(split_view.detected_at)}"
    )
    console.print("連署済みのチェックポイント / witnessed:")
    console.print(split_view.witnessed_note, markup=False, end="")
    console.print("提出されたチェックポイント / presented:")
    console.print(split_view.presented_note, markup=False, end="")
