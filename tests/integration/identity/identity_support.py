"""A small operator for the identity tests: companies, staff, a hand-built role catalog, a movable clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from shadan.audit.entry_events import event_from_entry
from shadan.audit.log import access_log_entries
from shadan.domain.events import AccessEvent
from shadan.domain.roles import RoleCatalog, RoleDefinition
from shadan.domain.vocabulary import CompanyKind, InfoCategory
from shadan.services.accounts import AccountService
from shadan.services.authentication import AuthService
from shadan.services.credentials import TEST_ARGON2, Argon2Hasher, totp_code_at
from shadan.services.hr_master import HrMasterService
from shadan.services.identity import Actor, IdentityPolicy
from shadan.services.totp_sealing import TotpSealer
from shadan.services.transfers import TransferService
from shadan.store.tables import account_roles, accounts, companies, employments, persons, sessions
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

PASSWORD = "Nakanoshima-Haisouden-Passphrase-2024"
SECRET_KEY = b"test-secret-key-for-csrf-0123456789"
ADMIN = Actor.operator("hr-admin", terminal_id="test-host")
# 2025-06-02 10:00 JST, a Monday.
START = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)

PUBLIC: frozenset[InfoCategory] = frozenset()
CUSTOMER = frozenset({InfoCategory.SUPPLY_POINT, InfoCategory.LOCATION, InfoCategory.NEW_POWER_CUSTOMER})


def _role(name: str, kinds: set[CompanyKind], categories: frozenset[InfoCategory]) -> RoleDefinition:
    return RoleDefinition(name, name, frozenset(kinds), categories, frozenset())


CATALOG = RoleCatalog(
    roles={
        "wheeling_clerk": _role("wheeling_clerk", {CompanyKind.TD}, CUSTOMER),
        "sysadmin": _role("sysadmin", {CompanyKind.TD}, PUBLIC),
        "info_manager": _role("info_manager", {CompanyKind.TD}, PUBLIC),
        "retail_staff": _role("retail_staff", {CompanyKind.RETAIL, CompanyKind.AFFILIATED_RETAIL}, PUBLIC),
    },
    purposes={},
)

COMPANIES_CSV = """company_id,name,kind,area,retailer_code
td06,関西電力送配電株式会社,td,06,
aff06,関西電力株式会社,affiliated_retail,06,A0601
new01,さくら新電力株式会社,retail,,R1001
"""

STAFF_HEADER = (
    "person_id,employee_no,name,company_id,department,valid_from,last_day,"
    "account_id,account_kind,roles,account_status"
)
STAFF_CSV = f"""{STAFF_HEADER}
p001,E000001,田中 健,td06,託送業務部,2024-04-01,,k.tanaka,personal,wheeling_clerk,
p001,E000001,田中 健,td06,託送業務部,2024-04-01,,svc-tanaka-report,service,sysadmin,
p002,E000002,佐藤 真,td06,情報システム部,2023-10-01,,m.sato,,sysadmin,
p003,E000003,渡辺 涼,td06,託送業務部,2024-04-01,,s.watanabe,,wheeling_clerk,
p004,E000004,小林 愛,aff06,営業本部,2022-04-01,,a.kobayashi,,retail_staff,
"""


class Clock:
    """The services' clock, moved on by the tests."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class CountingHasher(Argon2Hasher):
    """Cheap Argon2 that counts dummy verifications (the unknown-user timing path)."""

    def __init__(self) -> None:
        super().__init__(TEST_ARGON2)
        self.dummy_calls = 0

    def verify_dummy(self, password: str) -> None:
        self.dummy_calls += 1
        super().verify_dummy(password)


@dataclass
class Identity:
    engine: Engine
    uow: SqlUnitOfWorkFactory
    clock: Clock
    hasher: CountingHasher
    policy: IdentityPolicy
    auth: AuthService
    accounts: AccountService
    transfers: TransferService
    hr: HrMasterService

    def events(self, **match: Any) -> list[AccessEvent]:
        """Access events in log order, filtered by attribute values (`detail=...`, `action=...`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(access_log_entries).order_by(access_log_entries.c.seq)).all()
        found = [event_from_entry(int(seq), entry) for seq, entry in rows]
        assert None not in found  # every entry here is one shadan wrote
        return [e for e in found if e and all(getattr(e, k) == v for k, v in match.items())]

    def totp(self, secret: str) -> str:
        """The code an authenticator shows now, after moving to a fresh 30-second step."""
        self.clock.advance(seconds=30)
        return totp_code_at(secret, self.clock())

    def login(self, account_id: str, password: str = PASSWORD, ip: str = "192.0.2.10") -> str:
        result = self.auth.login(account_id, password, ip, "term-01")
        return result.session_token

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every identity row, for 'nothing changed' assertions."""
        tables = (companies, persons, employments, accounts, account_roles, sessions)
        with self.engine.connect() as conn:
            return {
                t.name: sorted(
                    (tuple(str(v) for v in row) for row in conn.execute(select(t))), key=lambda r: r
                )
                for t in tables
            }


def build_identity(
    engine: Engine, policy: IdentityPolicy | None = None, uow_factory: Callable[..., Any] | None = None
) -> Identity:
    clock = Clock()
    hasher = CountingHasher()
    policy = policy or IdentityPolicy(system_name="shadan-test")
    uow = SqlUnitOfWorkFactory(engine)
    factory: Any = uow_factory(uow) if uow_factory else uow
    return Identity(
        engine=engine,
        uow=uow,
        clock=clock,
        hasher=hasher,
        policy=policy,
        auth=AuthService(factory, CATALOG, policy, SECRET_KEY, clock, hasher),
        accounts=AccountService(factory, CATALOG, policy, TotpSealer(SECRET_KEY), clock, hasher),
        transfers=TransferService(factory, CATALOG, policy.system_name, clock),
        hr=HrMasterService(factory, CATALOG, policy.system_name, clock),
    )


def seed(identity: Identity) -> dict[str, str]:
    """Load the HR master, give everyone the test password, enrol TOTP where roles need it.

    Returns the TOTP secret per account id.
    """
    assert identity.hr.load(COMPANIES_CSV.encode(), ADMIN).committed
    assert identity.hr.load(STAFF_CSV.encode(), ADMIN).committed
    secrets: dict[str, str] = {}
    for account_id in ("k.tanaka", "m.sato", "s.watanabe", "a.kobayashi", "svc-tanaka-report"):
        identity.accounts.set_password(account_id, PASSWORD, ADMIN)
    for account_id in ("k.tanaka", "s.watanabe"):
        secrets[account_id] = identity.accounts.enroll_totp(account_id, ADMIN).secret
    return secrets
