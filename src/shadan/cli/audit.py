"""`shadan audit`: checkpoints, proofs and verification of the tamper-evident access log.

Exit codes (docs/access-log.md): 0 success; 1 the command could not be carried out (unknown event, log
refuses to sign, bad key file); 2 usage error; 10-23 `verify` found tampering, one code per kind;
30-34 `verify-proof` refused a proof file, one code per reason; 35 several proof files show a split view.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from shadan.cli.audit_archive import register as register_archive
from shadan.cli.audit_witness import app as witness_app
from shadan.cli.command_support import built, jst, operator_account, progress_bar, show_failure, show_key
from shadan.services.audit_log import (
    AuditLogService,
    CheckedProof,
    CheckpointInfo,
    ProofCheckFailed,
    VerificationReport,
)
from shadan.services.log_maintenance import LogMaintainer
from shadan.services.proof_batch import ProofBatch, ProofOutcome, check_proofs

app = typer.Typer(help="アクセスログの改ざん検知（チェックポイント・証明・検証）", no_args_is_help=True)
app.add_typer(witness_app, name="witness")
register_archive(app)
# soft_wrap: messages are never cut mid-word, whatever the terminal (or test runner) width.
console = Console(soft_wrap=True, highlight=False)

KeyFiles = Annotated[
    list[Path],
    typer.Option("--key", exists=True, dir_okay=False, readable=True, help="検証鍵ファイル（複数指定可）"),
]


@contextmanager
def _service() -> Iterator[AuditLogService]:
    with built(console) as shadan:
        yield shadan.audit_log


@app.command("checkpoint")
def checkpoint(
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", dir_okay=False, help="最新のチェックポイントを書き出す（規制当局等への提出用）"
        ),
    ] = None,
) -> None:
    """記録済みのイベントを木に加え、署名付きチェックポイントを作る（増えていなければ最新のもの）。"""
    with _service() as service:
        info = service.checkpoint()
    _show_checkpoint(info)
    if export is not None:
        export.write_text(info.note, encoding="utf-8")
        console.print(f"チェックポイントを {escape(str(export))} に書き出しました / checkpoint written")


@app.command("proof")
def proof(
    seq: Annotated[int, typer.Argument(min=1, help="イベントの連番（seq）")],
    output: Annotated[
        Path, typer.Option("-o", "--output", dir_okay=False, help="証明ファイル（.tlog-proof）")
    ],
) -> None:
    """1件のイベントの包含証明ファイル（C2SP tlog-proof）を書き出す。公開鍵だけで検証できる。"""
    with _service() as service:
        text = service.export_proof(seq, operator_account())
    output.write_text(text, encoding="utf-8")
    console.print(
        f"[green]連番 {seq} の証明を {escape(str(output))} に書き出しました[/green]"
        f" / proof of seq {seq} written"
    )


@app.command("public-key")
def public_key(
    output: Annotated[Path | None, typer.Option("-o", "--output", dir_okay=False, help="書き出し先")] = None,
) -> None:
    """ログの検証鍵（signed-note 形式）を書き出す。監査人・規制当局に渡す。"""
    with _service() as service:
        key = service.public_key()
    show_key(key, output, console)


@app.command("rotate-key")
def rotate_key() -> None:
    """署名鍵を更新する。新旧両方の鍵で署名した引継ぎチェックポイントを作る。旧チェックポイントは旧公開鍵で検証できる。"""
    with _service() as service:
        key = service.rotate_key()
    console.print(
        "[green]署名鍵を更新しました / signing key rotated[/green]. 新しい検証鍵 / new verifier key:"
    )
    console.print(key, markup=False)


@app.command("verify-proof")
def verify_proof(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="証明ファイル（複数指定可）"),
    ],
    key: KeyFiles,
    witness_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness-key",
            exists=True,
            dir_okay=False,
            readable=True,
            help="連署を求める証人（ウィットネス）の検証鍵（複数指定可）",
        ),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option(
            "--witness-quorum",
            min=1,
            help="連署が必要な証人の数（--witness-key の鍵のうち。既定: 全員）",
        ),
    ] = None,
) -> None:
    """証明ファイルを検証鍵だけで検証する（データベース・設定は使わない）。複数のファイルでは、同じサイズで
    根の異なるチェックポイント（分岐）がないかも確かめる。"""
    from shadan.offline import build_proof_checker

    keys = [k.read_text(encoding="utf-8") for k in key]
    witnesses = [k.read_text(encoding="utf-8") for k in witness_key or []]
    named = [(str(f), f.read_bytes()) for f in files]
    try:
        batch = check_proofs(build_proof_checker(), named, keys, witnesses, witness_quorum)
    except ProofCheckFailed as exc:  # the keys themselves: the same for every file
        _show_rejection(exc)
        raise typer.Exit(exc.problem.exit_code) from exc
    if len(files) == 1:
        _show_one_proof(batch.outcomes[0])
    else:
        _show_proof_batch(batch)
    if batch.exit_code:
        raise typer.Exit(batch.exit_code)


@app.command("verify")
def verify(
    trusted: Annotated[
        Path | None,
        typer.Option(
            "--trusted", exists=True, dir_okay=False, readable=True, help="以前に受け取ったチェックポイント"
        ),
    ] = None,
    key: Annotated[
        list[Path] | None,
        typer.Option(
            "--key", exists=True, dir_okay=False, readable=True, help="信頼する検証鍵（既定はログ自身の鍵）"
        ),
    ] = None,
) -> None:
    """イベントから木とチェックポイントを計算し直し、改ざんがあれば最初の不正な連番を示す。"""
    trusted_text = trusted.read_text(encoding="utf-8") if trusted is not None else None
    keys = [k.read_text(encoding="utf-8") for k in key or []]
    with _service() as service, progress_bar(console, "検証中 / verifying") as progress:
        report = service.verify(trusted_text, keys, progress, run_by=operator_account())
    _show_report(report)
    if not report.recorded:
        console.print(
            "[red]検証の記録をアクセスログに保存できませんでした / the run could not be recorded[/red]"
        )
        raise typer.Exit(report.exit_code or 1)
    raise typer.Exit(report.exit_code)


@app.command("run")
def run(
    interval: Annotated[float, typer.Option("--interval", min=0.1, help="確認の間隔（秒）")] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="1回だけ実行して終わる")] = False,
) -> None:
    """順序付けとチェックポイント作成を定期的に行う（N件ごと・T秒ごと）。Ctrl-C で終了。

    `shadan serve` も同じ処理を行います（SHADAN_LOG_TICK_SECONDS）。失敗しても次の回に再試行します。
    SHADAN_LOG_WITNESS_URL か SHADAN_LOG_WITNESSES があれば、新しいチェックポイントを各証人に渡して
    連署を受け取ります。
    """
    from shadan.bootstrap import build_periodic_log

    with built(console) as shadan:
        periodic = build_periodic_log(shadan)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        if once:
            info = periodic.tick()
            if info is not None:
                _show_checkpoint(info)
            return
        with contextlib.suppress(KeyboardInterrupt):
            LogMaintainer(periodic, interval).run()


def _show_checkpoint(info: CheckpointInfo) -> None:
    root = base64.b64encode(info.root_hash).decode()
    console.print(
        f"チェックポイント / checkpoint: ログ {escape(info.origin)}、サイズ {info.size:,}、根 {root}"
        f"（{info.created_at:%Y-%m-%d %H:%M:%S} UTC）"
    )


def _show_rejection(exc: ProofCheckFailed, name: str = "") -> None:
    where = f" {escape(name)}" if name else ""
    console.print(f"[red]証明を受け入れられません / proof rejected ({exc.problem.value})[/red]{where}")
    console.print(f"  {escape(exc.message)}")


def _show_one_proof(outcome: ProofOutcome) -> None:
    if isinstance(outcome.result, ProofCheckFailed):
        _show_rejection(outcome.result)
    else:
        _show_checked_proof(outcome.result)


def _show_checked_proof(checked: CheckedProof) -> None:
    console.print(
        f"[green]証明は正しく検証されました / proof verified[/green]: ログ {escape(checked.origin)}、"
        f"葉 {checked.leaf_index}（木のサイズ {checked.tree_size:,}）"
    )
    for signature in checked.witnessed_by:
        console.print(
            f"  証人の連署 / witness cosignature: {escape(signature.witness)}（{jst(signature.cosigned_at)}）"
        )
    try:
        event = json.dumps(json.loads(checked.entry), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        event = checked.entry.decode("utf-8", "replace")
    console.print(event, markup=False)


def _show_proof_batch(batch: ProofBatch) -> None:
    for outcome in batch.outcomes:
        checked = outcome.result
        if isinstance(checked, ProofCheckFailed):
            _show_rejection(checked, outcome.name)
            continue
        witnesses = f"、証人 {len(checked.witnessed_by)}" if checked.witnessed_by else ""
        console.print(
            f"[green]検証済み / verified[/green] {escape(outcome.name)}: 葉 {checked.leaf_index}"
            f"（木のサイズ {checked.tree_size:,}{witnesses}）"
        )
    for split in batch.split_views:
        console.print(
            f"[red]分岐 / split view[/red]: ログ {escape(split.origin)} のサイズ {split.tree_size:,} の"
            f"チェックポイントが 2 つの根で署名されています: {escape(split.first)} と {escape(split.second)}"
        )
    verified, rejected = batch.verified, len(batch.outcomes) - batch.verified
    console.print(
        f"{verified:,} 件検証済み、{rejected:,} 件不合格 / {verified:,} verified, {rejected:,} rejected"
    )


def _show_report(report: VerificationReport) -> None:
    summary = (
        f"ログ {escape(report.origin)}: イベント {report.events_checked:,} 件 / {report.tree_size:,} 葉、"
        f"チェックポイント {report.checkpoints_checked} 件を検証"
    )
    if report.pending_events:
        summary += (
            f"（順序付け待ち {report.pending_events} 件 / {report.pending_events} events not yet sequenced）"
        )
    if report.ok:
        console.print(f"[green]検証に成功しました / verification passed[/green] — {summary}")
        return
    console.print(f"[red]改ざんを検出しました / tampering detected[/red] — {summary}")
    if report.first_bad_seq is not None:
        console.print(f"最初の不正な連番 / first bad sequence number: [bold]{report.first_bad_seq}[/bold]")
    for failure in report.failures:
        show_failure(
            console, failure.kind.titles, failure.kind.exit_code, failure.detail_ja, failure.detail_en
        )
