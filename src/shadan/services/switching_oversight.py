"""Who may see the switching statistics and fraud signals, on what data, and the access event of each view;
and how both read the stored applications.

Statistics are aggregates: the T&D's switching staff see their own area's, the regulator (監視委員会)
every area's or one chosen area's. Fraud signals name sales agents and supply points: only the T&D's
switching staff and internal auditors, and only for their own area; supply point ids only to those
whose roles may read supply points. The CLI runs as the operating-system user on the operator's own
database, like `shadan switching validate`. Every view, refusal and refused input is an access event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import NoReturn

from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AccessDenied, InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import local_day
from shadan.domain.roles import RoleCatalog
from shadan.domain.switching import SWITCHING_PURPOSE
from shadan.domain.switching_case import StoredApplication
from shadan.domain.vocabulary import (
    Action,
    AdminArea,
    Area,
    AuditTag,
    CompanyKind,
    InfoCategory,
    Outcome,
    ResourceType,
)
from shadan.services.event_origin import origin_of, request_origin
from shadan.services.ports import AccessLogSink, UnitOfWorkFactory
from shadan.services.switching_periods import DateRange, Period

REFUSED_MESSAGE = "この画面を表示する権限がありません。"
OTHER_AREA_MESSAGE = "自社のエリア以外のデータは表示できません。"


class View(StrEnum):
    STATISTICS = "statistics"
    FRAUD_SIGNALS = "fraud_signals"

    @property
    def tag(self) -> AuditTag:
        return VIEW_TAGS[self]


VIEW_TAGS: dict[View, AuditTag] = {
    View.STATISTICS: AuditTag.SWITCHING_STATISTICS,
    View.FRAUD_SIGNALS: AuditTag.SWITCHING_FRAUD_SIGNALS,
}


class Basis(StrEnum):
    """Why a viewer may see a view (recorded with every event)."""

    SWITCHING_STAFF = "switching_staff"  # T&D staff whose roles give the purpose スイッチング処理
    INTERNAL_AUDIT = "internal_audit"  # T&D internal auditors (their roles administer findings)
    REGULATOR = "regulator"  # 監視委員会: aggregates only
    OPERATOR = "operator"  # the CLI, as the operating-system user


ALLOWED: dict[View, frozenset[Basis]] = {
    View.STATISTICS: frozenset({Basis.SWITCHING_STAFF, Basis.REGULATOR, Basis.OPERATOR}),
    View.FRAUD_SIGNALS: frozenset({Basis.SWITCHING_STAFF, Basis.INTERNAL_AUDIT, Basis.OPERATOR}),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """An admitted viewer: on which basis, which area's data (None: every area), what they may see."""

    account_id: str
    basis: Basis | None  # None only for a refused viewer, whose event records no basis
    area: Area | None
    purpose: str
    sees_supply_points: bool
    now: dt.datetime
    person_id: str = ""
    company_id: str = ""
    terminal_id: str = ""
    source_ip: str = ""

    @classmethod
    def operator(cls, actor: str, now: dt.datetime) -> Viewer:
        return cls(actor, Basis.OPERATOR, None, SWITCHING_PURPOSE, True, now)


@dataclass(frozen=True, slots=True)
class ViewRequest:
    """What was asked for, as typed: JST dates `YYYY-MM-DD`, a period and an area; empty means default."""

    first: str = ""
    last: str = ""
    period: str = ""
    area: str = ""


@dataclass(frozen=True, slots=True)
class Query:
    range: DateRange
    period: Period
    area: Area | None  # None: every area

    def filters(self) -> dict[str, str]:
        return {
            "from": self.range.first.isoformat(),
            "to": self.range.last.isoformat(),
            "period": self.period.value,
            "area": self.area.value if self.area else "",
        }


@dataclass(frozen=True, slots=True)
class Shown:
    """What a view revealed, for its access event."""

    applications: int
    supply_point_ids: tuple[str, ...] = ()
    categories: frozenset[InfoCategory] = frozenset()
    extra: dict[str, object] = field(default_factory=dict)


