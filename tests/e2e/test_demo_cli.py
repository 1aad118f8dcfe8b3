"""`shadan demo --size 2000 --no-serve` end to end, and a second run in the same SHADAN_HOME."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shadan.bootstrap import build
from shadan.cli.demo import demo
from shadan.config import Settings
from shadan.services.demo import DemoOptions, run_demo
from shadan.services.identity import Actor

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
    assert (tmp_path / "demo" / "supply_points.csv").read_bytes().count(b"\n") == SIZE + 1


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
        runs = [
            run_demo(shadan, options, Actor.operator("test"), lambda *_: None, clock.sleep) for _ in range(2)
        ]
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
    kept = {x.account_id: x.password for x in first.logins if x.key != "transferee"}
    assert {x.account_id: x.password for x in second.logins if x.key != "transferee"} == kept
