"""The inputs and outputs of one access decision, shared by the policy adapter and the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory, ResourceType


@dataclass(frozen=True, slots=True)
class Principal:
    """Who asks, as of now: the account, its person and the company that employs that person today."""

    account_id: str
    person_id: str
    company_id: str
    company_kind: CompanyKind
    department: str
    area: Area | None
    retailer_code: str | None
    roles: frozenset[str]
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class DisasterState:
    """A declared disaster as the policy sees it (empty when none is active)."""

    disaster_id: str
    areas: frozenset[Area]
    categories: frozenset[InfoCategory]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Everything about the request that is not the principal or the resource (server clock, purpose)."""

    now: dt.datetime
    purpose: str | None = None
    terminal_id: str = ""
    source_ip: str = ""
    disasters: tuple[DisasterState, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceItem:
    """One category of one record: the unit a decision is asked for."""

    resource_type: ResourceType
    resource_id: str
    category: InfoCategory
    area: Area | None
    retailer_code: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    item: ResourceItem
    allowed: bool
    policy_ids: tuple[str, ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordDecision:
    """The batched decision for all categories of one record."""

    action: Action
    decisions: tuple[Decision, ...]
    shown: frozenset[InfoCategory] = field(init=False)
    withheld: frozenset[InfoCategory] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shown", frozenset(d.item.category for d in self.decisions if d.allowed))
        object.__setattr__(
            self, "withheld", frozenset(d.item.category for d in self.decisions if not d.allowed)
        )

    @property
    def any_allowed(self) -> bool:
        return bool(self.shown)

    @property
    def policy_ids(self) -> tuple[str, ...]:
        return tuple(sorted({pid for d in self.decisions for pid in d.policy_ids}))
