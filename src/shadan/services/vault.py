"""The vault: every read and search of the registry, decided by the policy, masked and logged.

One code path serves the JSON API, the pages and exports: callers get a `RecordView` that holds only the
fields of the categories the policy allowed, never a hint of the withheld values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NoReturn

from shadan.domain.access import Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.errors import AccessDenied, InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.domain.registry import FIELD_LABELS, SUPPLY_POINT_FIELDS, SupplyPoint
from shadan.domain.roles import RoleCatalog
from shadan.domain.supply_point_id import SupplyPointId
from shadan.domain.vocabulary import Action, InfoCategory, Outcome, ResourceType
from shadan.services.event_origin import request_origin
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.services.ports import AccessLogSink, Authorizer, RegistryRepository, UnitOfWorkFactory

SEARCH_LIMIT_MAX = 100
SEARCH_TERM_MIN = 2
INPUT_LOGGED_MAX = 100
NOT_FOUND_MESSAGE = "該当する供給地点が見つからないか、閲覧する権限がありません。"


class SearchField(StrEnum):
    ADDRESS = "address"
    NAME_KANA = "name_kana"
    NAME_KANJI = "name_kanji"


@dataclass(frozen=True, slots=True)
class FieldValue:
    name: str
    label: str
    category: InfoCategory
    value: str | bool


@dataclass(frozen=True, slots=True)
class RecordView:
    """A record as one principal may see it: withheld categories are named, their fields absent."""

    supply_point_id: str
    fields: tuple[FieldValue, ...]
    shown: frozenset[InfoCategory]
    withheld: frozenset[InfoCategory]
    policy_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "supply_point_id": self.supply_point_id,
            "fields": {f.name: f.value for f in self.fields},
            "shown_categories": sorted(self.shown),
            "withheld_categories": sorted(self.withheld),
            "policy_ids": list(self.policy_ids),
        }


def mask(point: SupplyPoint, decision: RecordDecision) -> RecordView:
    shown_fields = tuple(
        FieldValue(name, FIELD_LABELS[name], point.category_of(name), getattr(point, name))
        for name in SUPPLY_POINT_FIELDS
        if point.category_of(name) in decision.shown
    )
    return RecordView(
        supply_point_id=point.supply_point_id if InfoCategory.SUPPLY_POINT in decision.shown else "",
        fields=shown_fields,
        shown=decision.shown,
        withheld=decision.withheld,
        policy_ids=decision.policy_ids,
    )


def resource_items(point: SupplyPoint) -> list[ResourceItem]:
    return [
        ResourceItem(
            resource_type=ResourceType.SUPPLY_POINT,
            resource_id=point.supply_point_id,
            category=category,
            area=point.area,
            retailer_code=point.retailer_code,
        )
        for category in sorted(point.categories())
    ]


class VaultService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        authorizer: Authorizer,
        catalog: RoleCatalog,
        system_name: str,
        enforce: bool = True,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        log: AccessLogSink | None = None,
    ) -> None:
        self._uow = uow
        # Reads and searches write nothing but their event: it goes to the sink, which may share one
        # commit among concurrent requests (bootstrap wires the group commit).
        self._log = log or UnitOfWorkLogSink(uow)
        self._authorizer = authorizer
        self._catalog = catalog
        self._system = system_name
        # Only a benchmark turns this off, to measure what policy and log cost (refused in production).
        self._enforce = enforce
        self._new_id = new_id

    def purposes_for(self, principal: Principal) -> list[str]:
        return sorted(self._authorizer.offered_purposes(principal.roles))

    def read(self, principal: Principal, raw_id: str, context: RequestContext) -> RecordView:
        try:
            supply_point_id = SupplyPointId.parse(raw_id).value
        except InvalidInput as error:
            self._refuse_input(principal, context, Action.VIEW, error, raw_id)
        if not self._enforce:
            return self._read_unenforced(supply_point_id)
        self._require_purpose(principal, context, Action.VIEW, [supply_point_id])
        with self._uow(_realm(principal)) as uow:
            point = uow.registry.get_supply_point(supply_point_id)
        decision = None
        if point is not None:
            decision = self._authorizer.decide(principal, Action.VIEW, resource_items(point), context)
        # Durable before anything is returned; AuditUnavailable otherwise (fail closed).
        self._log.record(
            [self._event(principal, context, Action.VIEW, [supply_point_id], decision, _why(point))]
        )
        if point is None or decision is None or not decision.any_allowed:
            raise NotFound(NOT_FOUND_MESSAGE)
        return mask(point, decision)

    def search(
        self, principal: Principal, field: SearchField, term: str, context: RequestContext, limit: int = 50
    ) -> list[RecordView]:
        term = term.strip()
        if len(term) < SEARCH_TERM_MIN:
            error = InvalidInput(f"検索語は{SEARCH_TERM_MIN}文字以上で入力してください。")
            self._refuse_input(principal, context, Action.SEARCH, error, term)
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        self._require_purpose(principal, context, Action.SEARCH, [])
        with self._uow(_realm(principal)) as uow:
            views = self._search_in(uow.registry, principal, field, term, context, limit)
        event = self._event(principal, context, Action.SEARCH, [v.supply_point_id for v in views], None)
        # Auditors need what was looked for (fishing for a competitor's customer shows in the term).
        self._log.record(
            [replace(event, outcome=Outcome.ALLOWED, extra={"field": field.value, "term": term})]
        )
        return views

    def history(self, principal: Principal, limit: int = 100) -> list[AccessEvent]:
        with self._uow(_realm(principal)) as uow:
            return uow.log_reader.events_of_account(principal.account_id, max(1, min(limit, 500)))

    def _search_in(
        self,
        registry: RegistryRepository,
        principal: Principal,
        field: SearchField,
        term: str,
        context: RequestContext,
        limit: int,
    ) -> list[RecordView]:
        # Searching by a field is reading it: a match reveals the field's value, so the searched field's
        # category must itself be allowed for each record returned.
        area = principal.area.value if principal.area else None
        views = []
        for point in registry.search_supply_points(field.value, term, area, limit):
            decision = self._authorizer.decide(principal, Action.SEARCH, resource_items(point), context)
            if point.category_of(field.value) in decision.shown:
                views.append(mask(point, decision))
        return views

    def _require_purpose(
        self,
        principal: Principal,
        context: RequestContext,
        action: Action,
        ids: Sequence[str],
    ) -> None:
        """A purpose from the principal's roles is required; a refusal is logged and committed first."""
        if context.purpose and context.purpose in self._catalog.purposes_of(principal.roles):
            return
        self._log.record(
            [self._event(principal, context, action, ids, None, "purpose missing or not allowed")]
        )
        raise AccessDenied("利用目的が選択されていないか、あなたの役割では使えない利用目的です。")

    def _refuse_input(
        self, principal: Principal, context: RequestContext, action: Action, error: InvalidInput, raw: str
    ) -> NoReturn:
        """Malformed input is refused, and the attempt is logged like any other request."""
        if self._enforce:
            event = self._event(principal, context, action, [], None, f"invalid input: {error.message}")
            self._log.record([replace(event, extra={"input": raw[:INPUT_LOGGED_MAX]})])
        raise error

    def _event(
        self,
        principal: Principal,
        context: RequestContext,
        action: Action,
        ids: Sequence[str],
        decision: RecordDecision | None,
        detail: str = "",
    ) -> AccessEvent:
        allowed = decision is not None and decision.any_allowed
        return AccessEvent(
            event_id=self._new_id(),
            ts=context.now.astimezone(dt.UTC),
            system=self._system,
            **request_origin(principal, context),
            action=action,
            resource_type=ResourceType.SUPPLY_POINT,
            resource_ids=tuple(ids),
            outcome=Outcome.ALLOWED if allowed else Outcome.DENIED,
            categories=tuple(sorted(decision.shown)) if decision else (),
            withheld_categories=tuple(sorted(decision.withheld)) if decision else (),
            purpose=context.purpose or "",
            policy_ids=decision.policy_ids if decision else (),
            detail=detail,
        )

    def _read_unenforced(self, supply_point_id: str) -> RecordView:
        with self._uow("system") as uow:
            point = uow.registry.get_supply_point(supply_point_id)
        if point is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        everything = frozenset(point.categories())
        return RecordView(
            supply_point_id=point.supply_point_id,
            fields=tuple(
                FieldValue(n, FIELD_LABELS[n], point.category_of(n), getattr(point, n))
                for n in SUPPLY_POINT_FIELDS
            ),
            shown=everything,
            withheld=frozenset(),
            policy_ids=(),
        )


def _why(point: SupplyPoint | None) -> str:
    return "not found" if point is None else ""


def _realm(principal: Principal) -> str:
    return "retail" if principal.company_kind.is_retail else "td"
