"""The schema and policy files, parsed and checked once into reusable cedarpy handles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cedarpy

from shadan.policy.references import References, find_references

SCHEMA_FILE = "schema.cedarschema"
POLICIES_FILE = "policies.cedar"


class PolicyError(ValueError):
    """The policies or schema cannot be used; nothing is decided with them."""


@dataclass(frozen=True, slots=True)
class PolicyFiles:
    """The text of a Cedar schema (human format) and of a policy set."""

    schema: str
    policies: str

    @classmethod
    def packaged(cls) -> PolicyFiles:
        """The files shipped inside the shadan package (works from an installed wheel too)."""
        package = resources.files("shadan.policy")
        return cls(
            schema=package.joinpath(SCHEMA_FILE).read_text(encoding="utf-8"),
            policies=package.joinpath(POLICIES_FILE).read_text(encoding="utf-8"),
        )

    @classmethod
    def from_directory(cls, directory: Path | str) -> PolicyFiles:
        base = Path(directory)
        return cls(
            schema=(base / SCHEMA_FILE).read_text(encoding="utf-8"),
            policies=(base / POLICIES_FILE).read_text(encoding="utf-8"),
        )


@dataclass(frozen=True, slots=True)
class CompiledPolicies:
    schema: cedarpy.Schema
    policy_set: cedarpy.PolicySet
    ids: dict[str, str]
    """Cedar's positional policy ids (policy0, …) → the policy's @id annotation."""
    references: References


def compile_policies(files: PolicyFiles) -> CompiledPolicies:
    """Parse and validate once; raise PolicyError rather than run with a policy that does not check."""
    try:
        schema = cedarpy.Schema.from_str(files.schema)
        policy_set = cedarpy.PolicySet.from_str(files.policies)
        document = json.loads(cedarpy.policies_to_json_str(files.policies))
    except ValueError as exc:
        raise PolicyError(f"cannot parse the Cedar schema or policies: {exc}") from exc
    _validate(files.policies, schema)
    if document.get("templates"):
        raise PolicyError("policy templates are not supported: every policy must be static")
    static: dict[str, object] = document.get("staticPolicies", {})
    return CompiledPolicies(
        schema=schema,
        policy_set=policy_set,
        ids=annotated_ids(static),
        references=find_references(static),
    )


def annotated_ids(static: dict[str, object]) -> dict[str, str]:
    """Every policy must carry a unique, non-empty @id: it is what the access log records."""
    ids: dict[str, str] = {}
    for cedar_id, policy in static.items():
        annotations = policy.get("annotations") if isinstance(policy, dict) else None
        policy_id = annotations.get("id") if isinstance(annotations, dict) else None
        if not isinstance(policy_id, str) or not policy_id.strip():
            raise PolicyError(f"policy {cedar_id} has no @id annotation")
        if policy_id in ids.values():
            raise PolicyError(f"@id {policy_id!r} is used by more than one policy")
        ids[cedar_id] = policy_id
    return ids


def _validate(policies: str, schema: cedarpy.Schema) -> None:
    result = cedarpy.validate_policies(policies, schema)
    if not result.validation_passed:
        named = result.id_annotations_by_policy_id
        problems = "; ".join(f"{named.get(e.policy_id, e.policy_id)}: {e.error}" for e in result.errors)
        raise PolicyError(f"policies do not validate against the schema: {problems}")
