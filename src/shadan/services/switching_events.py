"""Who does switching work, and the access events it leaves (DESIGN §4.3).

A T&D clerk (pages, API) works for the one area of the company that employs them; the operator at the
command line works for every area. Every event carries the purpose スイッチング処理 and, in `detail`, a JSON
object whose `tag` says what happened (SwitchingAuditTag).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shadan.domain.events import AccessEvent
from shadan.domain.switching import SWITCHING_PURPOSE, SwitchingAuditTag
from shadan.domain.vocabulary import Action, Area, InfoCategory, Outcome, ResourceType
from shadan.services.clock import Clock
from shadan.services.event_origin import origin_of


@dataclass(frozen=True, slots=True)
class SwitchingActor:
    account_id: str
    person_id: str = ""
    company_id: str = ""
    area: Area | None = None  # None: the operator, for every area
    terminal_id: str = ""
    source_ip: str = ""

    def covers(self, area: Area) -> bool:
        """Whether the actor works for supply points of `area`. Points of other areas are answered exactly
        as points that do not exist, so ids cannot be probed across areas."""
        return self.area is None or self.area is area


class SwitchingEvents:
    """Builds the access events of switching work on the server clock."""

    def __init__(
        self, system_name: str, clock: Clock, new_id: Callable[[], str] = lambda: uuid.uuid4().hex
    ) -> None:
        self._system = system_name
        self._clock = clock
        self._new_id = new_id

    def now(self) -> dt.datetime:
        return self._clock().astimezone(dt.UTC)

    def event(
        self,
        actor: SwitchingActor,
        action: Action,
        tag: SwitchingAuditTag,
        *,
        ids: Iterable[str] = (),
        outcome: Outcome = Outcome.ALLOWED,
        categories: Iterable[InfoCategory] = (),
        **detail: Any,
    ) -> AccessEvent:
        return AccessEvent(
            event_id=self._new_id(),
            ts=self.now(),
            system=self._system,
            **origin_of(actor),
            action=action,
            resource_type=ResourceType.SUPPLY_POINT,
            resource_ids=tuple(ids),
            outcome=outcome,
            categories=tuple(sorted(c.value for c in categories)),
            purpose=SWITCHING_PURPOSE,
            detail=json.dumps({"tag": tag.value, **detail}, ensure_ascii=False),
        )
