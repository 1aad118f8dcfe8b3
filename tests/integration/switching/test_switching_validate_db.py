"""`validate` against a registry imported through the real import service, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from switching_registry import MIXED, MIXED_EXPECTED, application_line, applications_csv, point_id

from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import ResultKind
from shadan.domain.vocabulary import Action, ResourceType
from shadan.services.switching import SwitchingService
from shadan.store import registry_repo
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

ACTOR = "system:switching-test"


def rows(
    service: SwitchingService, lines: list[str], *, strict: bool = False
) -> list[tuple[str, str, str, str]]:
    report = service.validate(applications_csv(lines).encode("utf-8"), ACTOR, strict=strict)
    return [(r.application_id, r.result.value, r.error_code, r.error_codes) for r in report.results]


def test_every_outcome_against_the_database(service: SwitchingService) -> None:
    assert rows(service, MIXED) == MIXED_EXPECTED


def test_strict_mode_against_the_database(service: SwitchingService) -> None:
    # Hiragana kana, 高 for 髙 and the hyphenated address without prefecture fail a strict comparison.
    assert rows(service, [application_line("AP01", 1)], strict=True) == [("AP01", "rejected", "04", "04 05")]


def test_a_dry_run_changes_nothing_and_logs_one_event(
    service: SwitchingService, uow: SqlUnitOfWorkFactory
) -> None:
    with uow() as work:
        before = work.registry.supply_points_by_ids([point_id(n) for n in range(1, 10)])
    report = service.validate(applications_csv(MIXED).encode("cp932"), ACTOR)
    with uow() as work:
        after = work.registry.supply_points_by_ids([point_id(n) for n in range(1, 10)])
        events = work.log_reader.events_of_account(ACTOR, 10)
    assert after == before
    assert after[point_id(1)].status is SupplyPointStatus.ACTIVE  # accepted, but only checked
    (event,) = events
    assert event.action is Action.SEARCH
    assert event.resource_type == ResourceType.SUPPLY_POINT
    assert event.purpose == "スイッチング処理"
    assert "new_power_purchase" in event.categories  # point 8 is a generation point
    detail = json.loads(event.detail)
    assert detail["applications"] == len(MIXED)
    assert detail["accepted"] == report.summary.by_result[ResultKind.ACCEPTED] == 1
    assert detail["encoding"] == "cp932"


def test_bulk_read_by_ids_in_chunks(
    uow: SqlUnitOfWorkFactory, registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_repo, "LOOKUP_CHUNK", 2)
    ids = [point_id(n) for n in (9, 1, 3, 3, 5, 42, 8)]
    with uow() as work:
        found = work.registry.supply_points_by_ids(ids)
    assert sorted(found) == sorted({point_id(n) for n in (1, 3, 5, 8, 9)})
    assert found[point_id(9)].switching_target is False
    assert found[point_id(8)].status is SupplyPointStatus.LOCKED
    assert found[point_id(1)].name_kanji == "髙橋 一郎"
    with uow() as work:
        assert found[point_id(3)] == work.registry.get_supply_point(point_id(3))
        assert work.registry.supply_points_by_ids([]) == {}


def test_reading_days_per_schedule(uow: SqlUnitOfWorkFactory, registry: None) -> None:
    with uow() as work:
        days = work.registry.reading_days(["S02", "S01", "S99"])
    assert days == {
        "S01": [dt.date(2025, 4, 8), dt.date(2025, 5, 9), dt.date(2025, 6, 10)],
        "S02": [dt.date(2025, 4, 15), dt.date(2025, 5, 16), dt.date(2025, 6, 16)],
    }


def test_the_06_window_uses_the_points_own_schedule(service: SwitchingService) -> None:
    # Point 2 reads on S01 (next-next reading day 9 May), point 1 on S02 (16 May).
    lines = [
        application_line("AP1", 2, cancel_date="2025-05-12"),
        application_line("AP2", 1, cancel_date="2025-05-12"),
    ]
    assert [(r[0], r[2]) for r in rows(service, lines)] == [("AP1", "06"), ("AP2", "")]
