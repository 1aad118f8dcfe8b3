"""CedarAuthorizer: the one decision for every read of every record category (DESIGN §4.2).

Implements services.ports.Authorizer. The schema and policies are parsed once into cedarpy handles and
rebuilt only by `reload`; every record costs one batched Cedar call at most (none when cached).
Fails closed: an evaluation error or any exception denies, with the error kept for the access log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shadan.domain.access import Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action, PolicySwitch
from shadan.policy.catalog import load_default_catalog
from shadan.policy.compiled import PolicyFiles, compile_policies
from shadan.policy.engine import DEFAULT_CACHE_SIZE, Engine, failed


class CedarAuthorizer:
    def __init__(
        self,
        catalog: RoleCatalog,
        retail_own_contracts: bool = False,
        *,
        files: PolicyFiles | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        """`cache_size` 0 turns the decision cache off (every record then costs one Cedar call)."""
        # Built from the package, a reload re-reads the package; built from given text, it reuses it.
        self._source: Callable[[], PolicyFiles] = PolicyFiles.packaged if files is None else lambda: files
        self._cache_size = cache_size
        self._engine = Engine(compile_policies(self._source()), catalog, retail_own_contracts, cache_size)

    @property
    def catalog(self) -> RoleCatalog:
        return self._engine.catalog

    @property
    def retail_own_contracts(self) -> bool:
        return self._engine.retail_own_contracts

    def offered_purposes(self, role_names: frozenset[str]) -> frozenset[str]:
        switches = {PolicySwitch.RETAIL_OWN_CONTRACTS} if self.retail_own_contracts else set()
        return self.catalog.offered_purposes(role_names, frozenset(switches))

    @property
    def policy_ids(self) -> tuple[str, ...]:
        """The @id of every loaded policy, sorted."""
        return tuple(sorted(self._engine.compiled.ids.values()))

    def reload(
        self,
        *,
        files: PolicyFiles | None = None,
        catalog: RoleCatalog | None = None,
        retail_own_contracts: bool | None = None,
    ) -> None:
        """Re-read and re-parse the policies, and start an empty cache. Omitted arguments keep their
        current value. If the new policies do not parse or validate, PolicyError is raised and the old
        ones stay in force."""
        current = self._engine
        source = self._source if files is None else (lambda: files)
        engine = Engine(
            compile_policies(source()),
            catalog or current.catalog,
            current.retail_own_contracts if retail_own_contracts is None else retail_own_contracts,
            self._cache_size,
        )
        self._source = source
        self._engine = engine  # one reference swap: a request sees the old engine or the new, never a mix

    def decide(
        self, principal: Principal, action: Action, items: Sequence[ResourceItem], context: RequestContext
    ) -> RecordDecision:
        engine = self._engine
        try:
            decisions = engine.decide(principal, action, items, context)
        except Exception as exc:  # fail closed: whatever went wrong, nothing is shown
            verdict = failed(f"{type(exc).__name__}: {exc}")
            decisions = tuple(verdict.for_item(item) for item in items)
        return RecordDecision(action=action, decisions=decisions)


def default_authorizer(
    retail_own_contracts: bool = False, catalog: RoleCatalog | None = None
) -> CedarAuthorizer:
    """The authorizer of the packaged schema, policies and roles.toml (or the given catalog)."""
    return CedarAuthorizer(
        catalog or load_default_catalog(), retail_own_contracts, files=PolicyFiles.packaged()
    )
