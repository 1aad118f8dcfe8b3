"""One database transaction across all repositories (the services' UnitOfWork port)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, text

from shadan.audit.log import SqlAccessLog
from shadan.services.ports import (
    AccessLogReader,
    AccessLogWriter,
    IdentityRepository,
    RegistryRepository,
    SessionRepository,
    SwitchingRepository,
    ThrottleRepository,
)
from shadan.store.identity_repo import SqlIdentityRepository, SqlSessionRepository, SqlThrottleRepository
from shadan.store.registry_repo import SqlRegistryRepository
from shadan.store.switching_repo import SqlSwitchingRepository

REALMS = frozenset({"td", "retail", "system"})


class SqlUnitOfWork:
    def __init__(self, engine: Engine, realm: str = "td") -> None:
        if realm not in REALMS:
            raise ValueError(f"unknown realm {realm!r}")
        self._engine = engine
        self._realm = realm
        self._connection: Connection | None = None

    # Declared with the port types so the class satisfies services.ports.UnitOfWork exactly.
    registry: RegistryRepository
    identity: IdentityRepository
    sessions: SessionRepository
    throttle: ThrottleRepository
    log: AccessLogWriter
    log_reader: AccessLogReader
    switching: SwitchingRepository

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        connection.begin()
        if connection.dialect.name == "postgresql":
            # Row-level security reads the realm; SET LOCAL scope ends with the transaction.
            connection.execute(
                text("SELECT set_config('shadan.realm', :realm, true)"), {"realm": self._realm}
            )
        self._connection = connection
        self.registry = SqlRegistryRepository(connection)
        self.identity = SqlIdentityRepository(connection)
        self.sessions = SqlSessionRepository(connection)
        self.throttle = SqlThrottleRepository(connection)
        self.log = SqlAccessLog(connection)
        self.log_reader = self.log
        self.switching = SqlSwitchingRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._require()
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        self._require().commit()

    def _require(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, realm: str = "td") -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, realm)
