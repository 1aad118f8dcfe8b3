"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, select

from shadan.audit.log import SqlAccessLog
from shadan.audit.log import metadata as audit_metadata
from shadan.audit.tree_tables import log_leaves, log_resource_ids
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.store.database import alembic_config, make_engine
from shadan.store.tables import metadata as store_metadata


def test_migrated_schema_matches_the_declared_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, [store_metadata, audit_metadata])
    assert differences == []


def test_the_search_index_is_filled_for_the_events_sequenced_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before-0007.db'}"
    command.upgrade(alembic_config(url, None), "0006")
    engine = make_engine(url)
    ids = [("0600000000000000000001",), ("0600000000000000000001", "0600000000000000000002"), (), ("x",)]
    with engine.begin() as connection:
        SqlAccessLog(connection).append([_event(i, resource_ids) for i, resource_ids in enumerate(ids)])
        sequenced_at = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
        leaves = [
            {"leaf_index": i, "seq": i + 1, "leaf_hash": bytes(32), "sequenced_at": sequenced_at}
            for i in range(3)
        ]
        connection.execute(insert(log_leaves), leaves)  # the fourth event is not sequenced yet
    command.upgrade(alembic_config(url, None), "head")
    with engine.connect() as connection:
        indexed = connection.execute(select(log_resource_ids.c.resource_id, log_resource_ids.c.seq)).all()
    engine.dispose()
    assert sorted(indexed) == [
        ("0600000000000000000001", 1),
        ("0600000000000000000001", 2),
        ("0600000000000000000002", 2),
    ]


def _event(i: int, resource_ids: tuple[str, ...]) -> AccessEvent:
    return AccessEvent(
        event_id=f"ev-{i}",
        ts=dt.datetime(2025, 4, 1, tzinfo=dt.UTC),
        system="shadan",
        account_id="k.tanaka",
        person_id="p001",
        company_id="td06",
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=resource_ids,
        outcome=Outcome.ALLOWED,
    )
