"""Builders shared by the policy tests: principals, resources and contexts with sensible defaults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shadan.domain.access import DisasterState, Principal, RequestContext, ResourceItem
from shadan.domain.vocabulary import Area, CompanyKind, InfoCategory, ResourceType
from shadan.policy.authorizer import CedarAuthorizer, default_authorizer

NOW = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
HOME = Area.KANSAI
ELSEWHERE = Area.TOKYO
OWN_RETAILER = "R100"
OTHER_RETAILER = "R200"
RECORD_CATEGORIES = tuple(InfoCategory)

# Built once per test session: parsing is the expensive part, and reuse is what production does.
AUTHORIZER = default_authorizer()
AUTHORIZER_OWN_CONTRACTS = default_authorizer(retail_own_contracts=True)


def authorizer(own_contracts: bool = False) -> CedarAuthorizer:
    return AUTHORIZER_OWN_CONTRACTS if own_contracts else AUTHORIZER


def principal(
    roles: Iterable[str],
    kind: CompanyKind = CompanyKind.TD,
    *,
    area: Area | None = HOME,
    retailer_code: str | None = None,
    emergency: bool = False,
    account_id: str = "acct-1",
    department: str = "託送部",
) -> Principal:
    if retailer_code is None and kind.is_retail:
        retailer_code = OWN_RETAILER
    return Principal(
        account_id=account_id,
        person_id=f"person-{account_id}",
        company_id=f"company-{kind.value}",
        company_kind=kind,
        department=department,
        area=area,
        retailer_code=retailer_code,
        roles=frozenset(roles),
        emergency=emergency,
    )


def item(
    category: InfoCategory,
    *,
    area: Area | None = HOME,
    retailer_code: str | None = OTHER_RETAILER,
    resource_id: str = "0600000000000000000001",
) -> ResourceItem:
    return ResourceItem(
        resource_type=ResourceType.SUPPLY_POINT,
        resource_id=resource_id,
        category=category,
        area=area,
        retailer_code=retailer_code,
    )


def record(
    categories: Iterable[InfoCategory] = RECORD_CATEGORIES,
    *,
    area: Area | None = HOME,
    retailer_code: str | None = OTHER_RETAILER,
) -> list[ResourceItem]:
    return [item(c, area=area, retailer_code=retailer_code) for c in categories]


def disaster(
    areas: Iterable[Area] = (HOME,),
    categories: Iterable[InfoCategory] = (
        InfoCategory.SUPPLY_POINT,
        InfoCategory.LOCATION,
        InfoCategory.OUTAGE,
    ),
    disaster_id: str = "D-2026-01",
) -> DisasterState:
    return DisasterState(disaster_id=disaster_id, areas=frozenset(areas), categories=frozenset(categories))


def context(purpose: str | None = None, disasters: Iterable[DisasterState] = ()) -> RequestContext:
    return RequestContext(now=NOW, purpose=purpose, disasters=tuple(disasters))
