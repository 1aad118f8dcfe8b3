"""Shared fixtures: a real, migrated database per test on SQLite and (when configured) PostgreSQL.

PostgreSQL tests read SHADAN_TEST_PG_URL (owner role) and SHADAN_TEST_PG_APP_URL (application role,
no BYPASSRLS). Outside CI they skip when unset; in CI (CI=true) a missing server is an error.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, make_url, text

from postgres_schema import schema_changes, schema_lines
from shadan.audit.schema import metadata as audit_metadata
from shadan.store.database import make_engine, migrate
from shadan.store.tables import metadata as store_metadata

# No test is timed (speed is measured in bench/): Hypothesis's deadline for each example would fail a test
# on a machine busy with the other workers.
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")

# `pytester` runs a test session of its own: how the schema guard below is itself tested.
pytest_plugins = ["pytester"]

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("SHADAN_TEST_PG_URL")
PG_APP_URL = os.environ.get("SHADAN_TEST_PG_APP_URL")
ALL_TABLES = [t.name for t in (*store_metadata.sorted_tables, *audit_metadata.sorted_tables)]


def pytest_configure(config: pytest.Config) -> None:
    """Each test process starts without a terminal size: `make test`'s worker processes are given
    COLUMNS=80 and LINES=24, and a Rich console made on import keeps the width it found then, where a
    test gives each command the width it needs."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


def require_postgres() -> tuple[str, str]:
    if PG_URL and PG_APP_URL:
        return PG_URL, PG_APP_URL
    if IN_CI:
        pytest.fail("CI=true but SHADAN_TEST_PG_URL / SHADAN_TEST_PG_APP_URL are not set")
    pytest.skip("PostgreSQL not configured (set SHADAN_TEST_PG_URL and SHADAN_TEST_PG_APP_URL)")


@pytest.fixture(scope="session")
def postgres_server() -> tuple[str, str]:
    """The PostgreSQL server's (owner url, application url), for tests that make databases of their own."""
    return require_postgres()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[tuple[str, str]]:
    """A fresh database for this test session: (owner url, application url)."""
    owner_url, app_url = require_postgres()
    name = f"shadan_test_{uuid.uuid4().hex[:12]}"
    _create_postgres_database(name)
    owner_db = make_url(owner_url).set(database=name).render_as_string(hide_password=False)
    app_db = make_url(app_url).set(database=name).render_as_string(hide_password=False)
    yield owner_db, app_db
    _drop_postgres_database(name)


@pytest.fixture(scope="session")
def postgres_schema(postgres_database: tuple[str, str]) -> frozenset[str]:
    """The schema the migrations make, which every test leaves as it found it."""
    return _schema_of(postgres_database[0])


def _create_postgres_database(name: str) -> None:
    owner_url, app_url = require_postgres()
    _as_admin(f'CREATE DATABASE "{name}"')
    owner_db = make_url(owner_url).set(database=name).render_as_string(hide_password=False)
    migrate(owner_db, app_role=make_url(app_url).username)


def _drop_postgres_database(name: str) -> None:
    _as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_admin(statement: str) -> None:
    admin = create_engine(require_postgres()[0], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def _truncate_postgres(owner_db: str) -> None:
    owner = create_engine(owner_db)
    with owner.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE"))
    owner.dispose()


def _schema_of(owner_db: str) -> frozenset[str]:
    owner = create_engine(owner_db)
    with owner.connect() as conn:
        lines = schema_lines(conn)
    owner.dispose()
    return lines


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database (application role on PostgreSQL, its schema unchanged by the
    test)."""
    if request.param == "sqlite":
        path = tmp_path / "shadan.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    request.getfixturevalue("unchanged_postgres_schema")
    owner_db, app_db = request.getfixturevalue("postgres_database")
    _truncate_postgres(owner_db)
    yield str(app_db)


@pytest.fixture
def unchanged_postgres_schema(
    postgres_database: tuple[str, str], postgres_schema: frozenset[str]
) -> Iterator[None]:
    """The session's PostgreSQL database is shared by its tests: one that leaves its schema changed fails,
    and the database is made again for the next."""
    yield
    owner_db = postgres_database[0]
    changes = schema_changes(postgres_schema, _schema_of(owner_db))
    if changes:
        name = make_url(owner_db).database
        assert name is not None
        _drop_postgres_database(name)
        _create_postgres_database(name)
        pytest.fail(f"the test left PostgreSQL's schema changed:\n{changes}", pytrace=False)


@pytest.fixture
def owner_url(db_url: str, request: pytest.FixtureRequest) -> str:
    """The same database as `db_url` with the table owner's role on PostgreSQL (what the application role
    may not do: deleting log segments, tampering as an attacker would)."""
    return db_url if db_url.startswith("sqlite") else str(request.getfixturevalue("postgres_database")[0])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A first-time operator's SHADAN_HOME (the embedded SQLite) and nothing else set up, for the CLI."""
    for name in ("SHADAN_DATABASE_URL", "SHADAN_MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHADAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width
    return tmp_path / "home"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()
