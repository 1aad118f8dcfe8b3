"""The server's periodic job sweeps login state at the first tick and then at most once an hour; a failed
sweep is logged by its kind only, tried again at the next tick, and never keeps the log from ticking."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from shadan.services.audit_log import CheckpointInfo
from shadan.services.housekeeping import HOUSEKEEPER, SweepingLog, Swept
from shadan.services.identity import Actor

START = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


class CountingLog:
    def __init__(self) -> None:
        self.ticks = 0

    def tick(self) -> CheckpointInfo | None:
        self.ticks += 1
        return None


class ScriptedSweeper:
    """Sweeps as told: each entry of `failures` raises once, in order, before the sweeps succeed."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.actors: list[Actor] = []

    def sweep(self, actor: Actor) -> Swept:
        self.actors.append(actor)
        if self.failures:
            raise self.failures.pop(0)
        return Swept(sessions=1, address_counters=0)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def test_it_sweeps_at_once_then_once_an_hour_while_the_log_ticks_every_time() -> None:
    log, sweeper, clock = CountingLog(), ScriptedSweeper(), Clock()
    job = SweepingLog(log, sweeper, clock)
    for minutes in (0, 5, 59, 60, 61, 119, 125):
        clock.now = START + dt.timedelta(minutes=minutes)
        job.tick()
    assert log.ticks == 7
    assert sweeper.actors == [HOUSEKEEPER] * 3  # at 0, 60 and 125 minutes


def test_a_failed_sweep_is_logged_by_kind_and_tried_again_at_the_next_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    leaky = RuntimeError("DELETE FROM sessions WHERE token_hash = 'abc123' -- 192.0.2.10")
    log, sweeper, clock = CountingLog(), ScriptedSweeper(leaky), Clock()
    job = SweepingLog(log, sweeper, clock)
    with caplog.at_level(logging.INFO, logger="shadan.services.housekeeping"):
        job.tick()
        clock.now += dt.timedelta(seconds=5)
        job.tick()
    assert log.ticks == 2
    assert len(sweeper.actors) == 2  # not held back an hour after a failure
    assert "RuntimeError" in caplog.text
    assert "abc123" not in caplog.text
    assert "192.0.2.10" not in caplog.text
