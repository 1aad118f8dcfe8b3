"""Fakes and builders for the statistics and fraud-signal unit tests: stored applications, principals,
an in-memory SwitchingRecords, a registry and an access-log sink."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from shadan.domain.access import Principal, RequestContext
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import JST
from shadan.domain.registry import SupplyPoint
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState, Half, StoredApplication
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.policy.catalog import load_default_catalog
from shadan.services.switching_oversight import Oversight

CATALOG = load_default_catalog()
NOW = dt.datetime(2025, 7, 1, 3, 0, tzinfo=dt.UTC)
_SERIAL = itertools.count(1)


def stored(
    *codes: str,
    strict: Sequence[str] | None = None,
    at: dt.datetime = dt.datetime(2025, 4, 10, 10, 0, tzinfo=JST),
    point: str = "0600000000000000000001",
    retailer: str = "B0002",
    staff: str = "佐藤 太郎",
    state: CaseState | None = None,
    result: ResultKind | None = None,
    half: Half = Half.CANCEL,
    application_id: str = "",
) -> StoredApplication:
    """A stored application rejected with `codes` (accepted when none); `--strict` listed `strict`
    (the same codes when not given)."""
    error_codes = tuple(ErrorCode(c) for c in codes)
    kind = result or (ResultKind.REJECTED if error_codes else ResultKind.ACCEPTED)
    default_state = CaseState.PENDING if kind is ResultKind.ACCEPTED else CaseState(kind.value)
    return StoredApplication(
        application_id=application_id or f"AP{next(_SERIAL):06d}",
        half=half,
        supply_point_id=point,
        received_at=at,
        submitted_at=at,
        current_retailer_code="A0001",
        new_retailer_code=retailer,
        new_retailer_staff=staff,
        building="",
        result=kind,
        error_codes=error_codes,
        strict_error_codes=error_codes if strict is None else tuple(ErrorCode(c) for c in strict),
        state=state or default_state,
        state_changed_at=at,
    )


def invalid(**changes: Any) -> StoredApplication:
    return dataclasses.replace(stored(), result=ResultKind.INVALID, state=CaseState.INVALID, **changes)


@dataclass
class FakeRecords:
    """SwitchingRecords over a list, honouring [start, end) like the store."""

    applications: list[StoredApplication] = field(default_factory=list)
    asked: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    def applications_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredApplication]:
        self.asked.append((start, end))
        chosen = [a for a in self.applications if start <= a.received_at < end]
        return sorted(chosen, key=lambda a: (a.received_at, a.application_id))


@dataclass
class FakeSink:
    events: list[AccessEvent] = field(default_factory=list)

    def record(self, events: Sequence[AccessEvent]) -> None:
        self.events.extend(events)


@dataclass
class FakeRegistry:
    points: dict[str, SupplyPoint] = field(default_factory=dict)
    asked: list[set[str]] = field(default_factory=list)

    def supply_points_by_ids(self, supply_point_ids: Iterable[str]) -> dict[str, SupplyPoint]:
        ids = set(supply_point_ids)
        self.asked.append(ids)
        return {i: self.points[i] for i in ids if i in self.points}


class FakeUnitOfWork:
    def __init__(self, registry: FakeRegistry) -> None:
        self.registry = registry

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None


def oversight(sink: FakeSink) -> Oversight:
    ids = (f"event-{n}" for n in itertools.count())
    return Oversight(CATALOG, sink, "shadan-test", new_id=lambda: next(ids))


# key: (company kind, area, roles)
PEOPLE: dict[str, tuple[CompanyKind, Area | None, frozenset[str]]] = {
    "clerk": (CompanyKind.TD, Area.KANSAI, frozenset({"wheeling_clerk"})),
    "clerk03": (CompanyKind.TD, Area.TOKYO, frozenset({"wheeling_clerk"})),
    "auditor": (CompanyKind.TD, Area.KANSAI, frozenset({"internal_auditor"})),
    "engineer": (CompanyKind.TD, Area.KANSAI, frozenset({"network_engineer"})),
    "sysadmin": (CompanyKind.TD, Area.KANSAI, frozenset({"sysadmin"})),
    "info_manager": (CompanyKind.TD, Area.KANSAI, frozenset({"info_manager"})),
    "regulator": (CompanyKind.REGULATOR, None, frozenset({"regulator"})),
    "retail": (CompanyKind.RETAIL, None, frozenset({"retail_staff"})),
    "affiliated": (CompanyKind.AFFILIATED_RETAIL, Area.KANSAI, frozenset({"retail_staff"})),
}


def principal(key: str) -> Principal:
    kind, area, roles = PEOPLE[key]
    return Principal(
        account_id=f"acct-{key}",
        person_id=f"person-{key}",
        company_id=f"company-{key}",
        company_kind=kind,
        department="",
        area=area,
        retailer_code="R1001" if kind.is_retail else None,
        roles=roles,
    )


def context() -> RequestContext:
    return RequestContext(now=NOW, terminal_id="T-01", source_ip="10.0.0.1")
