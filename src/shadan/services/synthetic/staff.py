"""Companies and staff of the synthetic area: a few hundred people, each with one personal account.

T&D staff hold the T&D roles; staff of the affiliated retailer and of a new retailer hold only the retail
role, which sees nothing non-public unless the operator opens own-contract reading to every retailer
alike (that is the point of the firewall); a meter-reading contractor and the regulator have one role each.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from shadan.domain.identity import Company
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.synthetic.market import AFFILIATED_CODE, MARKET
from shadan.services.synthetic.names import Name, NamePools

TD_COMPANY = Company("C06TD", "関西電力送配電株式会社", CompanyKind.TD, Area.KANSAI)
AFFILIATED_COMPANY = Company(
    "C06EP", "関西電力株式会社", CompanyKind.AFFILIATED_RETAIL, Area.KANSAI, AFFILIATED_CODE
)
NEW_RETAILER_COMPANY = Company(
    "C9101", MARKET[1].retailer.name, CompanyKind.RETAIL, None, MARKET[1].retailer.retailer_code
)
CONTRACTOR_COMPANY = Company("C06MR", "株式会社きんき検針サービス", CompanyKind.CONTRACTOR, Area.KANSAI)
REGULATOR_COMPANY = Company("CEGC", "電力・ガス取引監視等委員会", CompanyKind.REGULATOR)
COMPANIES: tuple[Company, ...] = (
    TD_COMPANY,
    AFFILIATED_COMPANY,
    NEW_RETAILER_COMPANY,
    CONTRACTOR_COMPANY,
    REGULATOR_COMPANY,
)

BRANCHES = ("大阪北", "大阪南", "京都", "神戸", "奈良", "滋賀", "和歌山", "姫路")


@dataclass(frozen=True, slots=True)
class StaffGroup:
    """A block of similar staff: who employs them, where they sit, which role they hold (if any)."""

    company: Company
    role: str | None
    count: int
    departments: tuple[str, ...]
    prefix: str  # of the employee number; each company numbers its own staff


def _per_branch(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.format(branch=b) for b in BRANCHES)


STAFF_GROUPS: tuple[StaffGroup, ...] = (
    StaffGroup(
        TD_COMPANY,
        "wheeling_clerk",
        110,
        ("託送業務部 託送契約グループ", *_per_branch("{branch}支社 託送サービス課")),
        "T",
    ),
    StaffGroup(TD_COMPANY, "network_engineer", 90, _per_branch("{branch}支社 配電保守課"), "T"),
    StaffGroup(TD_COMPANY, "info_manager", 8, ("コンプライアンス推進室 情報管理グループ",), "T"),
    StaffGroup(TD_COMPANY, "internal_auditor", 10, ("内部監査室",), "T"),
    StaffGroup(TD_COMPANY, "sysadmin", 12, ("情報システム部 基盤運用グループ",), "T"),
    StaffGroup(
        AFFILIATED_COMPANY,
        "retail_staff",
        60,
        ("営業本部 法人営業部", *_per_branch("{branch}お客さまセンター")),
        "K",
    ),
    StaffGroup(NEW_RETAILER_COMPANY, "retail_staff", 20, ("営業部", "お客さまサポート部"), "N"),
    StaffGroup(CONTRACTOR_COMPANY, "contractor", 15, ("検針業務部",), "M"),
    StaffGroup(REGULATOR_COMPANY, "regulator", 3, ("総合監査室",), "G"),
)


@dataclass(frozen=True, slots=True)
class StaffMember:
    person_id: str  # the HR system's key for the person, not the employee number of one company
    employee_no: str
    name: Name
    company: Company
    department: str
    role: str | None
    valid_from: dt.date  # start of the current assignment

    @property
    def account_id(self) -> str:
        # A personal ID is the employee number: one person, one ID, readable in every log line.
        return self.employee_no.lower()


def generate_staff(rng: random.Random, names: NamePools) -> list[StaffMember]:
    staff: list[StaffMember] = []
    numbers: dict[str, int] = {}
    for group in STAFF_GROUPS:
        for _ in range(group.count):
            serial = numbers.get(group.prefix, 0) + 1
            numbers[group.prefix] = serial
            staff.append(
                StaffMember(
                    person_id=f"P{len(staff) + 1:06d}",
                    employee_no=f"{group.prefix}{serial:06d}",
                    name=names.person(rng),
                    company=group.company,
                    department=rng.choice(group.departments),
                    role=group.role,
                    valid_from=_assignment_start(rng),
                )
            )
    return staff


def _assignment_start(rng: random.Random) -> dt.date:
    """Assignments start on 1 April (the fiscal year) or, for mid-year rotations, on 1 October."""
    return dt.date(rng.randint(2012, 2025), rng.choice((4, 4, 4, 10)), 1)
