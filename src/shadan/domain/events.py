"""The access event (DESIGN §4.3, §5.5): who, what, when, where, why, decision, deciding policies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shadan.domain.vocabulary import Action, Outcome, ResourceType


@dataclass(frozen=True, slots=True)
class AccessEvent:
    event_id: str
    ts: dt.datetime
    system: str
    account_id: str
    action: Action
    resource_type: ResourceType | str
    resource_ids: tuple[str, ...]
    outcome: Outcome
    person_id: str = ""
    company_id: str = ""
    categories: tuple[str, ...] = ()
    withheld_categories: tuple[str, ...] = ()
    terminal_id: str = ""
    source_ip: str = ""
    purpose: str = ""
    policy_ids: tuple[str, ...] = ()
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("access event timestamps must be timezone-aware (UTC)")
