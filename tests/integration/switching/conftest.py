"""The validation service on the real database (fixture `engine`: SQLite and PostgreSQL), with the registry
loaded through the real import service."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from switching_clock import MovableClock
from switching_registry import CALENDAR_CSV, POINTS_CSV, RETAILERS_CSV

from shadan.services.registry_import import ImportOutcome, ImportSource, RegistryImportService
from shadan.services.registry_rows import RegistryFile
from shadan.services.switching import SwitchingService
from shadan.services.switching_cases import SwitchingCaseService
from shadan.services.switching_events import SwitchingEvents
from shadan.store.unit_of_work import SqlUnitOfWorkFactory


@pytest.fixture
def uow(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture
def registry(uow: SqlUnitOfWorkFactory) -> None:
    sources = [
        ImportSource(RegistryFile.RETAILERS, "retailers.csv", RETAILERS_CSV.encode()),
        ImportSource(RegistryFile.READING_CALENDAR, "reading_calendar.csv", CALENDAR_CSV.encode()),
        ImportSource(RegistryFile.SUPPLY_POINTS, "supply_points.csv", POINTS_CSV.encode("cp932")),
    ]
    results = RegistryImportService(uow, "shadan-test").import_files(sources, "system:registry-test")
    assert all(r.outcome is ImportOutcome.IMPORTED for r in results), results


@pytest.fixture
def service(uow: SqlUnitOfWorkFactory, registry: None) -> SwitchingService:
    return SwitchingService(uow, "shadan-test", chunk_rows=4)


@pytest.fixture
def clock() -> MovableClock:
    # Wednesday 2 April 2025, 10:00 JST: just after the applications of switching_registry were received.
    return MovableClock(dt.datetime(2025, 4, 2, 1, 0, tzinfo=dt.UTC))


@pytest.fixture
def cases(uow: SqlUnitOfWorkFactory, registry: None, clock: MovableClock) -> SwitchingCaseService:
    return SwitchingCaseService(uow, SwitchingEvents("shadan-test", clock), match_days=5, chunk_rows=4)
