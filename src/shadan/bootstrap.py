"""The composition root: the one place that builds stores, engines and services from settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, make_url

from shadan.config import Environment, Settings
from shadan.domain.roles import RoleCatalog
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.services.vault import VaultService
from shadan.store.database import make_engine, migrate
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Shadan:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    catalog: RoleCatalog
    authorizer: CedarAuthorizer
    vault: VaultService
    clock: Clock

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Shadan:
    settings = settings or Settings()
    settings.ensure_home()
    _migrate(settings)
    engine = make_engine(settings.resolved_database_url)
    uow = SqlUnitOfWorkFactory(engine)
    catalog = load_default_catalog()
    authorizer = CedarAuthorizer(catalog, retail_own_contracts=settings.retail_own_contracts)
    enforce = not (settings.bench_disable_policy_and_log and settings.environment is Environment.DEVELOPMENT)
    vault = VaultService(uow, authorizer, catalog, settings.system_name, enforce=enforce)
    return Shadan(
        settings=settings,
        engine=engine,
        uow=uow,
        catalog=catalog,
        authorizer=authorizer,
        vault=vault,
        clock=clock,
    )


def _migrate(settings: Settings) -> None:
    app_url = make_url(settings.resolved_database_url)
    app_role = app_url.username if app_url.get_backend_name() == "postgresql" else None
    migrate(settings.resolved_migration_url, app_role=app_role)
