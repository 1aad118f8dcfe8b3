"""Every security-relevant string of shadan as an enum, never a bare literal."""

from __future__ import annotations

from enum import StrEnum


class CompanyKind(StrEnum):
    TD = "td"
    AFFILIATED_RETAIL = "affiliated_retail"
    RETAIL = "retail"
    CONTRACTOR = "contractor"
    REGULATOR = "regulator"

    @property
    def is_retail(self) -> bool:
        return self in (CompanyKind.RETAIL, CompanyKind.AFFILIATED_RETAIL)


class InfoCategory(StrEnum):
    """Information categories (DESIGN §7). Every field of every record belongs to exactly one."""

    SUPPLY_POINT = "supply_point"
    LOCATION = "location"
    NEW_POWER_CUSTOMER = "new_power_customer"
    NEW_POWER_PURCHASE = "new_power_purchase"
    EQUIPMENT = "equipment"
    GRID = "grid"
    OUTAGE = "outage"
    USAGE = "usage"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[InfoCategory, str] = {
    InfoCategory.SUPPLY_POINT: "供給地点情報",
    InfoCategory.LOCATION: "需要場所情報",
    InfoCategory.NEW_POWER_CUSTOMER: "新電力顧客情報",
    InfoCategory.NEW_POWER_PURCHASE: "新電力買取情報",
    InfoCategory.EQUIPMENT: "設備情報",
    InfoCategory.GRID: "系統情報",
    InfoCategory.OUTAGE: "停電情報",
    InfoCategory.USAGE: "使用量情報",
}


class Action(StrEnum):
    """What a request does; the Cedar action ids and the access-event actions (DESIGN §5.5)."""

    VIEW = "view"
    SEARCH = "search"
    EXPORT = "export"
    UPDATE = "update"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    ADMIN = "admin"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class ResourceType(StrEnum):
    SUPPLY_POINT = "supply_point"
    ACCOUNT = "account"
    PERSON = "person"
    SESSION = "session"
    REGISTRY_IMPORT = "registry_import"
    ACCESS_LOG = "access_log"
    SWITCHING = "switching"  # submitted switching applications, as statistics and fraud signals


class PolicySwitch(StrEnum):
    """An operator setting the policies read (in the Cedar context); a purpose may need one to be on."""

    RETAIL_OWN_CONTRACTS = "retail_own_contracts"


class AdminArea(StrEnum):
    """Areas outside the records that a role manages (`administers` in policy/roles.toml)."""

    ACCOUNTS = "accounts"
    ROLES = "roles"
    TRANSFERS = "transfers"
    DISASTERS = "disasters"
    ACCESS_LOG = "access_log"
    FINDINGS = "findings"
    EVIDENCE = "evidence"
    CONFIGURATION = "configuration"
    HEALTH = "health"
    EVALUATIONS = "evaluations"
    REPORTS = "reports"


class AuditTag(StrEnum):
    """Why an administrative event was recorded (warehouse-style tags)."""

    ACCOUNT_CREATED = "account:created"
    ACCOUNT_LOCKED = "account:locked"
    ACCOUNT_DISABLED = "account:disabled"
    PASSWORD_CHANGED = "account:password_changed"  # noqa: S105 - an audit tag, not a secret
    TOTP_ENROLLED = "account:totp_enrolled"
    ROLE_GRANTED = "account:role_granted"
    ROLE_REVOKED = "account:role_revoked"
    PERSON_TRANSFERRED = "person:transferred"
    SESSION_STARTED = "session:started"
    SESSION_ENDED = "session:ended"
    SESSIONS_REVOKED = "session:revoked"
    REGISTRY_IMPORTED = "registry:imported"
    HR_MASTER_LOADED = "identity:hr_master_loaded"
    ACCOUNT_ENABLED = "account:enabled"
    ACCOUNT_UNLOCKED = "account:unlocked"
    SHARED_ID_REFUSED = "account:shared_id_refused"
    PERSON_REGISTERED = "person:registered"
    COMPANY_REGISTERED = "company:registered"
    LOGIN_REFUSED = "session:login_refused"
    MFA_VERIFIED = "session:mfa_verified"
    MFA_FAILED = "session:mfa_failed"
    HOUSEKEEPING_SWEPT = "housekeeping:swept"
    LOG_COSIGNED = "access_log:cosigned"
    LOG_VERIFIED = "log:verified"
    LOG_PROOF_EXPORTED = "log:proof_exported"
    LOG_STATUS_VIEWED = "log:status_viewed"
    LOG_SEARCHED = "log:searched"
    LOG_EXPORTED = "log:events_exported"
    LOG_ARCHIVED = "log:archived"
    LOG_SEGMENT_DELETED = "log:segment_deleted"
    LOG_HOLD_PLACED = "log:hold_placed"
    LOG_HOLD_RELEASED = "log:hold_released"
    LOG_ENTRY_LEFT_OUT = "log:entry_left_out"
    LOG_ENTRY_SET_ASIDE = "log:entry_set_aside"
    SWITCHING_STATISTICS = "switching:statistics"
    SWITCHING_FRAUD_SIGNALS = "switching:fraud_signals"


class Area(StrEnum):
    """Supply areas by the first two digits of the 供給地点特定番号."""

    HOKKAIDO = "01"
    TOHOKU = "02"
    TOKYO = "03"
    CHUBU = "04"
    HOKURIKU = "05"
    KANSAI = "06"
    CHUGOKU = "07"
    SHIKOKU = "08"
    KYUSHU = "09"
    OKINAWA = "10"

    @property
    def operator_name(self) -> str:
        return AREA_OPERATORS[self]


AREA_OPERATORS: dict[Area, str] = {
    Area.HOKKAIDO: "北海道電力ネットワーク",
    Area.TOHOKU: "東北電力ネットワーク",
    Area.TOKYO: "東京電力パワーグリッド",
    Area.CHUBU: "中部電力パワーグリッド",
    Area.HOKURIKU: "北陸電力送配電",
    Area.KANSAI: "関西電力送配電",
    Area.CHUGOKU: "中国電力ネットワーク",
    Area.SHIKOKU: "四国電力送配電",
    Area.KYUSHU: "九州電力送配電",
    Area.OKINAWA: "沖縄電力",
}
