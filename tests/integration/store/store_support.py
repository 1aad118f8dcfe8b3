"""Helpers of the store tests: an access event to write through the log's append path."""

from __future__ import annotations

import datetime as dt

from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType


def access_event(i: int, resource_ids: tuple[str, ...] = ()) -> AccessEvent:
    return AccessEvent(
        event_id=f"ev-{i}",
        ts=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
        system="shadan",
        account_id="k.tanaka",
        person_id="p001",
        company_id="td06",
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=resource_ids,
        outcome=Outcome.ALLOWED,
    )
