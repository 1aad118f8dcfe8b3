"""The import service on the real database (fixture `engine`: SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_files import ACTOR, CALENDAR_CSV, RETAILERS_CSV, source
from sqlalchemy import Engine

from shadan.services.registry_import import RegistryImportService
from shadan.services.registry_rows import RegistryFile
from shadan.store.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory


@pytest.fixture
def uow(engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(engine)


@pytest.fixture
def service(uow: SqlUnitOfWorkFactory) -> RegistryImportService:
    return RegistryImportService(uow, "shadan-test")


@pytest.fixture
def reference_data(service: RegistryImportService) -> None:
    """Retailers and the calendar, which supply points refer to."""
    service.import_files(
        [source(RegistryFile.RETAILERS, RETAILERS_CSV), source(RegistryFile.READING_CALENDAR, CALENDAR_CSV)],
        ACTOR,
    )


@pytest.fixture
def td(uow: SqlUnitOfWorkFactory) -> Iterator[SqlUnitOfWork]:
    """A read-only T&D-realm transaction (row-level security shows supply points only to td)."""
    with uow("td") as work:
        yield work
