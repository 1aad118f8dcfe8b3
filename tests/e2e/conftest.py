"""Fixtures of the end-to-end tests: the real app from bootstrap on a migrated SQLite / PostgreSQL store,
a small provisioned world, and HTTP clients (TestClient; a real uvicorn server for the browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from world import TestClient, TestClock, World, build_container, build_world, make_settings

from shadan.web.app import create_app


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def shadan(db_url: str, tmp_path: Path, clock: TestClock) -> Iterator[Any]:
    built = build_container(make_settings(db_url, tmp_path / "home"), clock)
    yield built
    built.close()


@pytest.fixture
def world(shadan: Any, clock: TestClock) -> World:
    return build_world(shadan, clock)


@pytest.fixture
def client(shadan: Any, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(shadan), follow_redirects=False) as test_client:
        yield test_client
