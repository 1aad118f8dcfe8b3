"""The composition root: the one place that builds stores, engines and services from settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url

from shadan.audit.archive import SqlSegmentArchive
from shadan.audit.cosignatures import SqlCosignatureLedger, WitnessCosignatureChecks
from shadan.audit.group_commit import GroupCommit
from shadan.audit.keys import FileKeyStore, default_origin
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.retention import SqlRetention
from shadan.audit.set_aside import SqlLeftOutEntries
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.witness_checks import SignedCheckpoints
from shadan.audit.witness_client import HttpWitnessClient
from shadan.audit.witness_key_file import WitnessKeyFile
from shadan.audit.witness_store import SqlWitnessStore
from shadan.config import Environment, Settings
from shadan.domain.errors import InvalidInput
from shadan.domain.roles import RoleCatalog
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.services.accounts import AccountService
from shadan.services.archive import ArchiveService
from shadan.services.audit_log import AuditLogService, CheckpointPolicy
from shadan.services.audit_review import AuditReviewService
from shadan.services.authentication import AuthService
from shadan.services.clock import Clock, utc_now
from shadan.services.cosigning import CosigningService, Witness
from shadan.services.credentials import TEST_ARGON2, Argon2Hasher
from shadan.services.entry_set_aside import EntrySetAsideService
from shadan.services.housekeeping import Housekeeping, SweepingLog
from shadan.services.hr_master import HrMasterService
from shadan.services.identity import EventFactory, IdentityPolicy
from shadan.services.log_maintenance import PeriodicLog, WitnessedLog
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.services.registry_import import RegistryImportService
from shadan.services.switching import SwitchingService
from shadan.services.switching_cases import SwitchingCaseService
from shadan.services.switching_desk import SwitchingDesk
from shadan.services.switching_events import SwitchingEvents
from shadan.services.switching_fraud import FraudSignalService
from shadan.services.switching_oversight import Oversight, UnitOfWorkRecords
from shadan.services.switching_stats import SwitchingStatisticsService
from shadan.services.totp_sealing import TotpSealer
from shadan.services.transfers import TransferService
from shadan.services.vault import VaultService
from shadan.services.witness import WitnessService
from shadan.services.witness_list import parse_witness_list, witness_url
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
    switching_cases: SwitchingCaseService
    switching_desk: SwitchingDesk
    switching_stats: SwitchingStatisticsService
    switching_fraud: FraudSignalService
    auth: AuthService
    accounts: AccountService
    transfers: TransferService
    hr_master: HrMasterService
    clock: Clock
    audit_log: AuditLogService
    audit_review: AuditReviewService
    witnesses: tuple[Witness, ...]  # the log's witnesses (SHADAN_LOG_WITNESS_URL/_KEY, SHADAN_LOG_WITNESSES)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None, clock: Clock = utc_now) -> Shadan:
    settings = settings or Settings()
    witnesses = _configured_witnesses(settings)  # a wrong file stops here, before anything is opened
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
    oversight = Oversight(catalog, access_log, settings.system_name)
    switching_events = SwitchingEvents(settings.system_name, clock)
    switching_cases = SwitchingCaseService(uow, switching_events, settings.switching_match_days)
    identity = _identity_policy(settings)
    # Tests build many worlds: cheap Argon2 parameters there, the production ones everywhere else.
    hasher = Argon2Hasher(TEST_ARGON2) if settings.environment is Environment.TEST else Argon2Hasher()
    secret_key = settings.secret_key.get_secret_value().encode()
    audit_log = _audit_log(settings, engine, clock)
    return Shadan(
        settings=settings,
        engine=engine,
        uow=uow,
        catalog=catalog,
        authorizer=authorizer,
        vault=vault,
        registry_import=RegistryImportService(uow, settings.system_name, clock=clock),
        switching=SwitchingService(uow, settings.system_name, clock=clock),
        switching_cases=switching_cases,
        switching_desk=SwitchingDesk(switching_cases, catalog, switching_events, access_log),
        switching_stats=SwitchingStatisticsService(UnitOfWorkRecords(uow), oversight, clock),
        switching_fraud=FraudSignalService(UnitOfWorkRecords(uow), uow, oversight, clock=clock),
        auth=AuthService(
            uow,
            catalog,
            identity,
            secret_key,
            clock,
            hasher=hasher,
            log=access_log,
        ),
        accounts=AccountService(uow, catalog, identity, TotpSealer(secret_key), clock, hasher=hasher),
        transfers=TransferService(uow, catalog, settings.system_name, clock),
        hr_master=HrMasterService(uow, catalog, settings.system_name, clock),
        clock=clock,
        audit_log=audit_log,
        audit_review=AuditReviewService(
            SqlLogSearch(engine, time_limit_seconds=settings.log_search_time_limit_seconds),
            audit_log,
            uow,
            access_log,
            catalog,
            settings.system_name,
            witness_names=[w.name for w in witnesses],
            verification_max_age=dt.timedelta(hours=settings.log_verification_max_age_hours),
            sequencing_max_wait=_sequencing_max_wait(settings),
        ),
        witnesses=witnesses,
    )


def build_audit_log(shadan: Shadan) -> AuditLogService:
    """The tamper-evident log on the container's database; its signing key lives in SHADAN_HOME/keys."""
    return _audit_log(shadan.settings, shadan.engine, shadan.clock)


