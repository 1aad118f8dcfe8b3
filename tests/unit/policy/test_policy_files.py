"""The packaged schema and policies: they parse, validate, carry @ids, and say what DESIGN §4.2 says."""

from __future__ import annotations

import json
import re
from importlib import resources

import cedarpy
import pytest

from shadan.domain.vocabulary import CompanyKind
from shadan.policy.catalog import load_default_catalog
from shadan.policy.compiled import PolicyError, PolicyFiles, compile_policies

FILES = PolicyFiles.packaged()
EXPECTED_IDS = {
    "td-staff-read",
    "contractor-read",
    "disaster-emergency-read",
    "retail-own-contract-read",
    "retail-no-non-public",
    "emergency-only-in-disaster",
    "purpose-required",
    "own-area-only",
    "regulator-no-records",
    "administrators-no-records",
}


def static_policies(text: str) -> dict[str, dict[str, object]]:
    document = json.loads(cedarpy.policies_to_json_str(text))
    policies: dict[str, dict[str, object]] = document["staticPolicies"]
    return policies


def test_policies_validate_against_the_schema() -> None:
    result = cedarpy.validate_policies(FILES.policies, cedarpy.Schema.from_str(FILES.schema))
    assert result.validation_passed, [str(e) for e in result.errors]


def test_every_policy_has_a_unique_id() -> None:
    policies = static_policies(FILES.policies)
    ids = [p.get("annotations", {}).get("id") for p in policies.values()]  # type: ignore[attr-defined]
    assert all(isinstance(i, str) and i for i in ids), ids
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS


def test_the_files_are_shipped_as_package_data() -> None:
    package = resources.files("shadan.policy")
    for name in ("schema.cedarschema", "policies.cedar", "roles.toml"):
        assert package.joinpath(name).is_file(), name


def test_no_policy_names_the_affiliated_retailer() -> None:
    """Non-discrimination by construction: one rule for every retailer (DESIGN §4.2)."""
    code = "\n".join(line.split("//")[0] for line in FILES.policies.splitlines())
    assert "affiliated" not in code
    assert 'CompanyKind::"retail"' not in code


def test_schema_company_kinds_are_the_domain_ones() -> None:
    match = re.search(r"entity CompanyKind enum \[([^\]]*)\]", FILES.schema)
    assert match is not None
    assert set(re.findall(r'"([^"]+)"', match.group(1))) == {k.value for k in CompanyKind}


def test_roles_named_by_policies_exist_in_the_default_catalog() -> None:
    """A renamed role would silently switch its forbid off."""
    named = set(re.findall(r"containsAny\(\[([^\]]*)\]\)", FILES.policies))
    roles = {r for group in named for r in re.findall(r'"([^"]+)"', group)}
    assert roles == {"sysadmin", "info_manager"}
    assert roles <= set(load_default_catalog().roles)


def test_compiled_ids_map_cedar_positions_to_annotations() -> None:
    compiled = compile_policies(FILES)
    assert set(compiled.ids.values()) == EXPECTED_IDS
    assert all(re.fullmatch(r"policy\d+", k) for k in compiled.ids)


def test_the_packaged_policies_read_no_clock_department_or_identity() -> None:
    """What the decision cache may leave out of its key (docs/policy.md, "Decision cache")."""
    refs = compile_policies(FILES).references
    assert not refs.identity
    assert refs.context is not None
    assert "now" not in refs.context
    assert refs.principal is not None
    assert "department" not in refs.principal
    assert refs.resource == frozenset({"area", "category", "retailer_code"})


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ("permit (principal, action, resource);", "no @id"),
        ('@id("") permit (principal, action, resource);', "no @id"),
        (
            '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
            "more than one",
        ),
        ('@id("a") permit (principal, action, resource) when { principal.nope };', "do not validate"),
        ('@id("a") permit (principal, action, resource', "cannot parse"),
        ('@id("t") permit (principal == ?principal, action, resource);', "templates"),
    ],
)
def test_bad_policies_are_refused(policies: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        compile_policies(PolicyFiles(schema=FILES.schema, policies=policies))


def test_a_bad_schema_is_refused() -> None:
    with pytest.raises(PolicyError, match="cannot parse"):
        compile_policies(PolicyFiles(schema="namespace {", policies=FILES.policies))
