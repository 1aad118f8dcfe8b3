"""`shadan demo --size 2000 --no-serve` end to end, and a second run in the same SHADAN_HOME; the
proof file the demo writes is checked with `shadan audit verify-proof` and the key alone."""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner
from world import TestClock

from shadan.bootstrap import build
from shadan.cli.demo import demo
from shadan.cli.main import app as shadan_app
from shadan.config import Settings
from shadan.domain.access import Principal, RequestContext
from shadan.offline import build_proof_checker
from shadan.services.credentials import totp_code_at
from shadan.services.demo import DemoLogTools, DemoOptions, DemoSummary, run_demo
from shadan.services.demo_log import KEY_FILE, PROOF_FILE
from shadan.services.identity import Actor
from shadan.services.switching_fraud_signals import Heuristic
from shadan.services.switching_oversight import ViewRequest

SIZE = 2_000


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("demo")(demo)
    app.command("noop")(lambda: None)  # two commands, so `demo` is addressed by name as in `shadan demo`
    return app


def test_demo_prints_the_denial_and_the_cut_session(tmp_path: Path) -> None:
    # The embedded SQLite database of the temporary home, whatever the surrounding environment says.
    env = {
        "SHADAN_HOME": str(tmp_path),
        "SHADAN_DATABASE_URL": "",
        "SHADAN_ENVIRONMENT": "development",
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(_app(), ["demo", "--size", str(SIZE), "--no-serve"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "デモ用ログイン" in out
    assert "otpauth://totp/" in out
    assert "拒否（記録済み）" in out  # the affiliated retailer's attempts
    assert "retail-no-non-public" in out  # ... denied by the policy, named in the log
    assert "異動で終了したセッション: 1 件" in out
    assert "異動直後の次の要求: 拒否" in out
    assert "/switching/statistics" in out
    assert "/switching/fraud-signals" in out
    assert (tmp_path / "demo" / "supply_points.csv").read_bytes().count(b"\n") == SIZE + 1

    proof, key = tmp_path / "demo" / PROOF_FILE, tmp_path / "demo" / KEY_FILE
    assert "検証: 成功（改ざんなし）" in out
    command = f"shadan audit verify-proof {proof} --key {key}"
    assert command in out
    # The command as printed, with nothing but the two files: no database, no settings.
    offline = {"SHADAN_ENVIRONMENT": "production", "SHADAN_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/x"}
    checked = CliRunner().invoke(shadan_app, shlex.split(command)[1:], env=offline)
    assert checked.exit_code == 0, checked.output
    assert '"outcome": "denied"' in checked.output
    assert "retail-no-non-public" in checked.output  # the affiliated retailer's denied read


class FakeClock:
    """The services' clock; sleeping advances it, so a re-run needs no real 30-second wait for TOTP."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("size", [300])
def test_second_run_reuses_the_data_and_transfers_someone_new(tmp_path: Path, size: int) -> None:
    clock = FakeClock()
    shadan = build(Settings(home=tmp_path, database_url=None), clock=clock)
    try:
        options = DemoOptions(home=tmp_path, database="test", size=size)
        audit_log = shadan.audit_log
        tools = DemoLogTools(audit_log, build_proof_checker())
        actor = Actor.operator("test")
        runs = [run_demo(shadan, tools, options, actor, lambda *_: None, clock.sleep) for _ in range(2)]
    finally:
        shadan.close()
    first, second = runs
    assert not first.world.reused
    assert second.world.reused
    assert second.world.registry == ()
    assert second.world.hr_master == ()
    assert first.scenario.transfer.account_id != second.scenario.transfer.account_id
    for run in runs:
        assert run.scenario.transfer.refused_after
        assert [x.allowed for x in run.scenario.lookups] == [True, True, False, False]
    # Each run verifies the whole log, which has grown; the run is recorded with who ran it.
    assert first.log.verification.ok
    assert second.log.verification.ok
    assert first.log.checkpoint.size < second.log.checkpoint.size
    recorded = audit_log.last_verification()
    assert recorded is not None
    assert (recorded.run_by, recorded.ok) == ("cli:test", True)
    kept = {x.account_id: x.password for x in first.logins if x.key != "transferee"}
    assert {x.account_id: x.password for x in second.logins if x.key != "transferee"} == kept


def test_the_demo_stores_switching_work_the_clerk_sees_once(
    shadan: Any, clock: TestClock, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    options = DemoOptions(home=home, database="test", size=SIZE)
    tools = DemoLogTools(shadan.audit_log, build_proof_checker())
    runs = [_run(shadan, tools, options, clock) for _ in range(2)]
    first, second = runs
    assert first.switching.submitted
    assert first.switching.accepted
    assert first.switching.rejected
    assert first.switching.matched > 0
    assert first.switching.withdrawn > 0
    assert not second.switching.submitted  # the replay check is never reached: nothing is sent again
    assert (home / "demo" / "switching_cancellations.csv").exists()

    clerk = _principal(shadan, clock, next(x for x in second.logins if x.key == "clerk"))
    context = RequestContext(now=clock())
    stats = shadan.switching_stats.statistics(clerk, ViewRequest(), context)
    assert stats.total.applications == first.switching.cancellations
    assert sum(c.primary for c in stats.total.codes) == first.switching.rejected
    assert sum(1 for p in stats.periods if p.applications) >= 5  # spread over the last months
    signals = shadan.switching_fraud.signals(clerk, ViewRequest(), context)
    assert signals.of(Heuristic.VOLUME)


def _run(shadan: Any, tools: DemoLogTools, options: DemoOptions, clock: TestClock) -> DemoSummary:
    return run_demo(shadan, tools, options, Actor.operator("test"), lambda *_: None, clock.advance)


def _principal(shadan: Any, clock: TestClock, login: Any) -> Principal:
    clock.advance()  # a TOTP step the demo has not used
    result = shadan.auth.login(login.account_id, login.password, "127.0.0.1")
    if result.mfa_required:
        shadan.auth.verify_mfa(result.session_token, totp_code_at(login.totp_secret, clock()), "127.0.0.1")
    principal: Principal = shadan.auth.authenticate(result.session_token, "127.0.0.1")
    return principal
