"""One immutable snapshot of policies + catalog + setting, with the decision cache that belongs to it.

A reload builds a new Engine and swaps it in whole, so a cached decision can never outlive the policies
or catalog that produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cedarpy

from shadan.domain.access import Decision, Principal, RequestContext, ResourceItem
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action
from shadan.policy import entities as ent
from shadan.policy.cache import BoundedCache
from shadan.policy.compiled import CompiledPolicies, PolicyError

DEFAULT_DENY = "default-deny"
"""Pseudo policy id of a denial that no policy matched: nothing permitted it."""
FAIL_CLOSED = "fail-closed"
"""Pseudo policy id of a denial caused by an evaluation error or an exception."""

RECORD_ACTIONS = frozenset({Action.VIEW, Action.SEARCH, Action.EXPORT})
DEFAULT_CACHE_SIZE = 65_536
_SUBJECT_CACHE_SIZE = 4_096


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    policy_ids: tuple[str, ...]
    errors: tuple[str, ...] = ()

    def for_item(self, item: ResourceItem) -> Decision:
        return Decision(item=item, allowed=self.allowed, policy_ids=self.policy_ids, errors=self.errors)


def _names(attributes: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if attributes is None else tuple(sorted(attributes))


def failed(error: str) -> Verdict:
    return Verdict(allowed=False, policy_ids=(FAIL_CLOSED,), errors=(error,))


@dataclass(frozen=True, slots=True)
class Subject:
    """The principal as the policies see it: cache-key part, Cedar uid and entity JSON."""

    key: ent.Key
    uid: dict[str, str]
    json: str


class Engine:
    def __init__(
        self,
        compiled: CompiledPolicies,
        catalog: RoleCatalog,
        retail_own_contracts: bool,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.compiled = compiled
        self.catalog = catalog
        self.retail_own_contracts = retail_own_contracts
        self._identity = compiled.references.identity
        self._principal_reads = _names(compiled.references.principal)
        self._resource_reads = _names(compiled.references.resource)
        self._context_reads = _names(compiled.references.context)
        self._purposes = {name: ent.purpose_json(p) for name, p in catalog.purposes.items()}
        self._subjects: BoundedCache[Principal, Subject] = BoundedCache(_SUBJECT_CACHE_SIZE)
        self._bases: BoundedCache[tuple[str, object], cedarpy.Entities] = BoundedCache(_SUBJECT_CACHE_SIZE)
        self._items: BoundedCache[tuple[object, ...], tuple[ent.Facts, ent.Key]] = BoundedCache(
            _SUBJECT_CACHE_SIZE
        )
        self.decisions: BoundedCache[ent.Key, Verdict] = BoundedCache(cache_size)

    def decide(
        self, principal: Principal, action: Action, items: Sequence[ResourceItem], context: RequestContext
    ) -> tuple[Decision, ...]:
        if action not in RECORD_ACTIONS:
            refused = Verdict(False, (DEFAULT_DENY,), (f"action {action.value!r} does not read records",))
            return tuple(refused.for_item(item) for item in items)
        if not items:
            return ()
        subject = self._subject(principal)
        context_facts = ent.context_facts(context, self.retail_own_contracts)
        prefix = (action, subject.key, ent.project(context_facts, self._context_reads))
        known = [self._item(item) for item in items]
        item_facts = [facts for facts, _ in known]
        keys = [(*prefix, key) for _, key in known]
        verdicts = [self.decisions.get(key) for key in keys]
        missing = [i for i, verdict in enumerate(verdicts) if verdict is None]
        if missing:
            batch = [(items[i], item_facts[i]) for i in missing]
            for i, verdict in zip(
                missing, self._evaluate(subject, action, batch, context_facts), strict=True
            ):
                verdicts[i] = verdict
                if not verdict.errors:  # a failed evaluation is retried next time, never remembered
                    self.decisions.put(keys[i], verdict)
        return tuple(v.for_item(item) for v, item in zip(verdicts, items, strict=True) if v is not None)

    def _subject(self, principal: Principal) -> Subject:
        found = self._subjects.get(principal)  # the frozen Principal, ids included, is its own memo key
        if found is None:
            facts = ent.account_facts(principal, self.catalog)
            key = ent.project(facts, self._principal_reads)
            found = Subject(
                key=(*key, principal.account_id) if self._identity else key,
                uid={"type": ent.ACCOUNT, "id": principal.account_id},
                json=ent.account_json(principal.account_id, facts),
            )
            self._subjects.put(principal, found)
        return found

    def _item(self, item: ResourceItem) -> tuple[ent.Facts, ent.Key]:
        """The item's facts and cache-key part, memoised on all but its id (records share them)."""
        if self._identity:
            facts = ent.item_facts(item)
            return facts, (*ent.project(facts, self._resource_reads), ent.item_uid(item))
        source = ent.item_source(item)
        found = self._items.get(source)
        if found is None:
            facts = ent.item_facts(item)
            found = (facts, ent.project(facts, self._resource_reads))
            self._items.put(source, found)
        return found

    def _evaluate(
        self,
        subject: Subject,
        action: Action,
        batch: Sequence[tuple[ResourceItem, ent.Facts]],
        context_facts: ent.Facts,
    ) -> list[Verdict]:
        """One batched Cedar call for every item not found in the cache."""
        context = ent.context_json(context_facts)
        action_uid = {"type": ent.ACTION, "id": action.value}
        requests = [
            {
                "principal": subject.uid,
                "action": action_uid,
                "resource": {"type": ent.ITEM, "id": ent.item_uid(item)},
                "context": context,
            }
            for item, _ in batch
        ]
        entities = self._entities(subject, batch, context_facts.get("purpose"))
        results = cedarpy.is_authorized_batch(
            requests, self.compiled.policy_set, entities, self.compiled.schema
        )
        if len(results) != len(batch):
            raise PolicyError(f"cedar answered {len(results)} of {len(batch)} requests")
        return [self._verdict(result) for result in results]

    def _entities(
        self, subject: Subject, batch: Sequence[tuple[ResourceItem, ent.Facts]], purpose: object
    ) -> cedarpy.Entities:
        seen: dict[str, str] = {}
        for item, facts in batch:
            uid, body = ent.item_uid(item), ent.item_json(item, facts)
            if seen.setdefault(uid, body) != body:
                raise PolicyError(f"two items share the id {uid!r} but differ in their facts")
        items = "[" + ",".join(seen.values()) + "]"
        return self._base(subject, purpose).with_added_json_str(items, self.compiled.schema)

    def _base(self, subject: Subject, purpose: object) -> cedarpy.Entities:
        """The account and its stated purpose, parsed once and reused: only the items change per record.
        Only the stated purpose's entity is needed; the account's purposes are references, compared by id."""
        memo_key = (subject.json, purpose)
        found = self._bases.get(memo_key)
        if found is None:
            parts = [subject.json]
            purpose_json = self._purposes.get(purpose) if isinstance(purpose, str) else None
            if purpose_json is not None:
                parts.append(purpose_json)
            found = cedarpy.Entities.from_json_str("[" + ",".join(parts) + "]", self.compiled.schema)
            self._bases.put(memo_key, found)
        return found

    def _verdict(self, result: cedarpy.AuthzResult) -> Verdict:
        diagnostics = result.diagnostics
        reasons = tuple(sorted({self.compiled.ids.get(r, r) for r in diagnostics.reasons}))
        errors = tuple(str(e) for e in diagnostics.errors)
        denied = result.decision is not cedarpy.Decision.Allow
        if errors:
            # Fail closed: a forbid that decided is still named; otherwise the error is the reason.
            return Verdict(False, reasons if denied and reasons else (FAIL_CLOSED,), errors)
        if not denied:
            return Verdict(True, reasons)
        return Verdict(False, reasons or (DEFAULT_DENY,))
