"""What an attacker would try against the policy: other areas, borrowed or missing purposes, stale roles,
emergency credentials outside a disaster, other retailers' records, and inputs that break evaluation."""

from __future__ import annotations

import re

import pytest
from policy_support import (
    AUTHORIZER,
    ELSEWHERE,
    HOME,
    OTHER_RETAILER,
    OWN_RETAILER,
    authorizer,
    context,
    disaster,
    item,
    principal,
    record,
)

from shadan.domain.access import Decision, Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.policy.compiled import PolicyFiles
from shadan.policy.engine import DEFAULT_DENY, FAIL_CLOSED

C = InfoCategory
CLERK = principal(["wheeling_clerk"])
RESPONDER = principal(["disaster_responder"], CompanyKind.AFFILIATED_RETAIL, emergency=True, area=None)
RETAIL = principal(["retail_staff"], CompanyKind.RETAIL, area=None)


def one(
    who: Principal,
    target: ResourceItem,
    ctx: RequestContext,
    action: Action = Action.VIEW,
    own_contracts: bool = False,
) -> Decision:
    return authorizer(own_contracts).decide(who, action, [target], ctx).decisions[0]


def denied_by(decision: Decision, policy_id: str) -> bool:
    return not decision.allowed and policy_id in decision.policy_ids


# ---- T&D staff -------------------------------------------------------------------------------------


def test_another_area_is_denied_by_own_area_only() -> None:
    assert one(CLERK, item(C.SUPPLY_POINT), context("託送業務")).allowed
    assert denied_by(one(CLERK, item(C.SUPPLY_POINT, area=ELSEWHERE), context("託送業務")), "own-area-only")


@pytest.mark.parametrize(("who_area", "item_area"), [(None, HOME), (HOME, None), (None, None)])
def test_a_missing_area_is_denied(who_area: Area | None, item_area: Area | None) -> None:
    who = principal(["wheeling_clerk"], area=who_area)
    assert denied_by(one(who, item(C.SUPPLY_POINT, area=item_area), context("託送業務")), "own-area-only")


@pytest.mark.parametrize(
    ("purpose", "why"),
    [
        (None, "no purpose stated"),
        ("", "empty purpose"),
        ("停電対応", "another role's purpose"),
        ("営業活動", "a purpose not in the catalog"),
        ("スイッチング処理", "a purpose of the role that does not cover usage"),
    ],
)
def test_without_a_fitting_purpose_nothing_is_read(purpose: str | None, why: str) -> None:
    decision = one(CLERK, item(C.USAGE), context(purpose))
    assert denied_by(decision, "purpose-required"), why
    assert not decision.errors


def test_an_unknown_role_grants_nothing() -> None:
    decision = one(principal(["superuser"]), item(C.SUPPLY_POINT), context("託送業務"))
    assert not decision.allowed
    assert not decision.errors


@pytest.mark.parametrize("kind", [CompanyKind.RETAIL, CompanyKind.AFFILIATED_RETAIL, CompanyKind.REGULATOR])
def test_a_td_role_left_after_a_transfer_grants_nothing(kind: CompanyKind) -> None:
    who = principal(["wheeling_clerk"], kind)
    for category in C:
        assert not one(who, item(category), context("託送業務")).allowed


def test_a_contractor_given_a_td_role_reads_only_its_contract() -> None:
    who = principal(["contractor", "wheeling_clerk"], CompanyKind.CONTRACTOR)
    assert not one(who, item(C.NEW_POWER_CUSTOMER), context("託送業務")).allowed
    assert one(who, item(C.USAGE), context("検針")).allowed
    assert denied_by(one(who, item(C.USAGE), context("検針"), Action.EXPORT), DEFAULT_DENY)


@pytest.mark.parametrize("admin_role", ["sysadmin", "info_manager"])
def test_administrators_never_read_records_even_with_a_reading_role(admin_role: str) -> None:
    who = principal([admin_role, "wheeling_clerk"])
    assert denied_by(one(who, item(C.SUPPLY_POINT), context("託送業務")), "administrators-no-records")


def test_the_regulator_sees_no_record() -> None:
    who = principal(["regulator", "audit_investigator"], CompanyKind.REGULATOR)
    assert denied_by(one(who, item(C.SUPPLY_POINT), context("監査調査")), "regulator-no-records")


def test_an_emergency_flag_on_a_td_account_opens_nothing_outside_a_disaster() -> None:
    who = principal(["wheeling_clerk"], emergency=True)
    assert denied_by(one(who, item(C.SUPPLY_POINT), context("託送業務")), "emergency-only-in-disaster")


# ---- Disaster time ---------------------------------------------------------------------------------


