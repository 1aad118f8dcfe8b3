"""The synthetic operator as the interchange files a user would import (DESIGN §5.1, docs/hr-master.md).

Files are returned as UTF-8 bytes with a BOM, the form Excel opens without garbling Japanese; the caller
decides where they go.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from shadan.domain.identity import Company
from shadan.domain.registry import ReadingDay, Retailer, SupplyPoint
from shadan.services.hr_master_format import (
    COMPANY_OPTIONAL,
    COMPANY_REQUIRED,
    STAFF_OPTIONAL,
    STAFF_REQUIRED,
)
from shadan.services.registry_rows import (
    CALENDAR_COLUMNS,
    RETAILER_COLUMNS,
    SUPPLY_POINT_COLUMNS,
    RegistryFile,
)
from shadan.services.synthetic.generator import SyntheticOperator
from shadan.services.synthetic.staff import StaffMember

UTF8_BOM = "\ufeff"


def to_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def supply_points_csv(points: Iterable[SupplyPoint]) -> bytes:
    return to_csv(
        SUPPLY_POINT_COLUMNS,
        ([_cell(getattr(p, column)) for column in SUPPLY_POINT_COLUMNS] for p in points),
    )


def retailers_csv(retailers: Iterable[Retailer]) -> bytes:
    return to_csv(
        RETAILER_COLUMNS,
        ([r.retailer_code, r.name, r.affiliated_area.value if r.affiliated_area else ""] for r in retailers),
    )


def calendar_csv(days: Iterable[ReadingDay]) -> bytes:
    return to_csv(CALENDAR_COLUMNS, ([d.reading_schedule, d.date.isoformat()] for d in days))


def registry_files(operator: SyntheticOperator) -> dict[RegistryFile, bytes]:
    return {
        RegistryFile.RETAILERS: retailers_csv(operator.retailers),
        RegistryFile.READING_CALENDAR: calendar_csv(operator.reading_days),
        RegistryFile.SUPPLY_POINTS: supply_points_csv(operator.supply_points),
    }


def companies_csv(companies: Iterable[Company]) -> bytes:
    """The HR master's company file (docs/hr-master.md)."""
    return to_csv(
        (*COMPANY_REQUIRED, *COMPANY_OPTIONAL),
        (
            [c.company_id, c.name, c.kind.value, c.area.value if c.area else "", c.retailer_code or ""]
            for c in companies
        ),
    )


def staff_csv(staff: Iterable[StaffMember]) -> bytes:
    """The HR master's staff file: one row per person, each with one personal account."""
    return to_csv((*STAFF_REQUIRED, *STAFF_OPTIONAL), (_staff_row(s) for s in staff))


def _staff_row(member: StaffMember) -> list[str]:
    values = {
        "person_id": member.person_id,
        "employee_no": member.employee_no,
        "name": member.name.kanji,
        "company_id": member.company.company_id,
        "department": member.department,
        "valid_from": member.valid_from.isoformat(),
        "last_day": "",
        "account_id": member.account_id,
        "account_kind": "personal",
        "roles": member.role or "",
        "account_status": "active",
    }
    return [values[column] for column in (*STAFF_REQUIRED, *STAFF_OPTIONAL)]
