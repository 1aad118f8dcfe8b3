"""The plain AccessLogSink: each call commits its events in a unit of work of its own.

Correct on any store and with any fake unit of work, but one commit per call; `bootstrap` wires the group
commit of `shadan.audit.group_commit` instead, which shares one commit among concurrent requests.
"""

from __future__ import annotations

from collections.abc import Sequence

from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.services.ports import UnitOfWorkFactory

UNAVAILABLE_MESSAGE = "アクセスログを記録できないため、処理を中止しました。"
# The access log is no registry data: the realm that row-level security reserves for system work.
LOG_REALM = "system"


class UnitOfWorkLogSink:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def record(self, events: Sequence[AccessEvent]) -> None:
        if not events:
            return
        try:
            with self._uow(LOG_REALM) as uow:
                uow.log.append(events)
                uow.commit()
        except AuditUnavailable:
            raise
        except Exception as exc:
            # Whatever kept the events from being committed (a lost connection, a full disk), the
            # caller must not answer as if they were: fail closed.
            raise AuditUnavailable(UNAVAILABLE_MESSAGE) from exc