def test_an_emergency_account_without_a_disaster_reads_nothing() -> None:
    decision = one(RESPONDER, item(C.SUPPLY_POINT), context("停電問合せ対応"))
    assert denied_by(decision, "retail-no-non-public")
    assert "emergency-only-in-disaster" in decision.policy_ids


def test_an_emergency_account_reads_the_disaster_projection() -> None:
    ctx = context("停電問合せ対応", [disaster()])
    decision = AUTHORIZER.decide(RESPONDER, Action.VIEW, record(), ctx)
    assert decision.shown == {C.SUPPLY_POINT, C.LOCATION, C.OUTAGE}
    allowed_by = {d.item.category: d.policy_ids for d in decision.decisions if d.allowed}
    assert allowed_by == dict.fromkeys(decision.shown, ("disaster-emergency-read",))


def test_a_disaster_in_another_area_opens_nothing_here() -> None:
    ctx = context("停電問合せ対応", [disaster(areas=[ELSEWHERE])])
    assert not AUTHORIZER.decide(RESPONDER, Action.VIEW, record(), ctx).shown


def test_the_purpose_still_limits_an_emergency_account() -> None:
    ctx_outage = context("停電問合せ対応", [disaster(categories=[C.EQUIPMENT, C.OUTAGE])])
    ctx_repair = context("復旧作業支援", [disaster(categories=[C.EQUIPMENT, C.OUTAGE])])
    assert denied_by(one(RESPONDER, item(C.EQUIPMENT), ctx_outage), "purpose-required")
    assert one(RESPONDER, item(C.EQUIPMENT), ctx_repair).allowed


def test_a_disaster_never_opens_customer_data() -> None:
    everything = context("停電問合せ対応", [disaster(categories=list(C))])
    for category in (C.NEW_POWER_CUSTOMER, C.NEW_POWER_PURCHASE, C.USAGE):
        assert not one(RESPONDER, item(category), everything).allowed


def test_two_disasters_open_their_own_pairs_only() -> None:
    """Flattening must pair each disaster's areas with its own categories, not with another's."""
    ctx = context(
        "停電問合せ対応",
        [disaster([HOME], [C.OUTAGE], "D1"), disaster([ELSEWHERE], [C.LOCATION], "D2")],
    )
    assert one(RESPONDER, item(C.OUTAGE, area=HOME), ctx).allowed
    assert one(RESPONDER, item(C.LOCATION, area=ELSEWHERE), ctx).allowed
    assert not one(RESPONDER, item(C.LOCATION, area=HOME), ctx).allowed
    assert not one(RESPONDER, item(C.OUTAGE, area=ELSEWHERE), ctx).allowed


def test_an_emergency_account_cannot_export() -> None:
    ctx = context("停電問合せ対応", [disaster()])
    assert one(RESPONDER, item(C.OUTAGE), ctx, Action.SEARCH).allowed
    assert not one(RESPONDER, item(C.OUTAGE), ctx, Action.EXPORT).allowed


def test_retail_staff_without_an_emergency_account_read_nothing_in_a_disaster() -> None:
    who = principal(["disaster_responder"], CompanyKind.AFFILIATED_RETAIL)
    assert denied_by(
        one(who, item(C.OUTAGE), context("停電問合せ対応", [disaster()])), "retail-no-non-public"
    )


# ---- Retailers' own contracts ------------------------------------------------------------------------


def own(category: InfoCategory) -> ResourceItem:
    return item(category, retailer_code=OWN_RETAILER)


def test_with_the_setting_off_a_retailer_reads_not_even_its_own_contracts() -> None:
    for category in C:
        assert denied_by(one(RETAIL, own(category), context("自社契約確認")), "retail-no-non-public")


def test_with_the_setting_on_a_retailer_reads_its_own_contracts_only() -> None:
    ctx = context("自社契約確認")
    decision = authorizer(True).decide(RETAIL, Action.VIEW, record(retailer_code=OWN_RETAILER), ctx)
    assert decision.shown == {C.SUPPLY_POINT, C.LOCATION, C.NEW_POWER_CUSTOMER, C.NEW_POWER_PURCHASE, C.USAGE}
    other = authorizer(True).decide(RETAIL, Action.VIEW, record(retailer_code=OTHER_RETAILER), ctx)
    assert not other.shown
    assert all("retail-no-non-public" in d.policy_ids for d in other.decisions)


@pytest.mark.parametrize(
    ("who_code", "item_code"), [("", ""), (OWN_RETAILER, None), (OWN_RETAILER, ""), ("", OWN_RETAILER)]
)
def test_blank_retailer_codes_never_match(who_code: str, item_code: str | None) -> None:
    who = principal(["retail_staff"], CompanyKind.RETAIL, retailer_code=who_code)
    target = item(C.SUPPLY_POINT, retailer_code=item_code)
    assert not one(who, target, context("自社契約確認"), own_contracts=True).allowed


