"""roles.toml: the default roles of DESIGN §4.2, and a loader that refuses what it does not understand."""

from __future__ import annotations

from importlib import resources

import pytest

from shadan.domain.vocabulary import CompanyKind, InfoCategory, PolicySwitch
from shadan.policy.catalog import CatalogError, load_catalog, load_default_catalog, parse_catalog

CATALOG = load_default_catalog()
C = InfoCategory
CUSTOMER = {C.NEW_POWER_CUSTOMER, C.NEW_POWER_PURCHASE, C.USAGE}

MINIMAL = """
[purposes.p]
categories = ["grid"]

[roles.r]
label = "役割"
company_kinds = ["td"]
categories = ["grid"]
purposes = ["p"]
"""


def test_default_roles_are_the_design_table() -> None:
    assert set(CATALOG.roles) == {
        "wheeling_clerk",
        "network_engineer",
        "info_manager",
        "internal_auditor",
        "audit_investigator",
        "sysadmin",
        "contractor",
        "disaster_responder",
        "retail_staff",
        "regulator",
    }
    clerk = CATALOG.role("wheeling_clerk")
    assert clerk.label == "託送業務担当"
    assert clerk.company_kinds == {CompanyKind.TD}
    assert clerk.purposes == {"託送業務", "問合せ対応", "スイッチング処理"}
    assert CATALOG.role("network_engineer").purposes == {"工事調整", "設備保全", "停電対応"}
    assert CATALOG.role("disaster_responder").purposes == {"停電問合せ対応", "復旧作業支援"}


@pytest.mark.parametrize("role", ["info_manager", "internal_auditor", "sysadmin", "regulator"])
def test_roles_without_customer_data_grant_no_category(role: str) -> None:
    assert CATALOG.role(role).categories == frozenset()


def test_disaster_sharing_never_includes_retailer_contract_names_or_usage() -> None:
    """DESIGN §5.4: never shared in a disaster: retailer, contract, names, phone, usage, purchases."""
    for purpose in ("停電問合せ対応", "復旧作業支援"):
        assert not CATALOG.purposes[purpose].categories & CUSTOMER
    assert not CATALOG.role("disaster_responder").categories & CUSTOMER


def test_retail_roles_treat_every_retailer_alike() -> None:
    for role in CATALOG.roles.values():
        retail_kinds = role.company_kinds & {CompanyKind.RETAIL, CompanyKind.AFFILIATED_RETAIL}
        assert retail_kinds in (frozenset(), {CompanyKind.RETAIL, CompanyKind.AFFILIATED_RETAIL}), role.name


def test_every_purpose_of_a_role_stays_within_the_role() -> None:
    """The loader's rule that makes the union over several roles exact (docs/policy.md)."""
    for role in CATALOG.roles.values():
        for purpose in role.purposes:
            assert CATALOG.purposes[purpose].categories <= role.categories, (role.name, purpose)


def test_a_custom_path_can_be_loaded() -> None:
    with resources.as_file(resources.files("shadan.policy").joinpath("roles.toml")) as path:
        assert load_catalog(path) == CATALOG
    assert load_catalog(None) == CATALOG


def test_a_minimal_catalog_parses() -> None:
    catalog = parse_catalog(MINIMAL)
    assert catalog.role("r").categories == {C.GRID}
    assert catalog.purposes["p"].categories == {C.GRID}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('categories = ["grid"]\n\n[roles', 'categories = ["gird"]\n\n[roles', "gird"),
        ('company_kinds = ["td"]', 'company_kinds = ["utility"]', "utility"),
        ('company_kinds = ["td"]', "company_kinds = []", "at least one"),
        ('purposes = ["p"]', 'purposes = ["q"]', "not defined"),
        ('purposes = ["p"]', 'purposes = ["p", "p"]', "twice"),
        ('label = "役割"', 'label = ""', "label"),
        ('label = "役割"', 'lable = "役割"', "unknown keys lable"),
        ('purposes = ["p"]', 'purposes = "p"', "list of strings"),
        ("[purposes.p]", "[purposes]\np = 1\n[purposes.x]", "must be a table"),
        ("[roles.r]", "[roles.r\n", "not valid TOML"),
        (
            'categories = ["grid"]\n\n[roles',
            'categories = ["grid"]\nrequires = ["always"]\n\n[roles',
            "always",
        ),
    ],
)
def test_malformed_catalogs_are_refused(old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    with pytest.raises(CatalogError, match=message):
        parse_catalog(MINIMAL.replace(old, new, 1))


def test_a_purpose_that_needs_a_setting_is_offered_only_while_it_is_on() -> None:
    retail = frozenset({"retail_staff"})
    assert CATALOG.purposes["自社契約確認"].requires == {PolicySwitch.RETAIL_OWN_CONTRACTS}
    assert "自社契約確認" in CATALOG.purposes_of(retail)  # the role may state it ...
    assert "自社契約確認" not in CATALOG.offered_purposes(retail, frozenset())  # ... it is offered when on
    assert "自社契約確認" in CATALOG.offered_purposes(retail, frozenset({PolicySwitch.RETAIL_OWN_CONTRACTS}))
    clerk = frozenset({"wheeling_clerk"})
    assert CATALOG.offered_purposes(clerk, frozenset()) == CATALOG.purposes_of(clerk)


def test_a_purpose_wider_than_its_role_is_refused() -> None:
    text = MINIMAL.replace(
        '[purposes.p]\ncategories = ["grid"]', '[purposes.p]\ncategories = ["grid", "usage"]'
    )
    with pytest.raises(CatalogError, match="does not grant: usage"):
        parse_catalog(text)


def test_unknown_top_level_sections_are_refused() -> None:
    with pytest.raises(CatalogError, match="unknown keys extra"):
        parse_catalog(MINIMAL + "\n[extra]\nx = 1\n")
