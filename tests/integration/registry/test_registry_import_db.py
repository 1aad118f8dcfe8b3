"""`registry import` on the real database, SQLite and PostgreSQL: all-or-nothing, upserts, audit."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from registry_files import (
    ACTOR,
    CALENDAR_CSV,
    RETAILERS_CSV,
    bom_source,
    csv_text,
    point_cells,
    points_csv,
    source,
)
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError

from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Action, AuditTag, ResourceType
from shadan.services.registry_import import ImportOutcome, RegistryImportService
from shadan.services.registry_rows import MAX_LENGTHS, RegistryFile
from shadan.store.tables import retailers, supply_points
from shadan.store.unit_of_work import SqlUnitOfWorkFactory


def count_points(uow: SqlUnitOfWorkFactory) -> int:
    with uow("td") as work:
        return work.registry.count_supply_points()


def test_three_files_in_one_call(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    results = service.import_files(
        [
            source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 31))),
            source(RegistryFile.READING_CALENDAR, CALENDAR_CSV),
            source(RegistryFile.RETAILERS, RETAILERS_CSV),
        ],
        ACTOR,
    )
    assert [(r.kind, r.outcome, r.rows_written) for r in results] == [
        (RegistryFile.RETAILERS, ImportOutcome.IMPORTED, 2),
        (RegistryFile.READING_CALENDAR, ImportOutcome.IMPORTED, 4),
        (RegistryFile.SUPPLY_POINTS, ImportOutcome.IMPORTED, 30),
    ]
    with uow("td") as work:
        point = work.registry.get_supply_point("0600000000000000000010")
        retailer = work.registry.get_retailer("A0001")
        assert work.registry.reading_schedules() == {"S01", "S02"}
    assert point is not None
    assert point.kind is SupplyPointKind.GENERATION
    assert point.building == ""
    assert retailer is not None
    assert retailer.is_affiliated


@pytest.mark.usefixtures("reference_data")
def test_cp932_and_bom_files_are_read(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    cp932 = service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv([1, 2]), "cp932"), ACTOR)
    bom_result = service.import_file(bom_source(RegistryFile.SUPPLY_POINTS, points_csv([3])), ACTOR)
    assert (cp932.encoding, cp932.outcome) == ("cp932", ImportOutcome.IMPORTED)
    assert (bom_result.encoding, bom_result.outcome) == ("utf-8-sig", ImportOutcome.IMPORTED)
    with uow("td") as work:
        point = work.registry.get_supply_point("0600000000000000000001")
    assert point is not None
    assert point.name_kanji == "山田 太郎1"


@pytest.mark.usefixtures("reference_data")
def test_one_bad_row_writes_nothing_but_the_audit_event(
    service: RegistryImportService, uow: SqlUnitOfWorkFactory
) -> None:
    bad = point_cells(50, voltage="100V")
    result = service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 40), [bad])), ACTOR)
    assert result.outcome is ImportOutcome.REJECTED
    assert [(e.line, e.column) for e in result.rejected] == [(41, "voltage")]
    assert count_points(uow) == 0
    with uow("td") as work:
        (event, *_) = work.log_reader.events_of_account(ACTOR, 10)
    assert event.action is Action.ADMIN
    assert event.resource_type is ResourceType.REGISTRY_IMPORT
    detail = json.loads(event.detail)
    assert detail["tag"] == AuditTag.REGISTRY_IMPORTED
    assert (detail["rows_read"], detail["rows_written"], detail["rows_rejected"]) == (40, 0, 1)


@pytest.mark.usefixtures("reference_data")
def test_skip_invalid_writes_the_good_rows(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    extra = [point_cells(100, retailer_code="Z9999"), point_cells(101, supply_point_id="123")]
    result = service.import_file(
        source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 11), extra)), ACTOR, skip_invalid=True
    )
    assert result.outcome is ImportOutcome.PARTIAL
    assert (result.rows_written, result.rows_rejected) == (10, 2)
    assert {(e.line, e.column) for e in result.rejected} == {(12, "retailer_code"), (13, "supply_point_id")}
    assert count_points(uow) == 10


@pytest.mark.usefixtures("reference_data")
def test_reimport_updates_in_place(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    # A point that came with equipment data (from elsewhere than the registry file) ...
    with uow("td") as work:
        work.registry.upsert_supply_points(
            [replace(a_point("A0001"), transformer_id="TR-9", feeder_id="F-3")]
        )
        work.commit()
    service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 21))), ACTOR)
    changed = point_cells(1, status="pending_cancellation", retailer_code="B0002", name_kanji="山田 花子")
    again = service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv(range(2, 6), [changed])), ACTOR)
    assert again.rows_written == 5
    assert count_points(uow) == 20
    with uow("td") as work:
        point = work.registry.get_supply_point("0600000000000000000001")
    assert point is not None
    assert (point.status, point.retailer_code, point.name_kanji) == (
        SupplyPointStatus.PENDING_CANCELLATION,
        "B0002",
        "山田 花子",
    )
    # ... keeps it through registry re-imports, which carry no equipment columns.
    assert (point.transformer_id, point.feeder_id) == ("TR-9", "F-3")


def test_retailers_are_upserted(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    service.import_file(source(RegistryFile.RETAILERS, RETAILERS_CSV), ACTOR)
    renamed = csv_text(["affiliated_area", "retailer_code", "name"], [["", "A0001", "新しい名前"]])
    service.import_file(source(RegistryFile.RETAILERS, renamed), ACTOR)
    with uow("td") as work:
        assert work.registry.retailer_codes() == {"A0001", "B0002"}
        retailer = work.registry.get_retailer("A0001")
    assert retailer is not None
    assert (retailer.name, retailer.affiliated_area) == ("新しい名前", None)


def a_point(retailer_code: str) -> SupplyPoint:
    return SupplyPoint(
        supply_point_id="0600000000000000000001",
        kind=SupplyPointKind.DEMAND,
        voltage=Voltage.LOW,
        retailer_code=retailer_code,
        contract_no="K1",
        name_kana="ア",
        name_kanji="亜",
        address="大阪",
        building="",
        phone="",
        status=SupplyPointStatus.ACTIVE,
        switching_target=True,
        reading_schedule="S01",
    )


def test_the_database_refuses_a_supply_point_of_an_unknown_retailer(uow: SqlUnitOfWorkFactory) -> None:
    # Defence in depth: the import checks retailer codes, and the foreign key holds even if a caller does not.
    with uow("td") as work, pytest.raises(IntegrityError):
        work.registry.upsert_supply_points([a_point("NOPE")])


@pytest.mark.usefixtures("reference_data")
def test_a_failure_midway_leaves_nothing_written(uow: SqlUnitOfWorkFactory) -> None:
    service = RegistryImportService(uow, "shadan-test", chunk_rows=100)

    def interrupt(_total: int, done: int) -> None:
        if done >= 300:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.import_file(
            source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 1001))), ACTOR, progress=interrupt
        )
    assert count_points(uow) == 0


@pytest.mark.usefixtures("reference_data")
def test_ten_thousand_rows(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    result = service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 10_001))), ACTOR)
    assert (result.outcome, result.rows_written) == (ImportOutcome.IMPORTED, 10_000)
    assert count_points(uow) == 10_000


def test_calendar_replaces_named_schedules(service: RegistryImportService, uow: SqlUnitOfWorkFactory) -> None:
    service.import_file(source(RegistryFile.READING_CALENDAR, CALENDAR_CSV), ACTOR)
    service.import_file(
        source(RegistryFile.READING_CALENDAR, "reading_schedule,date\nS03,2025-06-01\n"), ACTOR
    )
    with uow("td") as work:
        assert work.registry.reading_schedules() == {"S01", "S02", "S03"}


def test_row_length_limits_match_the_table_columns() -> None:
    columns = {**{c.name: c for c in supply_points.columns}, "name": retailers.c.name}
    for name, limit in MAX_LENGTHS.items():
        column_type = columns[name].type
        assert isinstance(column_type, String)
        assert column_type.length == limit, name
