"""Companies, natural persons, their employment history and their personal accounts (DESIGN §4.1)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.vocabulary import Area, CompanyKind


class AccountKind(StrEnum):
    PERSONAL = "personal"
    SERVICE = "service"
    EMERGENCY = "emergency"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Company:
    company_id: str
    name: str
    kind: CompanyKind
    area: Area | None = None
    retailer_code: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A natural person. Accounts hang off persons; a shared ID has no person and cannot exist."""

    person_id: str
    employee_no: str
    name: str


@dataclass(frozen=True, slots=True)
class Employment:
    person_id: str
    company_id: str
    department: str
    valid_from: dt.date
    valid_to: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    kind: AccountKind
    person_id: str
    roles: frozenset[str]
    status: AccountStatus = AccountStatus.ACTIVE
    password_hash: str = ""
    totp_secret: str | None = None
    failed_logins: int = 0
    locked_until: dt.datetime | None = None
    password_changed_at: dt.datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.ACTIVE


def current_employment(history: list[Employment], day: dt.date) -> Employment | None:
    """The employment in force on `day`; a person holds at most one at a time."""
    matches = [e for e in history if e.covers(day)]
    return max(matches, key=lambda e: e.valid_from) if matches else None
