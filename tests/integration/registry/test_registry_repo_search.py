"""Searching supply points by address or name: substring, area-scoped, limited, in a stable order."""

from __future__ import annotations

from dataclasses import replace

import pytest
from registry_files import ACTOR, points_csv, source

from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.services.registry_import import RegistryImportService
from shadan.services.registry_rows import RegistryFile
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

pytestmark = pytest.mark.usefixtures("reference_data")


def ids(points: list[SupplyPoint]) -> list[str]:
    return [p.supply_point_id[-3:] for p in points]


@pytest.fixture
def imported(service: RegistryImportService, reference_data: None) -> None:
    # Addresses: 梅田{n % 3 + 1}丁目{n}番, so 梅田2丁目 is n = 1, 4, 7, ...
    service.import_file(source(RegistryFile.SUPPLY_POINTS, points_csv(range(1, 31))), ACTOR)


@pytest.mark.usefixtures("imported")
def test_address_substring_in_id_order_with_limit(uow: SqlUnitOfWorkFactory) -> None:
    with uow("td") as work:
        found = work.registry.search_supply_points("address", "梅田2丁目", "06", 4)
    assert ids(found) == ["001", "004", "007", "010"]


@pytest.mark.usefixtures("imported")
def test_names_are_searchable(uow: SqlUnitOfWorkFactory) -> None:
    with uow("td") as work:
        kana = work.registry.search_supply_points("name_kana", "タロウ2", "06", 50)
        kanji = work.registry.search_supply_points("name_kanji", "太郎30", None, 50)
    assert ids(kana) == ["002", "020", "021", "022", "023", "024", "025", "026", "027", "028", "029"]
    assert ids(kanji) == ["030"]


@pytest.mark.usefixtures("imported")
def test_search_is_scoped_to_the_area(uow: SqlUnitOfWorkFactory) -> None:
    with uow("td") as work:
        assert work.registry.search_supply_points("address", "梅田", "03", 50) == []


def test_wildcards_in_the_term_match_themselves(uow: SqlUnitOfWorkFactory) -> None:
    base = SupplyPoint(
        supply_point_id="0600000000000000000001",
        kind=SupplyPointKind.DEMAND,
        voltage=Voltage.LOW,
        retailer_code="A0001",
        contract_no="K1",
        name_kana="ア",
        name_kanji="亜",
        address="大阪市100%_ビル",
        building="",
        phone="",
        status=SupplyPointStatus.ACTIVE,
        switching_target=True,
        reading_schedule="S01",
    )
    other = replace(base, supply_point_id="0600000000000000000002", address="大阪市1000ビル")
    with uow("td") as work:
        work.registry.upsert_supply_points([base, other])
        assert ids(work.registry.search_supply_points("address", "100%_", "06", 10)) == ["001"]


def test_only_searchable_fields(uow: SqlUnitOfWorkFactory) -> None:
    with uow("td") as work, pytest.raises(ValueError, match="searchable"):
        work.registry.search_supply_points("phone", "06", "06", 10)
