"""SQLAlchemy Core tables. Migrations in store/migrations must match these (checked by a test)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Registry: non-public wheeling data.
retailers = Table(
    "retailers",
    metadata,
    Column("retailer_code", String(16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("affiliated_area", String(2), nullable=True),
)

supply_points = Table(
    "supply_points",
    metadata,
    Column("supply_point_id", String(22), primary_key=True),
    Column("area", String(2), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("voltage", String(16), nullable=False),
    # The database refuses a contract with an unknown retailer even if a caller forgets to check.
    Column("retailer_code", String(16), ForeignKey("retailers.retailer_code"), nullable=False),
    Column("contract_no", String(64), nullable=False),
    Column("name_kana", String(200), nullable=False),
    Column("name_kanji", String(200), nullable=False),
    Column("address", String(400), nullable=False),
    Column("building", String(200), nullable=False, default=""),
    Column("phone", String(32), nullable=False, default=""),
    Column("status", String(32), nullable=False),
    Column("switching_target", Boolean, nullable=False),
    Column("reading_schedule", String(16), nullable=False),
    Column("transformer_id", String(32), nullable=False, default=""),
    Column("feeder_id", String(32), nullable=False, default=""),
    Index(None, "retailer_code"),
)

reading_calendar = Table(
    "reading_calendar",
    metadata,
    Column("reading_schedule", String(16), primary_key=True),
    Column("date", Date, primary_key=True),
)

# Identity.
companies = Table(
    "companies",
    metadata,
    Column("company_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("area", String(2), nullable=True),
    Column("retailer_code", String(16), nullable=True),
)

persons = Table(
    "persons",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("employee_no", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

employments = Table(
    "employments",
    metadata,
    Column("employment_id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(64), ForeignKey("persons.person_id"), nullable=False),
    Column("company_id", String(64), ForeignKey("companies.company_id"), nullable=False),
    Column("department", String(200), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Index(None, "person_id"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("person_id", String(64), ForeignKey("persons.person_id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False, default=""),
    Column("totp_secret", String(128), nullable=True),  # sealed (services/totp_sealing.py)
    # The last TOTP time step accepted: a code for this step or an earlier one is a replay (RFC 6238 §5.2).
    Column("totp_last_step", BigInteger, nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("password_changed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "person_id"),
)

account_roles = Table(
    "account_roles",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.account_id"), primary_key=True),
    Column("role", String(64), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.account_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("mfa_verified", Boolean, nullable=False, default=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(64), nullable=True),
    Column("source_ip", String(64), nullable=False, default=""),
    Index(None, "account_id"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("throttle_key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", DateTime(timezone=True), nullable=True),
)
