"""The guard of the session's shared PostgreSQL database (tests/postgres_schema.py) sees each kind of change
a tampering test makes to the schema, and nothing when the schema is as the migrations made it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from postgres_schema import schema_changes, schema_lines

pytestmark = pytest.mark.postgres

_FUNCTION = "CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
_NARROWED_VIEW = (
    "DO $$ BEGIN EXECUTE 'CREATE OR REPLACE VIEW access_events AS SELECT * FROM ('"
    " || rtrim(pg_get_viewdef('access_events'), ';') || ') v WHERE v.seq > 0'; END $$"
)
_CHANGES = {
    "index dropped": ["DROP INDEX uq_access_events_event_id"],
    "constraint dropped": ["ALTER TABLE log_leaves DROP CONSTRAINT pk_log_leaves"],
    "check dropped": ["ALTER TABLE access_log_entries DROP CONSTRAINT ck_access_log_entries_json"],
    "column default": ["ALTER TABLE log_segments ALTER COLUMN event_count SET DEFAULT 0"],
    "column type": ["ALTER TABLE log_deletions ALTER COLUMN segment_id TYPE varchar(20)"],
    "trigger": [
        _FUNCTION,
        "CREATE TRIGGER keep BEFORE INSERT ON access_log_entries FOR EACH ROW EXECUTE FUNCTION keep_row()",
    ],
    "rule": ["CREATE RULE quiet AS ON DELETE TO log_leaves DO INSTEAD NOTHING"],
    "view": [_NARROWED_VIEW],
    "row-level security": ["ALTER TABLE log_leaves ENABLE ROW LEVEL SECURITY"],
    "grant": ["GRANT DELETE ON access_log_entries TO PUBLIC"],
    "table": ["CREATE TABLE stray (n int)"],
}


@pytest.fixture
def owner(postgres_database: tuple[str, str], unchanged_postgres_schema: None) -> Iterator[Engine]:
    engine = create_engine(postgres_database[0])
    yield engine
    engine.dispose()


def test_the_schema_as_migrated_shows_no_change(owner: Engine, postgres_schema: frozenset[str]) -> None:
    with owner.connect() as connection:
        assert schema_changes(postgres_schema, schema_lines(connection)) == ""


@pytest.mark.parametrize("statements", _CHANGES.values(), ids=_CHANGES.keys())
def test_each_kind_of_change_is_seen(
    owner: Engine, postgres_schema: frozenset[str], statements: list[str]
) -> None:
    # PostgreSQL's DDL is transactional: the change is rolled back, and the shared database stays whole.
    with owner.connect() as connection, connection.begin() as transaction:
        for statement in statements:
            connection.execute(text(statement))
        changes = schema_changes(postgres_schema, schema_lines(connection))
        transaction.rollback()
    assert changes
    assert all(line[:2] in ("- ", "+ ") for line in changes.splitlines())


def test_a_test_that_leaves_a_change_fails_and_the_next_finds_the_schema_whole(
    pytester: pytest.Pytester, postgres_server: tuple[str, str]
) -> None:
    """The guard itself, in a session of its own (its own database): the test that creates a table and
    leaves it errors at its teardown, naming what changed; the test after it finds the migrated schema."""
    tests = Path(__file__).parents[2]
    for support in ("conftest.py", "postgres_schema.py"):
        pytester.makefile(".py", **{support.removesuffix(".py"): (tests / support).read_text()})
    pytester.makepyfile(
        test_leaves_a_table="""
        from postgres_schema import schema_lines
        from sqlalchemy import create_engine, text

        def test_leaves_a_table(owner_url):
            engine = create_engine(owner_url)
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE stray (n int)"))
            engine.dispose()

        def test_after_it(owner_url, postgres_schema):
            engine = create_engine(owner_url)
            with engine.connect() as connection:
                assert schema_lines(connection) == postgres_schema
            engine.dispose()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "postgres")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaves_a_table?postgres?*",
            "the test left PostgreSQL's schema changed:",
            "+ column stray n integer f",
            "+ relation stray r * f f",
        ]
    )