def test_own_contracts_still_need_the_purpose_and_no_export() -> None:
    assert denied_by(one(RETAIL, own(C.SUPPLY_POINT), context(None), own_contracts=True), "purpose-required")
    assert not one(
        RETAIL, own(C.SUPPLY_POINT), context("自社契約確認"), Action.EXPORT, own_contracts=True
    ).allowed


def test_the_own_contracts_purpose_is_offered_while_the_setting_is_on() -> None:
    authorizer = CedarAuthorizer(load_default_catalog())
    assert "自社契約確認" not in authorizer.offered_purposes(RETAIL.roles)
    authorizer.reload(retail_own_contracts=True)
    assert "自社契約確認" in authorizer.offered_purposes(RETAIL.roles)


def test_the_setting_changes_nothing_for_td_staff() -> None:
    for own_contracts in (False, True):
        ctx = context("託送業務")
        assert one(CLERK, item(C.NEW_POWER_CUSTOMER), ctx, own_contracts=own_contracts).allowed
        assert not one(
            CLERK, item(C.NEW_POWER_CUSTOMER, area=ELSEWHERE), ctx, own_contracts=own_contracts
        ).allowed


# ---- Explanations and failing closed -------------------------------------------------------------------


def test_a_denial_no_policy_matched_says_default_deny() -> None:
    """A contractor exporting: no permit for export, and no forbid applies."""
    who = principal(["contractor"], CompanyKind.CONTRACTOR)
    assert one(who, item(C.USAGE), context("検針"), Action.EXPORT).policy_ids == (DEFAULT_DENY,)


def test_policy_ids_are_annotations_never_cedar_positions() -> None:
    cases = [
        (CLERK, item(C.SUPPLY_POINT), context("託送業務")),
        (CLERK, item(C.SUPPLY_POINT, area=ELSEWHERE), context(None)),
        (RESPONDER, item(C.OUTAGE), context("停電問合せ対応", [disaster()])),
    ]
    for who, target, ctx in cases:
        for policy_id in one(who, target, ctx).policy_ids:
            assert not re.fullmatch(r"policy\d+", policy_id)


@pytest.mark.parametrize("action", [Action.UPDATE, Action.ADMIN, Action.LOGIN])
def test_actions_that_are_not_record_reads_are_denied(action: Action) -> None:
    decision = one(CLERK, item(C.SUPPLY_POINT), context("託送業務"), action)
    assert decision.policy_ids == (DEFAULT_DENY,)
    assert decision.errors


def test_an_empty_record_gets_an_empty_decision() -> None:
    assert AUTHORIZER.decide(CLERK, Action.VIEW, [], context("託送業務")) == RecordDecision(Action.VIEW, ())


def test_conflicting_items_fail_closed() -> None:
    a = item(C.SUPPLY_POINT, retailer_code=OWN_RETAILER)
    b = item(C.SUPPLY_POINT, retailer_code=OTHER_RETAILER)
    uncached = CedarAuthorizer(load_default_catalog(), cache_size=0)
    decision = uncached.decide(CLERK, Action.VIEW, [a, b], context("託送業務"))
    assert not decision.shown
    assert all(d.policy_ids == (FAIL_CLOSED,) and d.errors for d in decision.decisions)


def test_an_evaluation_error_in_a_forbid_denies_what_a_permit_allowed() -> None:
    """Cedar skips a policy that errors; for a forbid that would open data, so the adapter denies."""
    files = PolicyFiles(
        schema=PolicyFiles.packaged().schema,
        policies='@id("allow-all") permit (principal, action, resource);\n'
        '@id("purpose-covers") forbid (principal, action, resource)\n'
        "unless { context has purpose && context.purpose.categories.contains(resource.category) };",
    )
    strict = CedarAuthorizer(load_default_catalog(), files=files)
    # A purpose missing from the catalog has no entity: reading its categories is an evaluation error.
    decision = strict.decide(CLERK, Action.VIEW, [item(C.GRID)], context("営業活動"))
    assert decision.decisions[0].policy_ids == (FAIL_CLOSED,)
    assert "does not exist" in decision.decisions[0].errors[0]
    assert not decision.shown
    assert strict.decide(CLERK, Action.VIEW, [item(C.GRID)], context("停電対応")).shown == {C.GRID}


def test_an_exception_denies_every_item() -> None:
    """Any failure below decide() (here, a caller passing garbage) shows nothing and says why."""
    not_a_context: RequestContext = None  # type: ignore[assignment]
    decision = AUTHORIZER.decide(CLERK, Action.VIEW, record(), not_a_context)
    assert not decision.shown
    assert all(d.policy_ids == (FAIL_CLOSED,) and d.errors for d in decision.decisions)
