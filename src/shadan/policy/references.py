"""What the loaded policies look at, found by walking their JSON form (Cedar's EST).

The decision cache keys on the request's facts. It may leave a fact out only when no policy can read
it, so this is computed from the policies themselves each time they are loaded, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

_ATTRIBUTE_NODES = (".", "has")
_IDENTITY_VARS = frozenset({"principal", "resource"})
_VARS = ("principal", "resource", "context")
_TYPE_ONLY_SCOPES = frozenset({"All", "is"})


@dataclass(frozen=True, slots=True)
class References:
    """Attributes some policy reads, per variable (None = all of them may matter).

    identity: some policy looks at the principal's or resource's id or hierarchy, not only at its
    attributes, so ids must be part of the cache key too.
    """

    identity: bool
    principal: frozenset[str] | None
    resource: frozenset[str] | None
    context: frozenset[str] | None


def find_references(policies: dict[str, object]) -> References:
    """`policies` is the EST document of cedarpy.policies_to_json_str (staticPolicies by id)."""
    walker = _Walker()
    for policy in policies.values():
        walker.policy(policy)
    if walker.identity:
        return References(identity=True, principal=None, resource=None, context=walker.read("context"))
    return References(
        identity=False,
        principal=walker.read("principal"),
        resource=walker.read("resource"),
        context=walker.read("context"),
    )


class _Walker:
    def __init__(self) -> None:
        self.identity = False
        self.whole: set[str] = set()
        self.attrs: dict[str, set[str]] = {var: set() for var in _VARS}

    def read(self, var: str) -> frozenset[str] | None:
        return None if var in self.whole else frozenset(self.attrs[var])

    def policy(self, policy: object) -> None:
        if not isinstance(policy, dict):
            self.identity = True  # unknown shape: assume everything matters
            self.whole.update(_VARS)
            return
        for scope in ("principal", "resource"):
            constraint = policy.get(scope)
            if not isinstance(constraint, dict) or constraint.get("op") not in _TYPE_ONLY_SCOPES:
                self.identity = True
            elif "in" in constraint:
                self.identity = True  # `is T in E` looks at the hierarchy
        self.node(policy.get("conditions"))

    def node(self, value: object) -> None:
        if isinstance(value, list):
            for child in value:
                self.node(child)
        elif isinstance(value, dict):
            self._dict(value)

    def _dict(self, value: dict[str, object]) -> None:
        var = value.get("Var")
        if var is not None:
            self._bare_var(var)
            return
        for key, child in value.items():
            if key in _ATTRIBUTE_NODES and isinstance(child, dict):
                self._attribute(child)
            else:
                self.node(child)

    def _attribute(self, access: dict[str, object]) -> None:
        left = access.get("left")
        var = left.get("Var") if isinstance(left, dict) else None
        if var in _VARS:
            self.attrs[str(var)].add(str(access.get("attr")))
        else:
            self.node(left)  # e.g. context.purpose.categories: walk the inner access

    def _bare_var(self, var: object) -> None:
        """A variable used as a value, not through an attribute: its identity or all of it matters."""
        if var in _IDENTITY_VARS:
            self.identity = True
        if var in _VARS:
            self.whole.add(str(var))
