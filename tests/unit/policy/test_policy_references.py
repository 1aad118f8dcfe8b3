"""find_references: what the cache may leave out of its key, read from the policies themselves."""

from __future__ import annotations

import json

import cedarpy
import pytest

from shadan.policy.references import References, find_references


def refs(policies: str) -> References:
    return find_references(json.loads(cedarpy.policies_to_json_str(policies))["staticPolicies"])


def test_attribute_reads_are_collected_per_variable() -> None:
    found = refs(
        "permit (principal, action, resource) when {"
        " principal.area == resource.area && context.purpose.categories.contains(resource.category)"
        " && context has now };"
    )
    assert found == References(
        identity=False,
        principal=frozenset({"area"}),
        resource=frozenset({"area", "category"}),
        context=frozenset({"purpose", "now"}),
    )


@pytest.mark.parametrize(
    "policy",
    [
        'permit (principal == Shadan::Account::"a", action, resource);',
        'permit (principal, action, resource in Shadan::Item::"r");',
        'permit (principal is Shadan::Account in Shadan::Account::"g", action, resource);',
        'permit (principal, action, resource) when { principal == Shadan::Account::"a" };',
        "permit (principal, action, resource) when { resource is Shadan::Item };",
    ],
)
def test_identity_or_hierarchy_makes_everything_count(policy: str) -> None:
    found = refs(policy)
    assert found.identity
    assert found.principal is None
    assert found.resource is None


def test_type_only_scopes_are_not_identity() -> None:
    assert not refs("permit (principal is Shadan::Account, action, resource is Shadan::Item);").identity


def test_the_whole_context_used_as_a_value_makes_all_of_it_count() -> None:
    assert refs('permit (principal, action, resource) when { context == {"a": 1} };').context is None


def test_an_unknown_shape_assumes_everything_matters() -> None:
    found = find_references({"policy0": "not a policy"})
    assert found.identity
    assert found.context is None
