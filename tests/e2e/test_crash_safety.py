"""No acknowledged event is lost when the server is killed under load (DESIGN §6, issue 3 item 8).

`shadan serve` runs as a real process on a free port, over a database prepared with the end-to-end
world. Four staff log in through the API; eight threads then read supply points as fast as the server
answers, every request with its own terminal id (X-Shadan-Terminal). Mid-burst the server gets SIGKILL —
no shutdown, no flush, whatever the group commit, the sequencer or SQLite's WAL was doing. A second
server then starts on the same database, and every request that was answered 200 must have its access
event; after sequencing, `shadan audit verify` must pass.

The test fails if the server ever answered a read before its event was committed: the answers in flight
when the process dies are exactly those whose events would be lost.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner
from world import PASSWORD, World, bearer

from shadan.cli.main import app
from shadan.services.credentials import totp_code_at

# (member, supply point, purpose): reads the policy allows, so the answer is 200 with data.
READERS = (
    ("clerk", "demand_new", "託送業務"),
    ("transferee", "demand_affiliated", "託送業務"),
    ("engineer", "generation", "設備保全"),
    ("clerk03", "other_area", "託送業務"),
)
THREADS_PER_READER = 2
KILL_AFTER_ANSWERS = 300  # answered reads before the kill: the burst is well under way
START_TIMEOUT_S = 20.0
SHADAN = Path(sys.executable).with_name("shadan")


@dataclass
class Burst:
    """Terminal ids of the reads that were answered 200, shared by the reader threads."""

    answered: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)

    def ok(self, terminal: str) -> None:
        with self.lock:
            self.answered.append(terminal)
            if len(self.answered) >= KILL_AFTER_ANSWERS:
                self.enough.set()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`shadan serve` in a process of its own; its output goes to a file the failure message shows."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._output = output
        with output.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(SHADAN), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"shadan serve exited:\n{self.output()}")
            try:
                httpx.get(f"{self.url}/api/v1/me", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"shadan serve did not start:\n{self.output()}")

    def output(self) -> str:
        return self._output.read_text(encoding="utf-8", errors="replace")[-4000:]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def env(db_url: str, tmp_path: Path, world: World) -> dict[str, str]:
    """The server's environment: the world's database and SHADAN_HOME, a log tick of its own."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHADAN_")},
        "SHADAN_HOME": str(tmp_path / "home"),
        "SHADAN_DATABASE_URL": db_url,
        "SHADAN_ENVIRONMENT": "test",
        "SHADAN_SECURE_COOKIES": "false",
        # The periodic job sequences during the burst, so the kill may also hit the sequencer.
        "SHADAN_LOG_TICK_SECONDS": "0.5",
    }


@pytest.fixture
def servers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _log_in(url: str, world: World, key: str) -> str:
    """Password, then the authenticator's code now (the server runs on the real clock)."""
    member = world.member(key)
    login = httpx.post(
        f"{url}/api/v1/session", json={"account_id": member.account_id, "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 201, login.text
    token = str(login.json()["session_token"])
    assert member.totp_secret is not None
    code = totp_code_at(member.totp_secret, dt.datetime.now(dt.UTC))
    mfa = httpx.post(f"{url}/api/v1/session/mfa", json={"code": code}, headers=bearer(token), timeout=10)
    assert mfa.status_code == 204, mfa.text
    return token


def _read_until_the_server_dies(
    url: str, token: str, point: str, purpose: str, name: str, burst: Burst
) -> None:
    with httpx.Client(base_url=url, headers=bearer(token), timeout=5.0) as client:
        for n in range(1_000_000):
            terminal = f"crash-{name}-{n:06d}"
            try:
                response = client.get(
                    f"/api/v1/supply-points/{point}",
                    params={"purpose": purpose},
                    headers={"X-Shadan-Terminal": terminal},
                )
            except httpx.TransportError:
                return  # the server is gone: this request was never answered
            if response.status_code == 200:
                burst.ok(terminal)


def _terminals_logged(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT terminal_id FROM access_events WHERE terminal_id LIKE 'crash-%'")
            )
            return {str(r[0]) for r in rows}
    finally:
        engine.dispose()


def _audit(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, ["audit", *args], env=env)


def test_no_answered_read_is_lost_when_the_server_is_killed(
    db_url: str, env: dict[str, str], world: World, servers: list[Server], tmp_path: Path
) -> None:
    first = Server(env, tmp_path / "server-1.log")
    servers.append(first)
    tokens = {key: _log_in(first.url, world, key) for key, _point, _purpose in READERS}

    burst = Burst()
    threads = [
        threading.Thread(
            target=_read_until_the_server_dies,
            args=(first.url, tokens[key], world.point_id(point), purpose, f"{key}{i}", burst),
            daemon=True,
        )
        for key, point, purpose in READERS
        for i in range(THREADS_PER_READER)
    ]
    for thread in threads:
        thread.start()
    assert burst.enough.wait(START_TIMEOUT_S), f"too few answers before the kill:\n{first.output()}"
    first.kill()  # SIGKILL mid-burst: reads are being answered and committed right now
    for thread in threads:
        thread.join(timeout=10)
    answered = set(burst.answered)
    assert len(answered) >= KILL_AFTER_ANSWERS

    second = Server(env, tmp_path / "server-2.log")
    servers.append(second)
    lost = answered - _terminals_logged(db_url)
    assert not lost, f"{len(lost)} answered reads have no access event, e.g. {sorted(lost)[:5]}"

    # The sessions live in the database: the second server knows them.
    again = httpx.get(
        f"{second.url}/api/v1/supply-points/{world.point_id('demand_new')}",
        params={"purpose": "託送業務"},
        headers=bearer(tokens["clerk"]) | {"X-Shadan-Terminal": "crash-after-restart"},
        timeout=10,
    )
    assert again.status_code == 200, again.text

    signed = _audit(env, "checkpoint")
    assert signed.exit_code == 0, signed.output
    verified = _audit(env, "verify")
    assert verified.exit_code == 0, verified.output
    assert "verification passed" in verified.output
