"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from shadan.audit.log import metadata as audit_metadata
from shadan.store.tables import metadata as store_metadata


def test_migrated_schema_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, [store_metadata, audit_metadata])
    assert differences == []
