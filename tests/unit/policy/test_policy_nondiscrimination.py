"""差別的取扱いの禁止 (DESIGN §4.2): the affiliated retailer gets exactly what any other retailer gets.

Two principals that differ only in being affiliated_retail or retail must get identical decisions,
allowed and denied alike, with the same deciding policies, over the same synthetic resources.
"""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_support import ELSEWHERE, HOME, OTHER_RETAILER, OWN_RETAILER, context, disaster, item, principal

from shadan.domain.access import DisasterState, Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog

C = InfoCategory
CATALOG = load_default_catalog()
# No cache: both principals are evaluated by Cedar itself, never one answer reused for the other.
AUTHORIZERS = {own: CedarAuthorizer(CATALOG, own, cache_size=0) for own in (False, True)}
RETAIL_PURPOSES = [None, "自社契約確認", "停電問合せ対応", "復旧作業支援"]
ROLE_SETS = [
    ["retail_staff"],
    ["disaster_responder"],
    ["retail_staff", "disaster_responder"],
    ["wheeling_clerk"],
]
DISASTER_STATES: list[list[DisasterState]] = [
    [],
    [disaster(categories=[C.SUPPLY_POINT, C.OUTAGE, C.EQUIPMENT, C.NEW_POWER_CUSTOMER])],
    [disaster(areas=[ELSEWHERE], categories=list(C))],
]
# One synthetic record per (area, retailer) pair, each with every category. (Records without a
# retailer code, and other areas and codes, are left to the randomised test below.)
ALL_CATEGORIES = [
    item(c, area=area, retailer_code=code, resource_id=f"{area}-{code}")
    for c in C
    for area in (HOME, ELSEWHERE)
    for code in (OWN_RETAILER, OTHER_RETAILER)
]


def both(
    who: Principal, action: Action, items: list[ResourceItem], ctx: RequestContext, own: bool
) -> tuple[RecordDecision, RecordDecision]:
    affiliated = dataclasses.replace(who, company_kind=CompanyKind.AFFILIATED_RETAIL, company_id="affiliated")
    unaffiliated = dataclasses.replace(who, company_kind=CompanyKind.RETAIL, company_id="new-power")
    authorizer = AUTHORIZERS[own]
    return authorizer.decide(affiliated, action, items, ctx), authorizer.decide(
        unaffiliated, action, items, ctx
    )


def test_identical_decisions_over_every_category_setting_and_disaster_state() -> None:
    allowed = 0
    for own, roles, disasters, purpose, emergency, action in itertools.product(
        (False, True), ROLE_SETS, DISASTER_STATES, RETAIL_PURPOSES, (False, True), list(Action)[:3]
    ):
        who = principal(roles, CompanyKind.RETAIL, emergency=emergency, area=None)
        affiliated, unaffiliated = both(who, action, ALL_CATEGORIES, context(purpose, disasters), own)
        assert affiliated == unaffiliated, (own, roles, disasters, purpose, emergency, action)
        allowed += sum(d.allowed for d in affiliated.decisions)
    assert allowed > 0, "the sweep must include permitted reads, or it proves nothing"


@settings(max_examples=300, database=None)
@given(
    roles=st.frozensets(st.sampled_from(sorted(CATALOG.roles)), max_size=3),
    emergency=st.booleans(),
    who_area=st.sampled_from([HOME, ELSEWHERE, None]),
    who_code=st.sampled_from([OWN_RETAILER, OTHER_RETAILER, "R999"]),
    categories=st.lists(st.sampled_from(list(C)), min_size=1, max_size=8, unique=True),
    item_area=st.sampled_from([HOME, ELSEWHERE, None]),
    item_code=st.sampled_from([OWN_RETAILER, OTHER_RETAILER, None]),
    purpose=st.sampled_from([None, *sorted(CATALOG.purposes)]),
    disasters=st.lists(
        st.builds(
            disaster,
            areas=st.frozensets(st.sampled_from([HOME, ELSEWHERE]), min_size=1),
            categories=st.frozensets(st.sampled_from(list(C)), min_size=1),
        ),
        max_size=2,
    ),
    own=st.booleans(),
    action=st.sampled_from([Action.VIEW, Action.SEARCH, Action.EXPORT]),
)
def test_identical_decisions_for_random_synthetic_resources(
    roles: frozenset[str],
    emergency: bool,
    who_area: Area | None,
    who_code: str,
    categories: list[InfoCategory],
    item_area: Area | None,
    item_code: str | None,
    purpose: str | None,
    disasters: list[DisasterState],
    own: bool,
    action: Action,
) -> None:
    who = principal(roles, CompanyKind.RETAIL, area=who_area, retailer_code=who_code, emergency=emergency)
    items = [item(c, area=item_area, retailer_code=item_code) for c in categories]
    affiliated, unaffiliated = both(who, action, items, context(purpose, disasters), own)
    assert affiliated == unaffiliated
