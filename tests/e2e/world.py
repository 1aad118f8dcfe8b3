"""A small synthetic T&D operator (area 06) for the end-to-end tests.

Companies: the T&D of area 06 and of area 03, the affiliated retailer of area 06 and a new retailer.
Staff: one account per role that matters to the firewall, each with TOTP where the role needs it.
Supply points: demand points of both retailers, a generation point, and one point of area 03.

Every customer value is distinctive, so a test can assert that none of a withheld category's values
appears anywhere in a response body.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shadan.bootstrap import build
from shadan.config import Settings
from shadan.domain.identity import Company
from shadan.domain.registry import (
    Retailer,
    SupplyPoint,
    SupplyPointKind,
    SupplyPointStatus,
    Voltage,
)
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.credentials import totp_code_at
from shadan.services.identity import Actor

PASSWORD = "Nakanoshima-Haisouden-Passphrase-2024"
JST = dt.timezone(dt.timedelta(hours=9))
OPERATOR = Actor.operator("e2e-tests")


def make_settings(db_url: str, home: Path) -> Settings:
    return Settings(environment="test", home=home, database_url=db_url, secure_cookies=False)


def build_container(settings: Settings, clock: TestClock) -> Any:
    """The application container exactly as `shadan serve` builds it, on the test clock."""
    return build(settings, clock=clock)


class TestClock:
    """The server's clock in the tests: real time to start with, moved on explicitly.

    TOTP codes are good once per 30-second step, so each second-factor login moves it past a step.
    """

    __test__ = False  # not a test class

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 31) -> None:
        self.now += dt.timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Member:
    key: str
    account_id: str
    person_id: str
    company_id: str
    department: str
    roles: frozenset[str]
    totp_secret: str | None


COMPANIES = (
    Company("td06", "関西電力送配電株式会社", CompanyKind.TD, Area.KANSAI),
    Company("td03", "東京電力パワーグリッド株式会社", CompanyKind.TD, Area.TOKYO),
    Company("aff06", "関西電力株式会社（小売）", CompanyKind.AFFILIATED_RETAIL, Area.KANSAI, "A0601"),
    Company("new01", "さくら新電力株式会社", CompanyKind.RETAIL, None, "R1001"),
    Company("egc", "電力・ガス取引監視等委員会", CompanyKind.REGULATOR, None),
)
RETAILERS = (
    Retailer("A0601", "関西電力株式会社", Area.KANSAI),
    Retailer("R1001", "さくら新電力株式会社", None),
)

# key: (account id, company, department, roles, needs TOTP)
STAFF: dict[str, tuple[str, str, str, frozenset[str], bool]] = {
    "clerk": ("k.tanaka", "td06", "託送業務部 託送契約グループ", frozenset({"wheeling_clerk"}), True),
    "engineer": ("h.suzuki", "td06", "配電部 北大阪配電所", frozenset({"network_engineer"}), True),
    "sysadmin": ("m.sato", "td06", "情報システム部", frozenset({"sysadmin"}), False),
    "clerk03": ("y.ito", "td03", "託送業務部", frozenset({"wheeling_clerk"}), True),
    "affiliated": ("a.kobayashi", "aff06", "営業本部 法人営業部", frozenset({"retail_staff"}), True),
    "retail": ("r.nakamura", "new01", "営業部", frozenset({"retail_staff"}), True),
    "transferee": ("s.watanabe", "td06", "託送業務部 託送契約グループ", frozenset({"wheeling_clerk"}), True),
    "auditor": ("e.yamada", "td06", "内部監査室", frozenset({"internal_auditor"}), True),
    "regulator": ("t.kato", "egc", "ネットワーク事業監視課", frozenset({"regulator"}), False),
}


def _point(supply_point_id: str, **values: Any) -> SupplyPoint:
    defaults: dict[str, Any] = {
        "kind": SupplyPointKind.DEMAND,
        "voltage": Voltage.LOW,
        "status": SupplyPointStatus.ACTIVE,
        "switching_target": True,
        "reading_schedule": "R07",
        "building": "",
    }
    return SupplyPoint(supply_point_id=supply_point_id, **(defaults | values))


POINTS: dict[str, SupplyPoint] = {
    "demand_affiliated": _point(
        "0600001111222233334444",
        retailer_code="A0601",
        contract_no="KC-7788-0001",
        name_kana="ヤマダ タロウ",
        name_kanji="山田 太郎",
        address="大阪府大阪市北区中之島三丁目6番16号",
        building="中之島ダイビル 12階",
        phone="06-6441-8821",
        transformer_id="TR-06-4711",
        feeder_id="FD-KITA-0312",
    ),
    "demand_new": _point(
        "0600001111222233335555",
        retailer_code="R1001",
        contract_no="SK-2024-00917",
        name_kana="スズキ ハナコ",
        name_kanji="鈴木 花子",
        address="京都府京都市下京区烏丸通七条下ル東塩小路町721",
        phone="075-351-2299",
        transformer_id="TR-06-5820",
        feeder_id="FD-SHIMO-0044",
    ),
    "generation": _point(
        "0600001111222233336666",
        kind=SupplyPointKind.GENERATION,
        voltage=Voltage.HIGH,
        retailer_code="R1001",
        contract_no="PP-3300-0042",
        name_kana="カブシキガイシャ サクラハツデン",
        name_kanji="株式会社さくら発電",
        address="兵庫県神戸市中央区港島中町六丁目1番",
        phone="078-302-5511",
        transformer_id="TR-06-9001",
        feeder_id="FD-PORT-0007",
    ),
    "other_area": _point(
        "0300009999888877776666",
        retailer_code="R1001",
        contract_no="TK-5566-0100",
        name_kana="タカハシ ジロウ",
        name_kanji="高橋 次郎",
        address="東京都千代田区丸の内一丁目1番1号",
        phone="03-3211-4455",
        transformer_id="TR-03-1234",
        feeder_id="FD-MARU-0001",
    ),
}

CONTRACT_VALUES = ("retailer_code", "contract_no", "name_kana", "name_kanji", "phone")
EQUIPMENT_VALUES = ("transformer_id", "feeder_id")
LOCATION_VALUES = ("address", "building")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def values_of(point: SupplyPoint, names: tuple[str, ...]) -> list[str]:
    """The distinctive string values of some fields (empty ones cannot be searched for in a body)."""
    return [str(getattr(point, n)) for n in names if str(getattr(point, n))]


@dataclass
class World:
    shadan: Any
    clock: TestClock
    members: dict[str, Member] = field(default_factory=dict)
    points: dict[str, SupplyPoint] = field(default_factory=lambda: dict(POINTS))

    def member(self, key: str) -> Member:
        return self.members[key]

    def totp(self, key: str) -> str:
        """The code the member's authenticator shows now, on a fresh step (codes are good once)."""
        secret = self.members[key].totp_secret
        assert secret is not None, f"{key} has no TOTP"
        self.clock.advance(31)
        return str(totp_code_at(secret, self.clock()))

    def point_id(self, key: str) -> str:
        return self.points[key].supply_point_id

    def login(self, key: str) -> str:
        """A fully authenticated session token, through AuthService (password, then TOTP if needed)."""
        auth = self.shadan.auth
        member = self.members[key]
        result = auth.login(member.account_id, PASSWORD, "127.0.0.1")
        if result.mfa_required:
            auth.verify_mfa(result.session_token, self.totp(key), "127.0.0.1")
        return str(result.session_token)

    def transfer(self, key: str, company_id: str, department: str) -> None:
        """人事異動 through TransferService: to another company from today (JST), with no roles there."""
        member = self.members[key]
        today = self.clock().astimezone(JST).date()
        self.shadan.transfers.transfer(member.person_id, company_id, department, today, (), OPERATOR)


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    return "\n".join(",".join(r) for r in [header, *rows]).encode("utf-8") + b"\n"


