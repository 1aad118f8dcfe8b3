"""Typed settings, defined once as data (SHADAN_* environment variables)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shadan.services.audit_log import CheckpointPolicy
from shadan.services.identity import SYSTEM_NAME

DEVELOPMENT_SECRET = "development-only-secret-do-not-use"  # noqa: S105 - refused outside development
# The checkpoint rule's defaults live with the rule (the service and the benchmark use it without settings).
_CHECKPOINTS = CheckpointPolicy()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHADAN_", extra="ignore")

    environment: Environment = Field(
        default=Environment.DEVELOPMENT, description="development, test or production."
    )
    home: Path = Field(default=Path("shadan-data"), description="Data directory, created on first use.")
    database_url: str | None = Field(
        default=None, description="Application database URL; default SQLite file in SHADAN_HOME."
    )
    migration_database_url: str | None = Field(
        default=None, description="Owner role URL for migrations (PostgreSQL); default database_url."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET), description="Key for CSRF and session token hashing."
    )
    system_name: str = Field(default=SYSTEM_NAME, description="The `system` field of access events.")
    session_idle_minutes: int = Field(default=30, ge=1, description="Idle session timeout.")
    session_absolute_hours: int = Field(default=10, ge=1, description="Absolute session lifetime.")
    session_keep_days: int = Field(
        default=90, ge=1, description="Days an ended session's record is kept before housekeeping deletes it."
    )
    password_min_length: int = Field(default=15, ge=8, description="NIST SP 800-63B rev.4 single-factor.")
    password_max_age_days: int | None = Field(
        default=None, description="Periodic password change (off by default; see docs/identity.md)."
    )
    lockout_threshold: int = Field(
        default=100, ge=1, le=100, description="Consecutive failures before lockout (NIST: at most 100)."
    )
    retail_own_contracts: bool = Field(
        default=False, description="Every retailer alike may read its own current contracts."
    )
    secure_cookies: bool = Field(default=True, description="Send cookies with the Secure flag.")
    dev_mfa_bypass: bool = Field(
        default=False, description="Development only: accept the code 000000 for TOTP (demo logins)."
    )
    log_origin: str | None = Field(
        default=None,
        description="Name (origin) of a new log key; default `<system_name>/access-log/<random>`.",
    )
    log_checkpoint_events: int = Field(
        default=_CHECKPOINTS.every_events, ge=1, description="Sign a checkpoint every N events."
    )
    log_checkpoint_seconds: float = Field(
        default=_CHECKPOINTS.every_seconds,
        gt=0,
        description="… or when T seconds have passed since the last one.",
    )
    log_search_time_limit_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long an access-log search may take: a page's events and count together, an export.",
    )
    log_tick_seconds: float = Field(
        default=5.0, ge=0, description="How often `shadan serve` sequences the log (0: not in serve)."
    )
    log_witness_url: str | None = Field(
        default=None,
        description="Witness the periodic job hands each new checkpoint to (tlog-witness HTTP).",
    )
    log_witness_key: Path | None = Field(
        default=None, description="File holding that witness's verifier key (cosignature/v1)."
    )
    log_witnesses: Path | None = Field(
        default=None,
        description="File listing more witnesses for the periodic job: one a line, verifier key and URL.",
    )
    log_witness_quorum: int = Field(
        default=1, ge=1, description="Witnesses that must cosign a checkpoint before proofs rest on it."
    )
    log_verification_max_age_hours: float = Field(
        default=26.0,
        gt=0,
        description="Age in hours at which the status page shows the last verification as overdue.",
    )
    log_sequencing_max_wait_minutes: float = Field(
        default=60.0,
        gt=0,
        description="Minutes an event may wait for its leaf before the status page and verification report"
        " the sequencer as stalled.",
    )
    log_retention_years: int = Field(
        default=5, ge=5, description="Years the access log is kept before whole segments may be deleted."
    )
    archive_dir: Path | None = Field(
        default=None, description="Parquet archive of the access log; default SHADAN_HOME/archive."
    )
    switching_match_days: int = Field(
        default=5, ge=1, description="Business days the other half of a switch has to arrive in."
    )
    bench_disable_policy_and_log: bool = Field(
        default=False, description="Benchmark only: skip policy and log, for the overhead ratio."
    )

    @model_validator(mode="after")
    def _witness_needs_its_key(self) -> Settings:
        if (self.log_witness_url is None) != (self.log_witness_key is None):
            raise ValueError("SHADAN_LOG_WITNESS_URL and SHADAN_LOG_WITNESS_KEY go together")
        return self

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.environment is not Environment.DEVELOPMENT:
            if self.dev_mfa_bypass:
                raise ValueError("SHADAN_DEV_MFA_BYPASS is impossible outside development")
            if self.bench_disable_policy_and_log:
                raise ValueError("SHADAN_BENCH_DISABLE_POLICY_AND_LOG is impossible outside development")
        if self.environment is Environment.PRODUCTION:
            if (
                self.secret_key.get_secret_value() == DEVELOPMENT_SECRET
                or len(self.secret_key.get_secret_value()) < 32
            ):
                raise ValueError("SHADAN_SECRET_KEY must be set to a random value of 32+ characters")
            if not self.secure_cookies:
                raise ValueError("SHADAN_SECURE_COOKIES cannot be off in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'shadan.db').resolve()}"

    @property
    def resolved_migration_url(self) -> str:
        return self.migration_database_url or self.resolved_database_url

    @property
    def resolved_archive_dir(self) -> Path:
        return self.archive_dir or self.home / "archive"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home
