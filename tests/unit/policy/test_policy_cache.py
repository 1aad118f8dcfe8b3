"""The decision cache and reloading: a cached answer is the answer Cedar would give, ids included,
and it never outlives the policies, catalog or setting that produced it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_support import ELSEWHERE, HOME, OTHER_RETAILER, OWN_RETAILER, context, disaster, item, principal

from shadan.domain.access import DisasterState, RequestContext
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.policy.compiled import PolicyError, PolicyFiles

C = InfoCategory
CATALOG = load_default_catalog()
SCHEMA = PolicyFiles.packaged().schema
CLERK = principal(["wheeling_clerk"])
ALLOW_ALL = '@id("allow-all") permit (principal, action, resource);\n'


def custom(extra: str) -> CedarAuthorizer:
    return CedarAuthorizer(CATALOG, files=PolicyFiles(schema=SCHEMA, policies=ALLOW_ALL + extra))


def test_a_cached_decision_keeps_its_policy_ids() -> None:
    auth = CedarAuthorizer(CATALOG)
    first = auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務"))
    again = auth.decide(
        CLERK, Action.VIEW, [item(C.USAGE, resource_id="0600000000000000000002")], context("託送業務")
    )
    assert first.decisions[0].policy_ids == again.decisions[0].policy_ids == ("td-staff-read",)
    assert again.decisions[0].item.resource_id == "0600000000000000000002"


def test_reload_with_new_policies_drops_cached_answers() -> None:
    auth = CedarAuthorizer(CATALOG)
    assert auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務")).shown
    auth.reload(
        files=PolicyFiles(schema=SCHEMA, policies='@id("nothing") forbid (principal, action, resource);')
    )
    decision = auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務"))
    assert not decision.shown
    assert decision.policy_ids == ("nothing",)
    assert auth.policy_ids == ("nothing",)


def test_reload_with_a_new_catalog_drops_cached_answers() -> None:
    auth = CedarAuthorizer(CATALOG)
    assert auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務")).shown
    narrower = dataclasses.replace(
        CATALOG.role("wheeling_clerk"), categories=CATALOG.role("wheeling_clerk").categories - {C.USAGE}
    )
    purpose = dataclasses.replace(CATALOG.purposes["託送業務"], categories=narrower.categories)
    auth.reload(
        catalog=RoleCatalog(
            roles={**CATALOG.roles, "wheeling_clerk": narrower},
            purposes={**CATALOG.purposes, "託送業務": purpose},
        )
    )
    assert not auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務")).shown


def test_reload_of_the_setting_drops_cached_answers() -> None:
    auth = CedarAuthorizer(CATALOG)
    retail = principal(["retail_staff"], CompanyKind.RETAIL)
    own = [item(C.SUPPLY_POINT, retailer_code=OWN_RETAILER)]
    assert not auth.decide(retail, Action.VIEW, own, context("自社契約確認")).shown
    auth.reload(retail_own_contracts=True)
    assert auth.retail_own_contracts
    assert auth.decide(retail, Action.VIEW, own, context("自社契約確認")).shown == {C.SUPPLY_POINT}


def test_a_broken_reload_keeps_the_old_policies() -> None:
    auth = CedarAuthorizer(CATALOG)
    with pytest.raises(PolicyError):
        auth.reload(files=PolicyFiles(schema=SCHEMA, policies="permit (principal, action, resource);"))
    assert "td-staff-read" in auth.policy_ids
    assert auth.decide(CLERK, Action.VIEW, [item(C.USAGE)], context("託送業務")).shown


def test_a_policy_on_identity_puts_identity_in_the_cache_key() -> None:
    auth = custom('@id("no-mallory") forbid (principal == Shadan::Account::"mallory", action, resource);')
    alice = principal(["wheeling_clerk"], account_id="alice")
    mallory = principal(["wheeling_clerk"], account_id="mallory")
    assert auth.decide(alice, Action.VIEW, [item(C.GRID)], context()).shown
    assert not auth.decide(mallory, Action.VIEW, [item(C.GRID)], context()).shown


def test_a_policy_on_the_clock_puts_the_clock_in_the_cache_key() -> None:
    auth = custom(
        '@id("closed-after") forbid (principal, action, resource) when { context.now >= 1800000000 };'
    )
    before = RequestContext(now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    after = RequestContext(now=dt.datetime(2027, 12, 1, tzinfo=dt.UTC))
    assert auth.decide(CLERK, Action.VIEW, [item(C.GRID)], before).shown
    assert not auth.decide(CLERK, Action.VIEW, [item(C.GRID)], after).shown


def test_a_policy_on_the_department_puts_the_department_in_the_cache_key() -> None:
    auth = custom(
        '@id("sales") forbid (principal, action, resource) when { principal.department == "営業部" };'
    )
    assert auth.decide(principal([], department="託送部"), Action.VIEW, [item(C.GRID)], context()).shown
    assert not auth.decide(principal([], department="営業部"), Action.VIEW, [item(C.GRID)], context()).shown


ROLE_SETS = st.frozensets(st.sampled_from([*sorted(CATALOG.roles), "unknown_role"]), max_size=3)
PURPOSES = st.sampled_from([None, "営業活動", *sorted(CATALOG.purposes)])
AREAS = st.sampled_from([HOME, ELSEWHERE, None])
CODES = st.sampled_from([OWN_RETAILER, OTHER_RETAILER, None])
DISASTERS = st.lists(
    st.builds(
        disaster,
        areas=st.frozensets(st.sampled_from([HOME, ELSEWHERE]), min_size=1),
        categories=st.frozensets(st.sampled_from(list(C)), min_size=1),
    ),
    max_size=2,
)
CACHED = CedarAuthorizer(CATALOG)
UNCACHED = CedarAuthorizer(CATALOG, cache_size=0)


@settings(max_examples=300, database=None)
@given(
    roles=ROLE_SETS,
    kind=st.sampled_from(list(CompanyKind)),
    emergency=st.booleans(),
    who_area=AREAS,
    categories=st.lists(st.sampled_from(list(C)), min_size=1, max_size=8, unique=True),
    item_area=AREAS,
    code=CODES,
    purpose=PURPOSES,
    disasters=DISASTERS,
    action=st.sampled_from([Action.VIEW, Action.SEARCH, Action.EXPORT]),
)
def test_cached_answers_equal_uncached_ones(
    roles: frozenset[str],
    kind: CompanyKind,
    emergency: bool,
    who_area: Area | None,
    categories: list[InfoCategory],
    item_area: Area | None,
    code: str | None,
    purpose: str | None,
    disasters: list[DisasterState],
    action: Action,
) -> None:
    who = principal(roles, kind, area=who_area, emergency=emergency)
    items = [item(c, area=item_area, retailer_code=code) for c in categories]
    ctx = context(purpose, disasters)
    assert CACHED.decide(who, action, items, ctx) == UNCACHED.decide(who, action, items, ctx)