def build_world(shadan: Any, clock: TestClock) -> World:
    """Provision as an operator would: the HR master (shadan load), then passwords and TOTP through the
    account service; the registry through its repository (equipment fields are not in the import file)."""
    world = World(shadan=shadan, clock=clock)
    start = (clock().astimezone(JST) - dt.timedelta(days=365)).date().isoformat()
    companies = _csv(
        ("company_id", "name", "kind", "area", "retailer_code"),
        [(c.company_id, c.name, str(c.kind), str(c.area or ""), c.retailer_code or "") for c in COMPANIES],
    )
    staff_rows = [
        (
            f"p{n:04d}",
            f"E{n:06d}",
            f"社員{n}",
            company,
            department,
            start,
            "",
            account_id,
            "personal",
            " ".join(roles),
            "active",
        )
        for n, (account_id, company, department, roles, _mfa) in enumerate(STAFF.values())
    ]
    staff = _csv(
        ("person_id", "employee_no", "name", "company_id", "department", "valid_from", "last_day",
         "account_id", "account_kind", "roles", "account_status"),
        staff_rows,
    )  # fmt: skip
    for data in (companies, staff):
        result = shadan.hr_master.load(data, OPERATOR)
        assert result.rejected_rows == 0, result
    for n, (key, (account_id, company, department, roles, mfa)) in enumerate(STAFF.items()):
        shadan.accounts.set_password(account_id, PASSWORD, OPERATOR)
        secret = shadan.accounts.enroll_totp(account_id, OPERATOR).secret if mfa else None
        world.members[key] = Member(key, account_id, f"p{n:04d}", company, department, roles, secret)
    with shadan.uow("system") as uow:
        uow.registry.upsert_retailers(RETAILERS)
        uow.registry.upsert_supply_points(POINTS.values())
        uow.commit()
    return world


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match is not None, "no CSRF field on the page"
    return match.group(1)


def plant_cookie(client: TestClient, name: str, value: str) -> None:
    """Put a cookie in the test browser as if the server had set it (same jar entry, so it is replaced)."""
    client.cookies.set(name, value, domain="testserver.local", path="/")


def page_login(client: TestClient, world: World, key: str) -> None:
    """Log in through the pages as a person would: login form, then the TOTP form if asked."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "account_id": world.member(key).account_id,
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/login/mfa":
        mfa = client.get("/login/mfa")
        response = client.post(
            "/login/mfa", data={"code": world.totp(key), "csrf_token": csrf_from(mfa.text)}
        )
        assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
