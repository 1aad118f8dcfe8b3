"""`shadan db housekeeping` end to end: a session that timed out a hundred days ago is deleted, today's
stays, and the sweep is in the access log under the terminal operator's id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner
from world import TestClock, World

from shadan.audit.log import access_events
from shadan.cli.main import app
from shadan.store.tables import sessions


def _scalars(url: str, query: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()


def test_db_housekeeping_deletes_long_ended_sessions_only(
    db_url: str, tmp_path: Path, shadan: Any, world: World, clock: TestClock
) -> None:
    today = clock.now
    clock.now = today - dt.timedelta(days=100)
    world.login("clerk")  # idle for a hundred days by the real clock the command runs on
    clock.now = today
    world.login("clerk")
    assert _scalars(db_url, select(func.count()).select_from(sessions)) == [2]

    env = {"SHADAN_HOME": str(tmp_path / "home"), "SHADAN_DATABASE_URL": db_url, "SHADAN_ENVIRONMENT": "test"}
    result = CliRunner().invoke(app, ["db", "housekeeping"], env=env)

    assert result.exit_code == 0, result.output
    assert "終了したセッション 1 件" in result.output
    assert _scalars(db_url, select(func.count()).select_from(sessions)) == [1]
    swept = select(access_events.c.account_id).where(access_events.c.detail == "housekeeping:swept")
    [sweeper] = _scalars(db_url, swept)
    assert sweeper.startswith("cli:")
