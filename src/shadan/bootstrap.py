"""The composition root: the one place that builds stores, engines and services from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, make_url

from shadan.audit.group_commit import GroupCommit
from shadan.audit.keys import FileKeyStore, default_origin
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.config import Environment, Settings
from shadan.domain.roles import RoleCatalog
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.services.accounts import AccountService
from shadan.services.audit_log import AuditLogService, CheckpointPolicy, ProofChecker
from shadan.services.authentication import AuthService
from shadan.services.clock import Clock, utc_now
from shadan.services.credentials import TEST_ARGON2, Argon2Hasher
from shadan.services.hr_master import HrMasterService
from shadan.services.identity import IdentityPolicy
from shadan.services.registry_import import RegistryImportService
from shadan.services.switching import SwitchingService
from shadan.services.transfers import TransferService
from shadan.services.vault import VaultService
from shadan.store.database import make_engine, migrate
from shadan.store.unit_of_work import SqlUnitOfWorkFactory


@dataclass(frozen=True)
class Shadan:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    catalog: RoleCatalog
    authorizer: CedarAuthorizer
    vault: VaultService
    registry_import: RegistryImportService
    switching: SwitchingService
    auth: AuthService
    accounts: AccountService
    transfers: TransferService
    hr_master: HrMasterService
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
    # Reads, searches and refused sessions share commits of the access log (one fsync per batch).
    access_log = GroupCommit.on(engine)
    vault = VaultService(uow, authorizer, catalog, settings.system_name, enforce=enforce, log=access_log)
    identity = _identity_policy(settings)
    # Tests build many worlds: cheap Argon2 parameters there, the production ones everywhere else.
    hasher = Argon2Hasher(TEST_ARGON2) if settings.environment is Environment.TEST else Argon2Hasher()
    return Shadan(
        settings=settings,
        engine=engine,
        uow=uow,
        catalog=catalog,
        authorizer=authorizer,
        vault=vault,
        registry_import=RegistryImportService(uow, settings.system_name, clock=clock),
        switching=SwitchingService(uow, settings.system_name, clock=clock),
        auth=AuthService(
            uow,
            catalog,
            identity,
            settings.secret_key.get_secret_value().encode(),
            clock,
            hasher=hasher,
            log=access_log,
        ),
        accounts=AccountService(uow, catalog, identity, clock, hasher=hasher),
        transfers=TransferService(uow, catalog, settings.system_name, clock),
        hr_master=HrMasterService(uow, catalog, settings.system_name, clock),
        clock=clock,
    )


def build_audit_log(shadan: Shadan) -> AuditLogService:
    """The tamper-evident log on the container's database; its signing key lives in SHADAN_HOME/keys."""
    settings = shadan.settings
    keys = FileKeyStore(settings.home / "keys", settings.log_origin or default_origin(settings.system_name))
    policy = CheckpointPolicy(settings.log_checkpoint_events, settings.log_checkpoint_seconds)
    return AuditLogService(SqlTransparencyLog(shadan.engine, keys, shadan.clock), shadan.clock, policy)


def build_proof_checker() -> ProofChecker:
    """`shadan audit verify-proof` needs no settings and no database: the proof file and a key suffice."""
    return TlogProofChecker()


def _identity_policy(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        system_name=settings.system_name,
        password_min_length=settings.password_min_length,
        password_max_age_days=settings.password_max_age_days,
        lockout_threshold=settings.lockout_threshold,
        session_idle_minutes=settings.session_idle_minutes,
        session_absolute_hours=settings.session_absolute_hours,
        dev_mfa_bypass=settings.dev_mfa_bypass and settings.environment is Environment.DEVELOPMENT,
    )


def _migrate(settings: Settings) -> None:
    app_url = make_url(settings.resolved_database_url)
    app_role = app_url.username if app_url.get_backend_name() == "postgresql" else None
    migrate(settings.resolved_migration_url, app_role=app_role)
