"""Domain objects → the Cedar entities and context of schema.cedarschema.

Each builder first collects the entity's attributes as hashable facts, then renders them to Cedar JSON.
The decision cache keys on the facts the policies read, so it keys on exactly what Cedar sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from shadan.domain.access import DisasterState, Principal, RequestContext, ResourceItem
from shadan.domain.roles import Purpose, RoleCatalog

ACCOUNT = "Shadan::Account"
ITEM = "Shadan::Item"
PURPOSE = "Shadan::Purpose"
COMPANY_KIND = "Shadan::CompanyKind"
ACTION = "Shadan::Action"

Facts = dict[str, object]
"""Attribute name → hashable value (str, bool, int, frozenset); absent = Cedar's absent attribute."""
Key = tuple[object, ...]


def ref(entity_type: str, entity_id: str) -> dict[str, object]:
    """An entity reference inside an attribute value (Cedar JSON's explicit escape)."""
    return {"__entity": {"type": entity_type, "id": entity_id}}


_ABSENT = ("absent",)


def project(facts: Mapping[str, object], names: tuple[str, ...] | None) -> Key:
    """The cache-key part of `facts`: the values of the attributes named, in that order (absent ones
    included as such); all attributes, with their names, when `names` is None."""
    if names is None:
        return tuple(sorted(facts.items(), key=lambda pair: pair[0]))
    return tuple([facts.get(name, _ABSENT) for name in names])


def account_facts(principal: Principal, catalog: RoleCatalog) -> Facts:
    # A role counts only on a company kind it is defined for: a T&D role left on an account after a
    # transfer to a contractor or retailer grants nothing there.
    effective = frozenset(
        name
        for name in principal.roles
        if name in catalog.roles and principal.company_kind in catalog.roles[name].company_kinds
    )
    facts: Facts = {
        "company_kind": principal.company_kind.value,
        "retail_company": principal.company_kind.is_retail,
        "department": principal.department,
        "emergency": principal.emergency,
        # Every held role, valid or not: the policies use roles only to restrict (separation of duties).
        "roles": frozenset(principal.roles),
        "purposes": catalog.purposes_of(effective),
        "categories": frozenset(c.value for c in catalog.categories_of(effective)),
    }
    _optional(facts, "area", principal.area)
    _optional(facts, "retailer_code", principal.retailer_code)
    return facts


def account_json(account_id: str, facts: Facts) -> str:
    return entity_json(ACCOUNT, account_id, facts, _ACCOUNT_REFS)


def item_uid(item: ResourceItem) -> str:
    return f"{item.resource_type}/{item.resource_id}/{item.category}"


def item_source(item: ResourceItem) -> tuple[object, ...]:
    """Everything item_facts reads from an item (ids aside): the memo key for the item's facts."""
    return (item.resource_type, item.category, item.area, item.retailer_code)


def item_facts(item: ResourceItem) -> Facts:
    resource_type, category, area, retailer_code = item_source(item)
    facts: Facts = {"resource_type": str(resource_type), "category": str(category)}
    _optional(facts, "area", str(area) if area else None)
    _optional(facts, "retailer_code", str(retailer_code) if retailer_code else None)
    return facts


def item_json(item: ResourceItem, facts: Facts) -> str:
    return entity_json(ITEM, item_uid(item), facts, {})


def purpose_json(purpose: Purpose) -> str:
    return entity_json(
        PURPOSE, purpose.name, {"categories": frozenset(c.value for c in purpose.categories)}, {}
    )


def disaster_cells(disasters: Iterable[DisasterState]) -> frozenset[tuple[str, str]]:
    """Every (area, category) an active disaster opens. Cedar has no "exists" over a set of records,
    so the policies test membership of the resource's (area, category) pair in this flat set."""
    return frozenset(
        (area.value, category.value) for d in disasters for area in d.areas for category in d.categories
    )


def context_facts(context: RequestContext, retail_own_contracts: bool) -> Facts:
    facts: Facts = {
        "now": int(context.now.timestamp()),
        "disasters": disaster_cells(context.disasters),
        "retail_own_contracts": retail_own_contracts,
    }
    _optional(facts, "purpose", context.purpose)
    return facts


def context_json(facts: Facts) -> str:
    return json.dumps(
        {name: _value(name, v, _CONTEXT_RENDER) for name, v in facts.items()}, ensure_ascii=False
    )


def entity_json(
    entity_type: str, entity_id: str, facts: Facts, render: Mapping[str, Callable[[object], object]]
) -> str:
    attrs = {name: _value(name, value, render) for name, value in facts.items()}
    return json.dumps(
        {"uid": {"type": entity_type, "id": entity_id}, "attrs": attrs, "parents": []}, ensure_ascii=False
    )


def _value(name: str, value: object, render: Mapping[str, Callable[[object], object]]) -> object:
    special = render.get(name)
    if special is not None:
        return special(value)
    if isinstance(value, frozenset):
        return sorted(value)  # a Cedar set; sorted only so the JSON is stable
    return value


def _refs(entity_type: str) -> Callable[[object], object]:
    def render(value: object) -> object:
        names = sorted(value) if isinstance(value, frozenset) else [value]
        refs = [ref(entity_type, str(name)) for name in names]
        return refs if isinstance(value, frozenset) else refs[0]

    return render


def _cells(value: object) -> object:
    cells = sorted(value) if isinstance(value, frozenset) else []
    return [{"area": area, "category": category} for area, category in cells]


_ACCOUNT_REFS = {"company_kind": _refs(COMPANY_KIND), "purposes": _refs(PURPOSE)}
_CONTEXT_RENDER = {"purpose": _refs(PURPOSE), "disasters": _cells}


def _optional(facts: Facts, name: str, value: str | None) -> None:
    # Cedar optional attributes are absent, never null; policies test them with `has`. An empty string
    # is absent too, so two blank retailer codes can never "match".
    if value:
        facts[name] = str(value)
