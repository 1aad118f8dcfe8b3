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
from collections.abc import Callable
from typing import Protocol

from shadan.domain.errors import DomainError
from shadan.services.audit_log import CheckpointInfo, LogIntegrityError
from shadan.services.cosigning import Stored
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
    def submit_latest(self, url: str, witness_key: str, actor: Actor) -> Stored | None: ...


class WitnessedLog:
    """The periodic job with a witness (SHADAN_LOG_WITNESS_URL): after each tick, the latest checkpoint
    goes to the witness unless it has cosigned it already, so proofs can rest on a witnessed checkpoint.

    A witness that is away or refuses does not stop the log: the failure is logged (its kind only) and
    the same checkpoint, or a newer one, is offered again at the next tick.
    """

    def __init__(self, log: PeriodicLog, witnessing: Witnessing, url: str, witness_key: str) -> None:
        self._log = log
        self._witnessing = witnessing
        self._url = url
        self._witness_key = witness_key

    def tick(self) -> CheckpointInfo | None:
        signed = self._log.tick()
        try:
            stored = self._witnessing.submit_latest(self._url, self._witness_key, PERIODIC_JOB)
        except Exception as exc:  # a refusal or a network failure must not stop the log's own job
            detail = exc.message if isinstance(exc, DomainError) else type(exc).__name__
            logger.warning("監視者への連署依頼に失敗しました / witness submission failed: %s", detail)
        else:
            if stored is not None:
                cosignature = stored.cosignature
                logger.info("連署 / cosigned: %s, size %d", cosignature.witness_name, cosignature.tree_size)
        return signed
