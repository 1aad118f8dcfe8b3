"""The fraud-signal use case against fakes: only switching staff and internal auditors of the T&D, only
their own area, supply point ids only for roles that may read them, the registry read only for the 04
rejections, and an access event for every view and refusal."""

from __future__ import annotations

import pytest
from oversight_support import (
    NOW,
    FakeRecords,
    FakeRegistry,
    FakeSink,
    FakeUnitOfWork,
    context,
    oversight,
    principal,
    stored,
)
from switching_support import point

from shadan.domain.errors import AccessDenied
from shadan.domain.switching import SWITCHING_PURPOSE
from shadan.domain.vocabulary import Action, Area, AuditTag, Outcome, ResourceType
from shadan.services.switching_fraud import FraudSignalService
from shadan.services.switching_fraud_signals import Heuristic
from shadan.services.switching_oversight import ViewRequest

APRIL = ViewRequest(first="2025-04-01", last="2025-04-30")
LANDLORD = point(supply_point_id="0600000000000000000011", name_kanji="株式会社中之島ハウジング")
TOKYO_LANDLORD = point(supply_point_id="0300000000000000000011", name_kanji="株式会社丸の内ハウス")
TENANT = point(supply_point_id="0600000000000000000012")


def _world() -> tuple[FakeRecords, FakeRegistry]:
    records = FakeRecords(
        [
            stored("04", point=LANDLORD.supply_point_id),
            stored("04", point=TOKYO_LANDLORD.supply_point_id),
            stored("02", point=TENANT.supply_point_id),
            stored(point=TENANT.supply_point_id),
        ]
    )
    registry = FakeRegistry({p.supply_point_id: p for p in (LANDLORD, TOKYO_LANDLORD, TENANT)})
    return records, registry


def _service(records: FakeRecords, registry: FakeRegistry, sink: FakeSink) -> FraudSignalService:
    return FraudSignalService(
        records,
        lambda realm="td": FakeUnitOfWork(registry),  # type: ignore[arg-type,return-value]
        oversight(sink),
        clock=lambda: NOW,
    )


def test_the_clerk_sees_their_areas_signals_with_supply_point_ids() -> None:
    records, registry = _world()
    sink = FakeSink()
    found = _service(records, registry, sink).signals(principal("clerk"), APRIL, context())
    assert (found.area, found.applications) == (Area.KANSAI, 3)
    [signal] = found.of(Heuristic.UTILITIES_INCLUDED)
    assert signal.supply_point_ids == (LANDLORD.supply_point_id,)
    assert registry.asked == [{LANDLORD.supply_point_id}]  # only the 04 rejections, only the own area
    [event] = sink.events
    assert (event.outcome, event.action, event.resource_type) == (
        Outcome.ALLOWED,
        Action.SEARCH,
        ResourceType.SWITCHING,
    )
    assert event.detail == AuditTag.SWITCHING_FRAUD_SIGNALS
    assert event.purpose == SWITCHING_PURPOSE
    assert event.resource_ids == (LANDLORD.supply_point_id,)
    assert event.categories == ("location", "new_power_customer", "supply_point")
    assert event.extra["signals"] == {"utilities_included": 1}
    assert event.extra["applications"] == 3


def test_the_auditor_sees_the_signals_without_supply_point_ids() -> None:
    records, registry = _world()
    sink = FakeSink()
    found = _service(records, registry, sink).signals(principal("auditor"), APRIL, context())
    [signal] = found.signals
    assert signal.supply_point_ids == ()
    assert signal.application_ids
    assert LANDLORD.supply_point_id not in repr(found)
    [event] = sink.events
    assert (event.resource_ids, event.purpose, event.extra["basis"]) == ((), "監査", "internal_audit")


def test_the_other_areas_clerk_sees_only_their_own() -> None:
    records, registry = _world()
    found = _service(records, registry, FakeSink()).signals(principal("clerk03"), APRIL, context())
    assert [s.supply_point_ids for s in found.signals] == [(TOKYO_LANDLORD.supply_point_id,)]
    assert registry.asked == [{TOKYO_LANDLORD.supply_point_id}]


@pytest.mark.parametrize("key", ["regulator", "engineer", "sysadmin", "info_manager", "retail", "affiliated"])
def test_everyone_else_is_refused_logged_and_reads_nothing(key: str) -> None:
    records, registry = _world()
    sink = FakeSink()
    with pytest.raises(AccessDenied):
        _service(records, registry, sink).signals(principal(key), APRIL, context())
    assert [(e.outcome, e.detail) for e in sink.events] == [
        (Outcome.DENIED, AuditTag.SWITCHING_FRAUD_SIGNALS)
    ]
    assert records.asked == []
    assert registry.asked == []


def test_the_auditor_cannot_ask_for_another_area() -> None:
    records, registry = _world()
    sink = FakeSink()
    with pytest.raises(AccessDenied):
        _service(records, registry, sink).signals(principal("auditor"), ViewRequest(area="03"), context())
    assert records.asked == []


def test_nothing_rejected_with_04_reads_no_registry() -> None:
    records = FakeRecords([stored("02"), stored()])
    registry = FakeRegistry()
    sink = FakeSink()
    found = _service(records, registry, sink).signals(principal("clerk"), APRIL, context())
    assert found.signals == ()
    assert registry.asked == []
    assert sink.events[0].categories == ()


def test_the_operator_sees_every_area() -> None:
    records, registry = _world()
    found = _service(records, registry, FakeSink()).operator_signals("system:ops", APRIL)
    assert found.area is None
    assert sorted(i for s in found.signals for i in s.supply_point_ids) == [
        TOKYO_LANDLORD.supply_point_id,
        LANDLORD.supply_point_id,
    ]
