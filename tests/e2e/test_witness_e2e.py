"""The witness end to end: `shadan witness serve` runs as its own process on a free port, the log hands it
checkpoints with `shadan audit witness submit`, and the witness cosigns growth proven by a consistency
proof, while it refuses — and records — a forked log, and refuses a log it does not trust, a rolled-back
log and a replayed request, each with its documented exit code or HTTP answer."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result
from world import TestClock, World, build_container, make_settings

from shadan.cli.main import app

SHADAN = Path(sys.executable).parent / "shadan"
# Generous: the console script imports the whole package, and the machine is shared with other test runs.
START_TIMEOUT_SECONDS = 60
WITNESS_NAME = "witness.example.jp/egc"

Cli = Callable[..., Result]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(home: Path, db_url: str, **extra: str) -> dict[str, str]:
    return {"SHADAN_HOME": str(home), "SHADAN_DATABASE_URL": db_url, "SHADAN_ENVIRONMENT": "test", **extra}


@pytest.fixture
def cli(db_url: str, tmp_path: Path, shadan: Any) -> Cli:
    """`shadan …` in process, on the log of the `shadan` fixture unless another environment is given."""

    def run(*args: str, environment: dict[str, str] | None = None) -> Result:
        env = environment or _environment(tmp_path / "home", db_url)
        return CliRunner().invoke(app, list(args), env=env)

    return run


@pytest.fixture
def witness_home(cli: Cli, tmp_path: Path) -> Path:
    home = tmp_path / "witness"
    assert cli("witness", "init", "--home", str(home), "--name", WITNESS_NAME).exit_code == 0
    assert cli("audit", "public-key", "-o", str(tmp_path / "log.pub")).exit_code == 0
    trusted = cli("witness", "trust", str(tmp_path / "log.pub"), "--home", str(home))
    assert trusted.exit_code == 0, trusted.output
    assert (
        cli("witness", "public-key", "--home", str(home), "-o", str(tmp_path / "witness.pub")).exit_code == 0
    )
    return home


@pytest.fixture
def witness_url(witness_home: Path, tmp_path: Path) -> Iterator[str]:
    """`shadan witness serve` as a real process; its output goes to a file (a full pipe would block it)."""
    port = _free_port()
    with (tmp_path / "witness-server.log").open("wb") as output:
        process = subprocess.Popen(
            [str(SHADAN), "witness", "serve", "--home", str(witness_home), "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("SHADAN_")},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, tmp_path / "witness-server.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the witness server did not start:\n{output.read_text(errors='replace')}")
            time.sleep(0.1)


def _submit(cli: Cli, url: str, tmp_path: Path, environment: dict[str, str] | None = None) -> Result:
    key = str(tmp_path / "witness.pub")
    return cli("audit", "witness", "submit", "--url", url, "--witness-key", key, environment=environment)


def _cosigned_sizes(db_url: str) -> list[int]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        sizes = connection.execute(text("SELECT tree_size FROM log_cosignatures ORDER BY cosignature_id"))
        result = [int(size) for size in sizes.scalars()]
    engine.dispose()
    return result


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_submissions_grow_with_real_proofs_and_a_replay_is_harmless(
    cli: Cli, witness_url: str, witness_home: Path, world: World, db_url: str, tmp_path: Path
) -> None:
    first_request = tmp_path / "first.request"
    assert cli("audit", "witness", "request", "--old", "0", "-o", str(first_request)).exit_code == 0

    first = _submit(cli, witness_url, tmp_path)
    assert first.exit_code == 0, first.output
    assert "cosignature stored" in first.output
    world.login("sysadmin")
    world.login("sysadmin")
    second = _submit(cli, witness_url, tmp_path)
    assert second.exit_code == 0, second.output

    sizes = _cosigned_sizes(db_url)
    assert len(sizes) == 2
    assert 0 < sizes[0] < sizes[1]
    # The second request carried a real consistency proof from the first size (non-empty between them).
    proof_request = tmp_path / "proof.request"
    assert cli("audit", "witness", "request", "--old", str(sizes[0]), "-o", str(proof_request)).exit_code == 0
    assert proof_request.read_bytes().split(b"\n\n")[0].count(b"\n") >= 1

    status, content_type, body = _post(witness_url, first_request.read_bytes())
    assert (status, content_type, body) == (409, "text/x.tlog.size", f"{sizes[1]}\n".encode())
    listed = cli("witness", "conflicts", "--home", str(witness_home))
    assert listed.exit_code == 0
    assert "no split views" in listed.output
    with urllib.request.urlopen(witness_url + "/", timeout=5) as health:  # noqa: S310 - loopback
        assert b'"logs":1' in health.read()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_forked_log_is_refused_as_a_split_view_and_a_rollback_is_refused(
    cli: Cli,
    witness_url: str,
    witness_home: Path,
    world: World,
    clock: TestClock,
    db_url: str,
    tmp_path: Path,
) -> None:
    assert _submit(cli, witness_url, tmp_path).exit_code == 0
    fork_url, old_url = (
        _copy_database(db_url, tmp_path / "fork.db"),
        _copy_database(db_url, tmp_path / "old.db"),
    )
    fork = build_container(make_settings(fork_url, tmp_path / "home"), clock)
    # The same actions on both copies: the same number of events, different events (ids, times).
    world.login("sysadmin")
    World(shadan=fork, clock=clock, members=world.members).login("sysadmin")
    fork.close()

    assert _submit(cli, witness_url, tmp_path).exit_code == 0
    forked = _submit(cli, witness_url, tmp_path, _environment(tmp_path / "home", fork_url))
    assert forked.exit_code == 56, forked.output
    assert "split view" in forked.output

    listed = cli("witness", "conflicts", "--home", str(witness_home))
    assert listed.exit_code == 0
    assert "1 split view(s)" in listed.output
    assert listed.output.count("witnessed:") == 1
    # The witness kept the genuine log's head: the genuine log goes on being cosigned.
    world.login("sysadmin")
    assert _submit(cli, witness_url, tmp_path).exit_code == 0

    # A copy from before: the log itself sees that the witness cosigned more than it has (exit 54) …
    rolled_back = _submit(cli, witness_url, tmp_path, _environment(tmp_path / "home", old_url))
    assert rolled_back.exit_code == 54, rolled_back.output
    # … and the witness refuses its checkpoint offline, too, when told its own size.
    request = tmp_path / "old.request"
    old_env = _environment(tmp_path / "home", old_url)
    assert (
        cli("audit", "witness", "request", "--old", "0", "-o", str(request), environment=old_env).exit_code
        == 0
    )
    witnessed = _cosigned_sizes(db_url)[-1]
    request.write_bytes(request.read_bytes().replace(b"old 0\n", f"old {witnessed}\n".encode(), 1))
    refused = cli("witness", "add", str(request), "--home", str(witness_home))
    assert refused.exit_code == 54, refused.output
    assert "rollback" in refused.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_logs_the_witness_does_not_trust_are_refused(
    cli: Cli, witness_url: str, witness_home: Path, tmp_path: Path
) -> None:
    origin = (tmp_path / "log.pub").read_text().split("+")[0]
    # The same log name with another key: a server holding a stolen name but not the key.
    impostor = _environment(
        tmp_path / "impostor", f"sqlite:///{tmp_path / 'impostor.db'}", SHADAN_LOG_ORIGIN=origin
    )
    untrusted = _submit(cli, witness_url, tmp_path, impostor)
    assert untrusted.exit_code == 52, untrusted.output
    stranger = _environment(tmp_path / "stranger", f"sqlite:///{tmp_path / 'stranger.db'}")
    assert _submit(cli, witness_url, tmp_path, stranger).exit_code == 51


def test_offline_hand_over_round_trip(cli: Cli, witness_home: Path, db_url: str, tmp_path: Path) -> None:
    request, cosigned = tmp_path / "hand-over.request", tmp_path / "hand-over.cosigned"
    assert cli("audit", "witness", "request", "--old", "0", "-o", str(request)).exit_code == 0
    added = cli("witness", "add", str(request), "--home", str(witness_home), "-o", str(cosigned))
    assert added.exit_code == 0, added.output
    assert f"— {WITNESS_NAME} " in cosigned.read_text()
    imported = cli(
        "audit", "witness", "import", str(cosigned), "--witness-key", str(tmp_path / "witness.pub")
    )
    assert imported.exit_code == 0, imported.output
    assert _cosigned_sizes(db_url) == [int(request.read_text().split("\n")[3])]
    # Tampered on the way back: refused with its exit code, nothing kept.
    cosigned.write_text(cosigned.read_text().replace(f"— {WITNESS_NAME} ", f"— {WITNESS_NAME} A", 1))
    tampered = cli(
        "audit", "witness", "import", str(cosigned), "--witness-key", str(tmp_path / "witness.pub")
    )
    assert tampered.exit_code == 57, tampered.output
    assert len(_cosigned_sizes(db_url)) == 1


def _copy_database(db_url: str, target: Path) -> str:
    """A consistent copy of a live SQLite database (WAL included), as an attacker with the file would make."""
    source = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_witness_rotates_its_key_while_it_serves(
    cli: Cli, witness_url: str, witness_home: Path, world: World, tmp_path: Path
) -> None:
    old_key = tmp_path / "witness.pub"  # what the log holds: the key from before the rotation
    home = str(witness_home)
    assert _submit(cli, witness_url, tmp_path).exit_code == 0

    rotated = cli("witness", "rotate-key", "--home", home)
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.split("\n")[1]
    with urllib.request.urlopen(witness_url + "/", timeout=5) as health:  # noqa: S310 - loopback
        assert json.loads(health.read())["verifier_keys"] == [old_key.read_text().strip(), new]
    world.login("sysadmin")
    assert _submit(cli, witness_url, tmp_path).exit_code == 0  # the running server cosigns with both

    new_key = tmp_path / "witness-new.pub"
    assert cli("witness", "public-key", "--home", home, "-o", str(new_key)).exit_code == 0
    assert new_key.read_text().strip() == new
    world.login("sysadmin")
    switched = cli("audit", "witness", "submit", "--url", witness_url, "--witness-key", str(new_key))
    assert switched.exit_code == 0, switched.output

    assert cli("witness", "retire-keys", "--home", home).exit_code == 0
    world.login("sysadmin")
    assert _submit(cli, witness_url, tmp_path).exit_code == 57  # the retired key cosigns no more
    history = cli("witness", "keys", "--home", home)
    assert history.exit_code == 0
    assert [
        line.split()[-2] for line in history.output.splitlines() if "/ added" in line or "/ retired" in line
    ] == [
        "added",
        "added",
        "retired",
    ]