class Oversight:
    """Admits viewers, reads their queries and records every view, refusal and refused input."""

    def __init__(
        self,
        catalog: RoleCatalog,
        log: AccessLogSink,
        system_name: str,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._catalog = catalog
        self._log = log
        self._system = system_name
        self._new_id = new_id

    def admit(
        self, principal: Principal, context: RequestContext, view: View, request: ViewRequest
    ) -> Viewer:
        """The viewer, or AccessDenied once the refusal is durable in the access log."""
        basis = viewer_basis(self._catalog, principal)
        viewer = Viewer(
            **request_origin(principal, context),
            basis=basis,
            area=principal.area if principal.company_kind is CompanyKind.TD else None,
            purpose=self._purpose(principal, basis),
            sees_supply_points=InfoCategory.SUPPLY_POINT in self._catalog.categories_of(principal.roles),
            now=context.now,
        )
        if basis is None or basis not in ALLOWED[view]:
            self._refuse(viewer, view, request, "role", AccessDenied(REFUSED_MESSAGE))
        if viewer.area is not None and request.area.strip() not in ("", viewer.area.value):
            self._refuse(viewer, view, request, "other area", AccessDenied(OTHER_AREA_MESSAGE))
        return viewer

    def query(self, viewer: Viewer, view: View, request: ViewRequest) -> Query:
        """The request read and checked; bad input is refused with a message and logged."""
        try:
            return Query(
                range=DateRange.parse(request.first, request.last, local_day(viewer.now)),
                period=_period(request.period),
                area=viewer.area or _area(request.area),
            )
        except InvalidInput as error:
            self._refuse(viewer, view, request, f"invalid input: {error.message}", error)

    def record(self, viewer: Viewer, view: View, action: Action, query: Query, shown: Shown) -> None:
        """The view's event, durable before anything is returned (AuditUnavailable otherwise)."""
        extra = {"basis": viewer.basis or "", **query.filters(), "applications": shown.applications}
        event = self._event(viewer, view, action, Outcome.ALLOWED, {**extra, **shown.extra})
        categories = tuple(sorted(c.value for c in shown.categories))
        self._log.record([replace(event, resource_ids=shown.supply_point_ids, categories=categories)])

    def _refuse(
        self, viewer: Viewer, view: View, request: ViewRequest, why: str, error: Exception
    ) -> NoReturn:
        extra = {
            "basis": viewer.basis or "",
            "reason": why,
            "from": request.first[:20],
            "to": request.last[:20],
            "period": request.period[:20],
            "area": request.area[:20],
        }
        self._log.record([self._event(viewer, view, Action.SEARCH, Outcome.DENIED, extra)])
        raise error

    def _purpose(self, principal: Principal, basis: Basis | None) -> str:
        """The purpose the view serves: スイッチング処理 for the switching staff, otherwise the role's own
        (監査, 評価); none for a refused viewer."""
        if basis is Basis.SWITCHING_STAFF:
            return SWITCHING_PURPOSE
        if basis is None:
            return ""
        return min(self._catalog.purposes_of(principal.roles), default="")

    def _event(
        self, viewer: Viewer, view: View, action: Action, outcome: Outcome, extra: Mapping[str, object]
    ) -> AccessEvent:
        return AccessEvent(
            event_id=self._new_id(),
            ts=viewer.now.astimezone(dt.UTC),
            system=self._system,
            **origin_of(viewer),
            action=action,
            resource_type=ResourceType.SWITCHING,
            resource_ids=(),
            outcome=outcome,
            purpose=viewer.purpose if outcome is Outcome.ALLOWED else "",
            detail=view.tag.value,
            extra=dict(extra),
        )


class UnitOfWorkRecords:
    """The stored applications read in a unit of work of its own (the store's repository lives in one)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def applications_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredApplication]:
        with self._uow() as uow:
            return uow.switching.applications_between(start, end)


def viewer_basis(catalog: RoleCatalog, principal: Principal) -> Basis | None:
    """On what footing the principal may look at switching oversight views, if at all."""
    roles = principal.roles
    if principal.emergency:
        return None
    if principal.company_kind is CompanyKind.TD and principal.area is not None:
        if SWITCHING_PURPOSE in catalog.purposes_of(roles):
            return Basis.SWITCHING_STAFF
        if catalog.administers(roles, AdminArea.FINDINGS):
            return Basis.INTERNAL_AUDIT
    if principal.company_kind is CompanyKind.REGULATOR and catalog.administers(roles, AdminArea.EVALUATIONS):
        return Basis.REGULATOR
    return None


def may_view(catalog: RoleCatalog, principal: Principal, view: View) -> bool:
    return viewer_basis(catalog, principal) in ALLOWED[view]


def in_area(applications: Iterable[StoredApplication], area: Area | None) -> list[StoredApplication]:
    """The applications for supply points of `area` (by the id's first two digits); all when None."""
    if area is None:
        return list(applications)
    return [a for a in applications if a.supply_point_id.startswith(area.value)]


def _period(text: str) -> Period:
    try:
        return Period(text.strip() or Period.MONTH.value)
    except ValueError:
        raise InvalidInput("集計単位（period）は month、week、day のいずれかです。") from None


def _area(text: str) -> Area | None:
    if not text.strip():
        return None
    try:
        return Area(text.strip())
    except ValueError:
        raise InvalidInput("エリア（area）は 01〜10 のエリアコードで指定してください。") from None
