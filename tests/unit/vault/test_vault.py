"""VaultService against fakes at its ports: masking, uniform not-found, purpose, and logging."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

import pytest

from shadan.domain.access import Decision, Principal, RecordDecision, RequestContext, ResourceItem
from shadan.domain.errors import AccessDenied, InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.roles import Purpose, RoleCatalog, RoleDefinition
from shadan.domain.vocabulary import Action, Area, CompanyKind, InfoCategory, Outcome
from shadan.services.vault import SearchField, VaultService

NOW = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
POINT = SupplyPoint(
    supply_point_id="0600000000000000000001",
    kind=SupplyPointKind.DEMAND,
    voltage=Voltage.LOW,
    retailer_code="R001",
    contract_no="C-1",
    name_kana="ヤマダタロウ",
    name_kanji="山田太郎",
    address="大阪府大阪市北区梅田1-2-3",
    building="梅田ハイツ101",
    phone="06-0000-0000",
    status=SupplyPointStatus.ACTIVE,
    switching_target=True,
    reading_schedule="A1",
    transformer_id="T-9",
    feeder_id="F-3",
)
CATALOG = RoleCatalog(
    roles={
        "clerk": RoleDefinition(
            name="clerk",
            label="託送業務担当",
            company_kinds=frozenset({CompanyKind.TD}),
            categories=frozenset(InfoCategory),
            purposes=frozenset({"託送業務"}),
        )
    },
    purposes={"託送業務": Purpose("託送業務", frozenset(InfoCategory))},
)
CLERK = Principal(
    account_id="a1",
    person_id="p1",
    company_id="td06",
    company_kind=CompanyKind.TD,
    department="託送部",
    area=Area.KANSAI,
    retailer_code=None,
    roles=frozenset({"clerk"}),
)


@dataclass
class FakeRegistry:
    points: dict[str, SupplyPoint]

    def get_supply_point(self, supply_point_id: str) -> SupplyPoint | None:
        return self.points.get(supply_point_id)

    def search_supply_points(self, field: str, term: str, area: str | None, limit: int) -> list[SupplyPoint]:
        return [p for p in self.points.values() if term in getattr(p, field)][:limit]


@dataclass
class FakeLog:
    pending: list[AccessEvent] = field(default_factory=list)
    committed: list[AccessEvent] = field(default_factory=list)

    def append(self, events: Sequence[AccessEvent]) -> None:
        self.pending.extend(events)

    def events_of_account(self, account_id: str, limit: int) -> list[AccessEvent]:
        return [e for e in self.committed if e.account_id == account_id][:limit]


class FakeUnitOfWork:
    def __init__(self, registry: FakeRegistry, log: FakeLog) -> None:
        self.registry = registry
        self.log = log
        self.log_reader = log

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.log.pending.clear()  # rollback of whatever was not committed

    def commit(self) -> None:
        self.log.committed.extend(self.log.pending)
        self.log.pending.clear()


class AllowOnly:
    def __init__(self, allowed: set[InfoCategory]) -> None:
        self.allowed = allowed

    def decide(
        self, principal: Principal, action: Action, items: Sequence[ResourceItem], context: RequestContext
    ) -> RecordDecision:
        return RecordDecision(
            action,
            tuple(Decision(i, i.category in self.allowed, ("test-policy",)) for i in items),
        )

    def offered_purposes(self, role_names: frozenset[str]) -> frozenset[str]:
        return CATALOG.purposes_of(role_names)


def make_vault(allowed: set[InfoCategory]) -> tuple[VaultService, FakeLog]:
    log = FakeLog()
    registry = FakeRegistry({POINT.supply_point_id: POINT})
    factory: Any = lambda realm="td": FakeUnitOfWork(registry, log)  # noqa: E731 - a one-line fake
    return VaultService(factory, AllowOnly(allowed), CATALOG, "shadan", new_id=lambda: "e1"), log


def context(purpose: str | None = "託送業務") -> RequestContext:
    return RequestContext(now=NOW, purpose=purpose, terminal_id="T1", source_ip="127.0.0.1")


def test_withheld_categories_are_removed_not_blanked() -> None:
    vault, log = make_vault({InfoCategory.SUPPLY_POINT, InfoCategory.LOCATION})
    view = vault.read(CLERK, POINT.supply_point_id, context())
    names = {f.name for f in view.fields}
    assert "address" in names
    assert not names & {"name_kanji", "name_kana", "contract_no", "phone", "retailer_code"}
    assert "山田" not in repr(view)
    assert InfoCategory.NEW_POWER_CUSTOMER in view.withheld
    [event] = log.committed
    assert event.outcome is Outcome.ALLOWED
    assert InfoCategory.NEW_POWER_CUSTOMER.value in event.withheld_categories
    assert event.policy_ids == ("test-policy",)


def test_fully_denied_and_missing_records_look_the_same() -> None:
    vault, log = make_vault(set())
    with pytest.raises(NotFound) as denied:
        vault.read(CLERK, POINT.supply_point_id, context())
    with pytest.raises(NotFound) as missing:
        vault.read(CLERK, "0600000000000000000999", context())
    assert denied.value.message == missing.value.message
    assert [e.outcome for e in log.committed] == [Outcome.DENIED, Outcome.DENIED]


@pytest.mark.parametrize("purpose", [None, "", "営業活動"])
def test_reading_without_an_allowed_purpose_is_denied_and_logged(purpose: str | None) -> None:
    vault, log = make_vault(set(InfoCategory))
    with pytest.raises(AccessDenied):
        vault.read(CLERK, POINT.supply_point_id, context(purpose))
    [event] = log.committed
    assert event.outcome is Outcome.DENIED
    assert event.resource_ids == (POINT.supply_point_id,)


def test_search_by_a_withheld_field_reveals_nothing() -> None:
    vault, log = make_vault({InfoCategory.SUPPLY_POINT, InfoCategory.LOCATION})
    assert vault.search(CLERK, SearchField.NAME_KANJI, "山田", context()) == []
    assert [v.supply_point_id for v in vault.search(CLERK, SearchField.ADDRESS, "梅田", context())] == [
        POINT.supply_point_id
    ]
    assert [e.action for e in log.committed] == [Action.SEARCH, Action.SEARCH]
    assert log.committed[0].resource_ids == ()


def test_search_terms_must_be_meaningful() -> None:
    vault, _ = make_vault(set(InfoCategory))
    with pytest.raises(InvalidInput):
        vault.search(CLERK, SearchField.ADDRESS, " 梅 ", context())


def test_the_event_records_who_where_and_why() -> None:
    vault, log = make_vault(set(InfoCategory))
    vault.read(CLERK, "0600-0000-0000-0000-0000-01", context())
    [event] = log.committed
    assert (event.account_id, event.person_id, event.company_id) == ("a1", "p1", "td06")
    assert (event.terminal_id, event.source_ip, event.purpose) == ("T1", "127.0.0.1", "託送業務")
    assert event.ts == NOW
    assert event.action is Action.VIEW


def test_history_returns_only_the_principals_own_events() -> None:
    vault, log = make_vault(set(InfoCategory))
    vault.read(CLERK, POINT.supply_point_id, context())
    other = replace(log.committed[0], account_id="someone-else")
    log.committed.append(other)
    assert [e.account_id for e in vault.history(CLERK)] == ["a1"]


@pytest.mark.parametrize("raw", ["06-not-a-number", "", "9" * 22])
def test_a_malformed_id_is_refused_and_the_attempt_logged(raw: str) -> None:
    vault, log = make_vault(set(InfoCategory))
    with pytest.raises(InvalidInput):
        vault.read(CLERK, raw, context())
    [event] = log.committed
    assert event.outcome is Outcome.DENIED
    assert event.detail.startswith("invalid input")
    assert event.extra == {"input": raw}


def test_a_too_short_search_is_refused_and_logged() -> None:
    vault, log = make_vault(set(InfoCategory))
    with pytest.raises(InvalidInput):
        vault.search(CLERK, SearchField.NAME_KANA, "ヤ", context())
    [event] = log.committed
    assert (event.action, event.outcome) == (Action.SEARCH, Outcome.DENIED)