def _audit_log(settings: Settings, engine: Engine, clock: Clock) -> AuditLogService:
    """The tamper-evident log on the container's database; its signing key lives in SHADAN_HOME/keys."""
    keys = _log_keys(settings)
    policy = CheckpointPolicy(settings.log_checkpoint_events, settings.log_checkpoint_seconds)
    return AuditLogService(
        SqlTransparencyLog(
            engine,
            keys,
            clock,
            witness_quorum=settings.log_witness_quorum,
            max_wait=_sequencing_max_wait(settings),
            system=settings.system_name,
        ),
        clock,
        policy,
        system=settings.system_name,
    )


def build_cosigning(shadan: Shadan) -> CosigningService:
    """The log's side of witnessing: its checkpoints handed to witnesses, their cosignatures kept."""
    return CosigningService(
        shadan.audit_log,
        SqlCosignatureLedger(shadan.engine),
        WitnessCosignatureChecks(),
        HttpWitnessClient,
        shadan.clock,
        shadan.settings.system_name,
    )


def build_housekeeping(shadan: Shadan) -> Housekeeping:
    """The sweep of ended sessions and forgotten address counters."""
    settings = shadan.settings
    events = EventFactory(settings.system_name)
    return Housekeeping(shadan.uow, _identity_policy(settings), events, shadan.clock)


def build_server_job(shadan: Shadan) -> PeriodicLog:
    """What `shadan serve` ticks: the periodic log (below) and, once an hour, the housekeeping sweep."""
    return SweepingLog(build_periodic_log(shadan), build_housekeeping(shadan), shadan.clock)


def build_periodic_log(shadan: Shadan) -> PeriodicLog:
    """What the periodic job ticks: the log, and with SHADAN_LOG_WITNESS_URL or SHADAN_LOG_WITNESSES its
    witnesses too (their keys were read and checked by `build`, so a wrong file stops the start)."""
    if not shadan.witnesses:
        return shadan.audit_log
    return WitnessedLog(shadan.audit_log, build_cosigning(shadan), shadan.witnesses)


def _configured_witnesses(settings: Settings) -> tuple[Witness, ...]:
    """The single witness of SHADAN_LOG_WITNESS_URL and _KEY, then those of SHADAN_LOG_WITNESSES."""
    checks = WitnessCosignatureChecks()
    witnesses: list[Witness] = []
    if settings.log_witness_url is not None and settings.log_witness_key is not None:
        key = _read_setting_file(settings.log_witness_key, "証人の検証鍵ファイル（SHADAN_LOG_WITNESS_KEY）")
        witnesses.append(Witness(witness_url(settings.log_witness_url), checks.witness_key(key)))
    if settings.log_witnesses is not None:
        listed = _read_setting_file(settings.log_witnesses, "証人の一覧（SHADAN_LOG_WITNESSES）")
        for witness in parse_witness_list(listed, checks.witness_key):
            if witness.name in (w.name for w in witnesses):
                raise InvalidInput("SHADAN_LOG_WITNESSES に SHADAN_LOG_WITNESS_KEY と同じ証人があります。")
            witnesses.append(witness)
    return tuple(witnesses)


def _read_setting_file(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what}を読めません: {exc}") from exc


def build_witness(home: Path, clock: Clock = utc_now) -> WitnessService:
    """A witness run by another party: its key and its own SQLite file in `home`, nothing of shadan's."""
    return WitnessService(WitnessKeyFile(home), SqlWitnessStore.in_home(home), SignedCheckpoints(), clock)


def _log_keys(settings: Settings) -> FileKeyStore:
    return FileKeyStore(settings.home / "keys", settings.log_origin or default_origin(settings.system_name))


def build_entry_set_aside(shadan: Shadan) -> EntrySetAsideService:
    """Setting aside an entry the sequencer left out: removing its row takes the owner role."""
    settings = shadan.settings
    entries = SqlLeftOutEntries(shadan.engine, lambda: make_engine(settings.resolved_migration_url))
    return EntrySetAsideService(entries, shadan.clock, settings.system_name)


def build_archive(shadan: Shadan) -> ArchiveService:
    """Monthly Parquet archive and retention of the log; deleting expired events takes the owner role."""
    settings = shadan.settings
    keys, directory = _log_keys(settings), settings.resolved_archive_dir
    return ArchiveService(
        shadan.audit_log,
        SqlSegmentArchive(shadan.engine, directory, keys, shadan.clock),
        SqlRetention(shadan.engine, lambda: make_engine(settings.resolved_migration_url), keys, directory),
        UnitOfWorkLogSink(shadan.uow),
        shadan.clock,
        settings.system_name,
        settings.log_retention_years,
    )


def _identity_policy(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        system_name=settings.system_name,
        password_min_length=settings.password_min_length,
        password_max_age_days=settings.password_max_age_days,
        lockout_threshold=settings.lockout_threshold,
        session_idle_minutes=settings.session_idle_minutes,
        session_absolute_hours=settings.session_absolute_hours,
        session_keep_days=settings.session_keep_days,
        dev_mfa_bypass=settings.dev_mfa_bypass and settings.environment is Environment.DEVELOPMENT,
    )


def _migrate(settings: Settings) -> None:
    app_url = make_url(settings.resolved_database_url)
    app_role = app_url.username if app_url.get_backend_name() == "postgresql" else None
    migrate(settings.resolved_migration_url, app_role=app_role)


def _sequencing_max_wait(settings: Settings) -> dt.timedelta:
    return dt.timedelta(minutes=settings.log_sequencing_max_wait_minutes)
