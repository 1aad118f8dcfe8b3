"""`shadan audit witness`: hand the log's checkpoints to a witness and keep its cosignatures.

Exit codes (docs/witness.md): 0 success; 1 the command could not be carried out (witness unreachable,
bad key file, log refuses to sign); 2 usage error; 50-56 the witness refused (the code of its reason, as
`shadan witness add` uses it; 54 also when this log is smaller than what the witness cosigned); 57 the
cosignature does not verify with the witness key; 58 the cosigned checkpoint is not of this log's tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from shadan.cli.command_support import built, jst, show_failure, terminal_operator
from shadan.services.cosigning import CosignatureRejected, CosigningService, Stored
from shadan.services.witness import WitnessRefused

app = typer.Typer(help="証人への提出と連署の保管（C2SP tlog-witness）", no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)

WitnessKey = Annotated[
    Path,
    typer.Option("--witness-key", exists=True, dir_okay=False, readable=True, help="証人の検証鍵ファイル"),
]


@contextmanager
def _service() -> Iterator[CosigningService]:
    from shadan.bootstrap import build_cosigning

    with built(console) as shadan:
        try:
            yield build_cosigning(shadan)
        except WitnessRefused as exc:
            show_failure(console, exc.refusal.titles, exc.refusal.exit_code, exc.message)
            raise typer.Exit(exc.refusal.exit_code) from exc
        except CosignatureRejected as exc:
            console.print(f"[red]連署を受け入れられません / cosignature rejected ({exc.problem.value})[/red]")
            console.print(f"  {escape(exc.message)}")
            raise typer.Exit(exc.problem.exit_code) from exc


@app.command("submit")
def submit(
    url: Annotated[str, typer.Option("--url", help="証人の URL（add-checkpoint の前まで）")],
    witness_key: WitnessKey,
) -> None:
    """チェックポイントを作り、一貫性証明とともに証人に提出して、返った連署を検証・保管する。"""
    with _service() as service:
        stored = service.submit(url, witness_key.read_text(encoding="utf-8"), terminal_operator())
    _show_stored(stored)


@app.command("request")
def request(
    old: Annotated[int, typer.Option("--old", min=0, help="証人が連署済みのサイズ（初回は 0）")],
    output: Annotated[Path, typer.Option("-o", "--output", dir_okay=False, help="要求ファイルの書き出し先")],
) -> None:
    """オフラインの証人に渡す add-checkpoint 要求（旧サイズ・一貫性証明・チェックポイント）を書き出す。"""
    with _service() as service:
        body = service.request(old)
    output.write_bytes(body)
    console.print(f"要求を {escape(str(output))} に書き出しました / add-checkpoint request written")


@app.command("import")
def import_(
    cosigned_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="連署済みチェックポイント")
    ],
    witness_key: WitnessKey,
) -> None:
    """オフラインの証人から戻った連署済みチェックポイントを検証して保管する。"""
    with _service() as service:
        stored = service.import_cosigned(
            cosigned_file.read_text(encoding="utf-8"),
            witness_key.read_text(encoding="utf-8"),
            terminal_operator(),
        )
    _show_stored(stored)


def _show_stored(stored: Stored) -> None:
    cosignature = stored.cosignature
    state = "連署を保管しました / cosignature stored" if stored.new else "保管済みの連署です / already stored"
    console.print(
        f"[green]{state}[/green]: 証人 {escape(cosignature.witness_name)}、"
        f"ログ {escape(cosignature.origin)}、サイズ {cosignature.tree_size:,}"
        f"（連署 {jst(cosignature.cosigned_at)}）"
    )
