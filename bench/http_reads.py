"""Audited record reads over HTTP on loopback (DESIGN §6: ≥ 1,000 reads/s, p99 ≤ 25 ms, ≤ 1.5× unaudited).

The benchmark builds a demo world in a fresh SHADAN_HOME (through the demo's own import path), starts the
real server itself in a subprocess on 127.0.0.1 and a free port, signs in over the API (password + TOTP)
and then issues GET /api/v1/supply-points/{id}?purpose=託送業務 with a bearer token from several concurrent
clients. Each read is a full request: session check, policy decision, masking and a durable access event.
The same reads are then repeated against a server started with SHADAN_BENCH_DISABLE_POLICY_AND_LOG=true
(development only) to get the overhead ratio of policy and log. Client and server share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from common import Latency, console, latency_table, verdict, write_result
from loadgen import run_load
from shadan.bootstrap import build
from shadan.config import Settings
from shadan.domain.japan_time import local_day
from shadan.services.credentials import totp_code_at
from shadan.services.demo_logins import DemoLogin, issue_logins
from shadan.services.demo_world import WorldOptions, build_world
from shadan.services.identity import Actor

PURPOSE = "託送業務"
SERVER = (
    "import sys\n"
    "from shadan.bootstrap import build\n"
    "from shadan.cli.serve import make_server\n"
    "server = make_server(build(), '127.0.0.1', int(sys.argv[1]))\n"
    "server.config.log_level = 'warning'\n"
    "server.run()\n"
)
# With --workers N > 1: uvicorn's own process manager, each worker building its container from the env.
SERVER_WORKERS = (
    "import sys, uvicorn\n"
    "uvicorn.run('server_app:app_factory', factory=True, host='127.0.0.1', port=int(sys.argv[1]),\n"
    "            workers=int(sys.argv[2]), access_log=False, log_level='warning')\n"
)
TARGET_READS_PER_SECOND = 1_000.0
TARGET_P99_MS = 25.0
TARGET_RATIO = 1.5


def prepare_world(home: Path, size: int) -> tuple[DemoLogin, list[str]]:
    """A demo world in `home` and the wheeling clerk's login; the supply point ids to read."""
    shadan = build(Settings(home=home))
    try:
        options = WorldOptions(home / "demo", size, 6, local_day(shadan.clock()), "bench")
        world = build_world(shadan, options, Actor.operator("bench"), lambda *_: None)
        logins = issue_logins(world.operator, shadan.accounts, options.directory, Actor.operator("bench"))
    finally:
        shadan.close()
    clerk = next(x for x in logins if x.key == "clerk")
    return clerk, [p.supply_point_id for p in world.operator.supply_points]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its worker processes so far (Linux /proc)."""
        return sum(_cpu_of(pid) for pid in (self.pid, *_children(self.pid)))


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return [p for child in found for p in (child, *_children(child))]


@contextlib.contextmanager
def server(home: Path, unaudited: bool, workers: int = 1) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "SHADAN_HOME": str(home),
        "SHADAN_ENVIRONMENT": "development",
        "SHADAN_BENCH_DISABLE_POLICY_AND_LOG": "true" if unaudited else "false",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
        ),
    }
    script = SERVER if workers == 1 else SERVER_WORKERS
    process = subprocess.Popen([sys.executable, "-c", script, str(port), str(workers)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/openapi.json", timeout=2)
            return
        time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


def sign_in(base: str, login: DemoLogin) -> str:
    """Password, then TOTP, over the API: the token a real client would hold."""
    response = httpx.post(
        f"{base}/api/v1/session",
        json={"account_id": login.account_id, "password": login.password},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["session_token"]
    if response.json()["mfa_required"]:
        code = totp_code_at(login.totp_secret, dt.datetime.now(dt.UTC))
        mfa = httpx.post(
            f"{base}/api/v1/session/mfa",
            json={"code": code},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        mfa.raise_for_status()
    return token


def _paths(ids: list[str], count: int) -> Iterator[str]:
    purpose = quote(PURPOSE)
    return (f"/api/v1/supply-points/{ids[i % len(ids)]}?purpose={purpose}" for i in range(count))


def measure(target: Server, token: str, ids: list[str], args: argparse.Namespace) -> dict[str, Latency]:
    def run(count: int, concurrency: int, seconds: float) -> Latency:
        cpu = target.cpu_seconds()
        paths = _paths(ids, count)
        figures = asyncio.run(run_load(target.base, token, paths, concurrency, seconds, not args.httpx))
        # The server's CPU per read does not depend on what else the machine is doing, unlike reads/s.
        server_cpu_ms = 1000 * (target.cpu_seconds() - cpu) / max(figures.count, 1)
        return replace(figures, server_cpu_ms=round(server_cpu_ms, 3))

    run(args.warmup, args.concurrency, 60)
    return {
        f"c={args.concurrency}": run(args.count, args.concurrency, args.seconds),
        "c=1": run(args.count // 4, 1, args.seconds / 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=20_000, help="supply points in the demo world")
    parser.add_argument("--count", type=int, default=10_000, help="reads per run (upper bound)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--httpx", action="store_true", help="load with httpx instead of the bare client")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shadan-bench-") as tmp:
        home = Path(tmp)
        console.print(f"building a demo world of {args.size:,} supply points in {home} ...")
        login, ids = prepare_world(home, args.size)
        random.Random(1).shuffle(ids)
        with server(home, unaudited=False, workers=args.workers) as target:
            # Sessions live in the database, so the one sign-in serves both servers (a TOTP code is
            # good once: a second sign-in within 30 s would be refused as a replay).
            token = sign_in(target.base, login)
            audited = measure(target, token, ids, args)
        with server(home, unaudited=True, workers=args.workers) as target:
            unaudited = measure(target, token, ids, args)
    return report(args, audited, unaudited)


def report(
    args: argparse.Namespace, audited: dict[str, Latency], unaudited: dict[str, Latency]
) -> dict[str, Any]:
    rows = {f"audited {k}": v for k, v in audited.items()} | {
        f"unaudited {k}": v for k, v in unaudited.items()
    }
    console.print(latency_table("GET /api/v1/supply-points/{id}?purpose=託送業務 over loopback", rows))
    main_run = f"c={args.concurrency}"
    a, u = audited[main_run], unaudited[main_run]
    ratio = round(u.per_second / a.per_second, 2)
    ratio_single = round(audited["c=1"].mean / unaudited["c=1"].mean, 2)
    met = {
        "reads_per_second": a.per_second >= TARGET_READS_PER_SECOND,
        "p99": a.p99 <= TARGET_P99_MS,
        "overhead_ratio": ratio <= TARGET_RATIO,
    }
    console.print(verdict("≥ 1,000 audited reads/s", met["reads_per_second"], f"{a.per_second:,.0f}/s"))
    console.print(verdict("p99 ≤ 25 ms", met["p99"], f"{a.p99:.1f} ms at {main_run}"))
    console.print(
        verdict(
            "≤ 1.5× unaudited time", met["overhead_ratio"], f"{ratio}× ({main_run}); {ratio_single}× (c=1)"
        )
    )
    figures = {
        "size": args.size,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "client": "httpx" if args.httpx else "bare asyncio HTTP/1.1",
        "targets": {
            "reads_per_second": TARGET_READS_PER_SECOND,
            "p99_ms": TARGET_P99_MS,
            "ratio": TARGET_RATIO,
        },
        "audited": audited,
        "unaudited": unaudited,
        "overhead_ratio": ratio,
        "overhead_ratio_single_client": ratio_single,
        "met": met,
    }
    # The default run (one server process) is the one the README shows; others keep their own file.
    name = "http_reads" if args.workers == 1 else f"http_reads_workers{args.workers}"
    console.print(f"[dim]→ {write_result(name, figures)}[/dim]")
    return figures


if __name__ == "__main__":
    main()
