"""The authorisation matrix in normal times: every role × company kind × category × action.

Expectations are written out, not computed from roles.toml, so a configuration change that widens
access fails here until someone decides it on purpose.
"""

from __future__ import annotations

import itertools

import pytest
from policy_support import AUTHORIZER, context, item, principal

from shadan.domain.vocabulary import Action, CompanyKind, InfoCategory

C = InfoCategory
A = Action
READ = {A.VIEW, A.SEARCH, A.EXPORT}
NO_EXPORT = {A.VIEW, A.SEARCH}

# (role, company kind) → (categories, actions) allowed in normal times with a fitting purpose.
GRANTS: dict[tuple[str, CompanyKind], tuple[set[InfoCategory], set[Action]]] = {
    ("wheeling_clerk", CompanyKind.TD): (
        {C.SUPPLY_POINT, C.LOCATION, C.NEW_POWER_CUSTOMER, C.NEW_POWER_PURCHASE, C.USAGE},
        READ,
    ),
    ("network_engineer", CompanyKind.TD): ({C.SUPPLY_POINT, C.LOCATION, C.EQUIPMENT, C.GRID, C.OUTAGE}, READ),
    ("audit_investigator", CompanyKind.TD): (set(C), READ),
    ("contractor", CompanyKind.CONTRACTOR): ({C.SUPPLY_POINT, C.LOCATION, C.USAGE}, NO_EXPORT),
}
ROLES = sorted(AUTHORIZER.catalog.roles)
CASES = list(itertools.product(ROLES, CompanyKind, C, sorted(READ)))


def fitting_purpose(role: str, category: InfoCategory) -> str | None:
    """The role's first purpose that covers the category, else its first purpose at all."""
    catalog = AUTHORIZER.catalog
    purposes = sorted(catalog.role(role).purposes)
    covering = [p for p in purposes if category in catalog.purposes[p].categories]
    chosen = covering or purposes
    return chosen[0] if chosen else None


@pytest.mark.parametrize(("role", "kind", "category", "action"), CASES)
def test_matrix(role: str, kind: CompanyKind, category: InfoCategory, action: Action) -> None:
    categories, actions = GRANTS.get((role, kind), (set(), set()))
    expected = category in categories and action in actions
    decision = AUTHORIZER.decide(
        principal([role], kind), action, [item(category)], context(fitting_purpose(role, category))
    )
    assert decision.decisions[0].allowed is expected
    assert decision.decisions[0].policy_ids, "every decision names what decided it"
    assert not decision.decisions[0].errors


def test_matrix_covers_every_role_kind_category_and_action() -> None:
    assert len(CASES) == len(ROLES) * len(CompanyKind) * len(C) * 3
    assert {role for role, _ in GRANTS} <= set(ROLES)


def test_a_permitted_read_names_the_permit() -> None:
    decision = AUTHORIZER.decide(
        principal(["wheeling_clerk"]), A.VIEW, [item(C.NEW_POWER_CUSTOMER)], context("託送業務")
    )
    assert decision.decisions[0].policy_ids == ("td-staff-read",)


def test_one_record_is_decided_per_category() -> None:
    items = [item(c) for c in C]
    decision = AUTHORIZER.decide(principal(["wheeling_clerk"]), A.VIEW, items, context("託送業務"))
    assert [d.item for d in decision.decisions] == items
    assert decision.shown == {C.SUPPLY_POINT, C.LOCATION, C.NEW_POWER_CUSTOMER, C.NEW_POWER_PURCHASE, C.USAGE}
    assert decision.withheld == {C.EQUIPMENT, C.GRID, C.OUTAGE}
