"""Housekeeping of login state: ended sessions and forgotten address counters are deleted.

A session ends when it is revoked (logout, account disabled, transfer) or times out (idle or absolute,
docs/identity.md). Its row — which account held which session from which address, and when — is kept
`SHADAN_SESSION_KEEP_DAYS` after the end for investigations, then deleted. The failure counters of
source addresses are treated as zero by the throttle once its quiet window has passed; their rows are
deleted then. Account counters are never deleted here: they count consecutive failures towards the
lockout until a success or an unlock, for ids that exist and ids that do not alike.

A sweep that deletes anything records one access event (`housekeeping:swept`) with the counts.
`shadan serve` sweeps from its periodic job at most once an hour (as `system:housekeeper`); `shadan db
housekeeping` sweeps once, as the terminal operator (for installations whose servers run no job).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.audit_log import CheckpointInfo
from shadan.services.clock import Clock
from shadan.services.identity import IDENTITY_REALM, Actor, EventFactory, IdentityPolicy
from shadan.services.log_maintenance import PeriodicLog
from shadan.services.ports import UnitOfWorkFactory
from shadan.services.throttling import Throttle

logger = logging.getLogger(__name__)
HOUSEKEEPER = Actor(account_id="system:housekeeper")  # the periodic job's sweeps
SWEEP_EVERY = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Swept:
    sessions: int
    address_counters: int


class Sweeper(Protocol):
    def sweep(self, actor: Actor) -> Swept: ...


class Housekeeping:
    def __init__(
        self, uow: UnitOfWorkFactory, policy: IdentityPolicy, events: EventFactory, clock: Clock
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._throttle = Throttle(policy)
        self._events = events
        self._clock = clock

    def sweep(self, actor: Actor) -> Swept:
        now = self._clock()
        policy = self._policy
        with self._uow(IDENTITY_REALM) as uow:
            swept = Swept(
                sessions=uow.sessions.delete_ended_before(
                    now - dt.timedelta(days=policy.session_keep_days),
                    idle=dt.timedelta(minutes=policy.session_idle_minutes),
                    absolute=dt.timedelta(hours=policy.session_absolute_hours),
                ),
                address_counters=self._throttle.forget_stale_addresses(uow.throttle, now),
            )
            if swept.sessions or swept.address_counters:
                extra = {"sessions": swept.sessions, "address_counters": swept.address_counters}
                event = self._events.admin(
                    now, actor, AuditTag.HOUSEKEEPING_SWEPT, ResourceType.SESSION, (), extra=extra
                )
                uow.log.append([event])
            uow.commit()
        return swept


class SweepingLog:
    """The periodic job's tick with a sweep added at most once per SWEEP_EVERY. A failed sweep is logged
    by its kind and tried again at the next tick; it never keeps the log from its own tick."""

    def __init__(self, log: PeriodicLog, housekeeping: Sweeper, clock: Clock) -> None:
        self._log = log
        self._housekeeping = housekeeping
        self._clock = clock
        self._last: dt.datetime | None = None

    def tick(self) -> CheckpointInfo | None:
        now = self._clock()
        if self._last is None or now - self._last >= SWEEP_EVERY:
            try:
                self._housekeeping.sweep(HOUSEKEEPER)
                self._last = now
            except Exception as exc:  # the log's tick must run whatever happens here
                logger.error("ログイン状態の整理に失敗しました / housekeeping failed: %s", type(exc).__name__)
        return self._log.tick()
