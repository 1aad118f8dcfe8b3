"""The periodic job of `shadan serve`: it ticks every interval, survives every failure, says loudly and
every time that the log refuses to sign, and never logs what a database error quotes. No real waiting:
the wait between ticks is a fake that counts and decides when to stop."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence

import pytest

from shadan.domain.errors import AuditUnavailable
from shadan.services.audit_log import CheckpointInfo, LogIntegrityError
from shadan.services.cosigning import (
    CosignatureProblem,
    CosignatureRejected,
    ReceivedCosignature,
    Stored,
    Submission,
    Witness,
)
from shadan.services.identity import Actor
from shadan.services.log_maintenance import PERIODIC_JOB, LogMaintainer, WitnessedLog

SIGNED = CheckpointInfo("test.example/log", 12, b"\x00" * 32, "note", dt.datetime(2025, 4, 1, tzinfo=dt.UTC))


class ScriptedLog:
    """`tick` answers from a script: a checkpoint, None (nothing due) or an exception to raise."""

    def __init__(self, *script: CheckpointInfo | BaseException | None) -> None:
        self.script = list(script)
        self.ticks = 0

    def tick(self) -> CheckpointInfo | None:
        self.ticks += 1
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        return step


class Waits:
    """The time between ticks: records each wait, and asks the job to stop after `rounds` of them."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.seconds.append(seconds)
        return len(self.seconds) >= self.rounds


def test_it_ticks_at_once_and_then_every_interval() -> None:
    log, waits = ScriptedLog(None, SIGNED, None), Waits(3)
    LogMaintainer(log, 5.0, waits).run()
    assert log.ticks == 3
    assert waits.seconds == [5.0, 5.0, 5.0]


def test_a_failure_is_logged_without_its_text_and_the_job_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    # A database error's text can quote the row being written (search terms are customer names).
    leaky = RuntimeError("INSERT ... [parameters: {'term': '山田 太郎'}] password=hunter2")
    log = ScriptedLog(leaky, AuditUnavailable("アクセスログを記録できません"), SIGNED)
    with caplog.at_level(logging.INFO, logger="shadan.services.log_maintenance"):
        LogMaintainer(log, 1.0, Waits(3)).run()
    assert log.ticks == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "RuntimeError" in errors[0].getMessage()
    assert "山田" not in caplog.text
    assert "hunter2" not in caplog.text
    assert "アクセスログを記録できません" in errors[1].getMessage()  # shadan's own message is safe
    assert "size 12" in caplog.records[-1].getMessage()  # the checkpoint signed at the third tick


def test_a_log_that_contradicts_its_history_is_reported_at_every_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusal = LogIntegrityError(
        "木がサイズ 20 の署名済みチェックポイントと一致しないため、署名を中止しました。"
    )
    log = ScriptedLog(refusal, refusal, refusal)
    with caplog.at_level(logging.INFO, logger="shadan.services.log_maintenance"):
        LogMaintainer(log, 1.0, Waits(3)).run()
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 3
    assert all("サイズ 20" in r.getMessage() for r in critical)


def test_start_runs_in_the_background_and_stop_ends_the_wait_at_once() -> None:
    ticked = threading.Event()

    class Signalling(ScriptedLog):
        def tick(self) -> CheckpointInfo | None:
            ticked.set()
            return super().tick()

    log = Signalling()
    maintainer = LogMaintainer(log, 3600.0)  # an hour: only stop() can end this wait
    maintainer.start()
    assert ticked.wait(10)
    with pytest.raises(RuntimeError):
        maintainer.start()
    maintainer.stop(timeout=10)
    assert log.ticks == 1
    assert not any(t.name == "shadan-log-maintainer" for t in threading.enumerate())


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LogMaintainer(ScriptedLog(), 0)


EGC = Witness("https://egc:secret-token@witness.example.jp", "witness.example.jp/egc+1a2b3c4d+BAAA")
AUDIT = Witness("http://10.0.8.5:8480", "audit.example.jp/witness+5e6f7a8b+BBBB")


class ScriptedWitnesses:
    """`submit_latest` answers from a script like ScriptedLog, recording whom it was asked to ask."""

    def __init__(self, *script: tuple[Submission, ...] | BaseException) -> None:
        self.script = list(script)
        self.asked: list[tuple[tuple[Witness, ...], Actor]] = []

    def submit_latest(self, witnesses: Sequence[Witness], actor: Actor) -> tuple[Submission, ...]:
        self.asked.append((tuple(witnesses), actor))
        step = self.script.pop(0) if self.script else ()
        if isinstance(step, BaseException):
            raise step
        return step


COSIGNED = Stored(
    ReceivedCosignature(
        "witness.example.jp/egc", "key", "test.example/log", 12, b"\x00" * 32, "— w x", SIGNED.created_at
    ),
    new=True,
)


def test_each_tick_offers_the_latest_checkpoint_to_every_witness() -> None:
    log, witnesses = ScriptedLog(SIGNED, None), ScriptedWitnesses((Submission(EGC, stored=COSIGNED),), ())
    witnessed = WitnessedLog(log, witnesses, [EGC, AUDIT])
    assert witnessed.tick() is SIGNED
    assert witnessed.tick() is None
    assert witnesses.asked == [((EGC, AUDIT), PERIODIC_JOB)] * 2
    assert PERIODIC_JOB.account_id == "system:log-maintainer"


@pytest.mark.parametrize(
    ("failure", "logged"),
    [
        (
            CosignatureRejected(CosignatureProblem.BAD_COSIGNATURE, "連署が検証できません"),
            "連署が検証できません",
        ),
        (ConnectionRefusedError("10.0.0.9:443 secret-detail"), "ConnectionRefusedError"),
    ],
)
def test_a_witness_that_fails_stops_neither_the_log_nor_the_other_witnesses(
    caplog: pytest.LogCaptureFixture, failure: Exception, logged: str
) -> None:
    log = ScriptedLog(SIGNED, SIGNED)
    answers = (Submission(EGC, failure=failure), Submission(AUDIT, stored=COSIGNED))
    witnessed = WitnessedLog(log, ScriptedWitnesses(answers, answers), [EGC, AUDIT])
    with caplog.at_level(logging.INFO):
        assert witnessed.tick() is SIGNED  # the checkpoint was signed all the same
        assert witnessed.tick() is SIGNED  # and the next tick offers it again
    assert f"witness submission failed: witness.example.jp/egc: {logged}" in caplog.text
    assert "secret-detail" not in caplog.text
    assert "secret-token" not in caplog.text  # a witness is named by its key, never by its URL
    assert caplog.text.count("witness.example.jp/egc, size 12") == 2


def test_the_log_goes_on_when_the_witnesses_cannot_be_asked(caplog: pytest.LogCaptureFixture) -> None:
    leaky = RuntimeError("SELECT ... password=hunter2")
    witnessed = WitnessedLog(ScriptedLog(SIGNED), ScriptedWitnesses(leaky), [EGC])
    with caplog.at_level(logging.INFO):
        assert witnessed.tick() is SIGNED
    assert "witness submission failed: RuntimeError" in caplog.text
    assert "hunter2" not in caplog.text
