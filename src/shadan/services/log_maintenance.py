"""The access log's periodic job inside an app server: sequence, and sign a checkpoint when one is due.

`shadan serve` (and `shadan demo`) run a `LogMaintainer` on a background thread next to the web server.
Every `interval` seconds it calls `AuditLogService.tick()`. Several app servers may do so at once: the
sequencer commits under the log's lock and redoes its work if another server was faster.

A failure never stops the job — a database that is briefly away is tried again at the next tick — and
is logged with its kind only: a database error's text can quote the rows it was writing. A log that
contradicts its own signed history (`LogIntegrityError`) is logged as critical at every tick, and the
log signs nothing until it is resolved (the refusal is in `tick` itself).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from shadan.domain.errors import DomainError
from shadan.services.audit_log import CheckpointInfo, LogIntegrityError
from shadan.services.cosigning import Submission, Witness
from shadan.services.identity import Actor

logger = logging.getLogger(__name__)
# Who hands checkpoints to the witness in the periodic job (the account of its `log:cosigned` events).
PERIODIC_JOB = Actor(account_id="system:log-maintainer")

# Waits up to the given seconds; True when the job is to stop.
Wait = Callable[[float], bool]


class PeriodicLog(Protocol):
    def tick(self) -> CheckpointInfo | None: ...


class LogMaintainer:
    def __init__(self, log: PeriodicLog, interval: float, wait: Wait | None = None) -> None:
        if interval <= 0:
            raise ValueError("the interval must be positive")
        self._log = log
        self._interval = interval
        self._stopping = threading.Event()
        self._wait = wait or self._stopping.wait
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run the job on a daemon thread (it must never keep a stopping server alive)."""
        if self._thread is not None:
            raise RuntimeError("the log maintainer is already running")
        self._thread = threading.Thread(target=self.run, name="shadan-log-maintainer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop waiting for the next tick; a tick under way is finished (it commits or rolls back)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self) -> None:
        """Tick, wait, tick, ... until stopped; the first tick right away."""
        while not self._stopping.is_set():
            self.tick()
            if self._wait(self._interval):
                return

    def tick(self) -> CheckpointInfo | None:
        """One tick; what went wrong is logged, never raised."""
        try:
            signed = self._log.tick()
        except LogIntegrityError as exc:
            logger.critical("アクセスログの整合性エラー: 署名を停止しています / log integrity error: %s", exc)
            return None
        except DomainError as exc:
            logger.error("アクセスログの定期処理に失敗しました / log maintenance failed: %s", exc)
            return None
        except Exception as exc:  # the job must survive any failure and try again
            logger.error(
                "アクセスログの定期処理に失敗しました / log maintenance failed: %s", type(exc).__name__
            )
            return None
        if signed is not None:
            logger.info("チェックポイント / checkpoint: %s, size %d", signed.origin, signed.size)
        return signed


class Witnessing(Protocol):
    def submit_latest(self, witnesses: Sequence[Witness], actor: Actor) -> tuple[Submission, ...]: ...


class WitnessedLog:
    """The periodic job with witnesses (SHADAN_LOG_WITNESS_URL, SHADAN_LOG_WITNESSES): after each tick,
    the latest checkpoint goes to every witness that has not cosigned it yet, so that proofs can rest on
    a checkpoint their quorum cosigned.

    A witness that is away or refuses stops neither the log nor the other witnesses: the failure is
    logged (a domain error's message, of anything else its kind only) and the same checkpoint, or a
    newer one, is offered again at the next tick.
    """

    def __init__(self, log: PeriodicLog, witnessing: Witnessing, witnesses: Sequence[Witness]) -> None:
        self._log = log
        self._witnessing = witnessing
        self._witnesses = tuple(witnesses)

    def tick(self) -> CheckpointInfo | None:
        signed = self._log.tick()
        try:
            submissions = self._witnessing.submit_latest(self._witnesses, PERIODIC_JOB)
        except Exception as exc:  # e.g. the database away: the log's own job must go on
            logger.warning("証人への連署依頼に失敗しました / witness submission failed: %s", _kind(exc))
            return signed
        for submission in submissions:
            _log_submission(submission)
        return signed


def _log_submission(submission: Submission) -> None:
    if submission.failure is not None:
        logger.warning(
            "証人への連署依頼に失敗しました / witness submission failed: %s: %s",
            submission.witness.name,
            _kind(submission.failure),
        )
    elif submission.stored is not None:
        cosignature = submission.stored.cosignature
        logger.info("連署 / cosigned: %s, size %d", cosignature.witness_name, cosignature.tree_size)


def _kind(exc: Exception) -> str:
    """A domain error's own message; of anything else its type only (its text may quote addresses)."""
    return exc.message if isinstance(exc, DomainError) else type(exc).__name__
