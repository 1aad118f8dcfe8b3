"""Identity services on the real database (fixture `engine`: SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from identity_support import Identity, build_identity, seed
from sqlalchemy import Engine


@pytest.fixture
def identity(engine: Engine) -> Identity:
    return build_identity(engine)


@pytest.fixture
def totp_secrets(identity: Identity) -> dict[str, str]:
    return seed(identity)
