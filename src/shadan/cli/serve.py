"""`serve(shadan, host, port)`: the web UI and API on uvicorn (for `shadan serve` and `shadan demo`),
with the periodic job (the access log's sequencing and checkpoints, housekeeping) on a thread beside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from shadan.cli.command_support import built

if TYPE_CHECKING:
    import uvicorn

    from shadan.api.container import Container
    from shadan.bootstrap import Shadan

STOP_WAIT_S = 10.0


def make_server(shadan: Container, host: str = "127.0.0.1", port: int = 8000) -> uvicorn.Server:
    # The web stack is imported when a server is made: every other command starts without it.
    import uvicorn

    from shadan.web.app import create_app

    config = uvicorn.Config(
        create_app(shadan),
        host=host,
        port=port,
        # Query strings carry search terms (customer names, addresses): uvicorn's access log would copy
        # them to stdout unprotected. shadan's own access log records every request instead.
        access_log=False,
        # The source address in the access log must be the real peer: only a proxy on this machine may
        # set X-Forwarded-For (uvicorn's default trust list), never an arbitrary client.
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        server_header=False,
        log_level="info",
    )
    return uvicorn.Server(config)


def serve(shadan: Shadan, host: str = "127.0.0.1", port: int = 8000) -> None:
    with _log_job(shadan):
        make_server(shadan, host, port).run()


@contextmanager
def _log_job(shadan: Shadan) -> Iterator[None]:
    """The periodic job while the server runs (the access log, and hourly housekeeping);
    SHADAN_LOG_TICK_SECONDS=0 leaves it to another process (`shadan audit run`, `shadan db housekeeping`)."""
    from shadan.bootstrap import build_server_job
    from shadan.services.log_maintenance import LogMaintainer

    interval = shadan.settings.log_tick_seconds
    if interval <= 0:
        yield
        return
    maintainer = LogMaintainer(build_server_job(shadan), interval)
    maintainer.start()
    try:
        yield
    finally:
        # A tick under way is given a moment to commit; a daemon thread never holds the exit longer.
        maintainer.stop(timeout=STOP_WAIT_S)


def serve_command(
    host: Annotated[str, typer.Option(help="待ち受けアドレス")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="待ち受けポート")] = 8000,
) -> None:
    """Web画面とAPIを起動します（SHADAN_HOME のデータを使用）。"""
    with built(Console(stderr=True)) as shadan:  # a refusal at start (a bad witness key) is printed
        serve(shadan, host, port)
