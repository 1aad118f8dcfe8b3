"""Demo logins: passwords and TOTP secrets for a handful of the synthetic staff, issued by AccountService.

The HR master never carries passwords, so the demo issues them the way an information manager would
(`set_password`, `enroll_totp`). They are kept in SHADAN_HOME/demo/logins.json (owner-only) and reused
while the accounts still hold them, so a second `shadan demo` does not invalidate the authenticator
entries made from the first.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

from shadan.domain.identity import Account
from shadan.services.accounts import TotpEnrollment
from shadan.services.identity import Actor
from shadan.services.synthetic.generator import SyntheticOperator
from shadan.services.synthetic.staff import StaffMember

LOGINS_FILE = "logins.json"
PASSWORD_BYTES = 15  # 20 URL-safe characters: above the 15-character minimum, never on a blocklist


class AccountAdmin(Protocol):
    def get(self, account_id: str) -> Account | None: ...

    def set_password(self, account_id: str, password: str, actor: Actor) -> None: ...

    def enroll_totp(self, account_id: str, actor: Actor) -> TotpEnrollment: ...

    def has_totp_secret(self, account_id: str, secret: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class LoginSpec:
    key: str
    label: str  # what the login is for in the demo (Japanese)
    role: str
    company_id: str
    skip: int = 0  # take the n-th matching person (the first clerk looks things up, another is transferred)


LOGIN_SPECS: tuple[LoginSpec, ...] = (
    LoginSpec("clerk", "託送業務担当", "wheeling_clerk", "C06TD"),
    LoginSpec("engineer", "配電・設備担当", "network_engineer", "C06TD"),
    LoginSpec("affiliated", "関係小売（関西電力）社員", "retail_staff", "C06EP"),
    LoginSpec("new_retail", "新電力社員", "retail_staff", "C9101"),
    LoginSpec("info_manager", "情報管理責任者", "info_manager", "C06TD"),
    LoginSpec("auditor", "内部監査", "internal_auditor", "C06TD"),
)
TRANSFEREE_KEY = "transferee"
TRANSFEREE_LABEL = "託送業務担当（異動対象）"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    key: str
    label: str
    account_id: str
    person_id: str
    name: str
    company_name: str
    department: str
    role: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
    totp_uri: str = field(repr=False)
    password_changed_at: str = ""  # as stored by the account service, to tell whether it still holds


def choose_staff(operator: SyntheticOperator, spec: LoginSpec) -> StaffMember:
    matches = [s for s in operator.staff if s.role == spec.role and s.company.company_id == spec.company_id]
    return matches[spec.skip]


def choose_transferee(operator: SyntheticOperator, accounts: AccountAdmin, taken: set[str]) -> StaffMember:
    """The next wheeling clerk still at the T&D: each demo run transfers someone new (earlier ones moved)."""
    for member in operator.staff:
        if member.role != "wheeling_clerk" or member.account_id in taken:
            continue
        account = accounts.get(member.account_id)
        if account is not None and "wheeling_clerk" in account.roles:
            return member
    raise LookupError("no wheeling clerk is left at the T&D to transfer")


def issue_logins(
    operator: SyntheticOperator, accounts: AccountAdmin, directory: Path, actor: Actor
) -> tuple[DemoLogin, ...]:
    kept = _read(directory)
    chosen = [(spec.key, spec.label, choose_staff(operator, spec), spec.role) for spec in LOGIN_SPECS]
    transferee = choose_transferee(operator, accounts, {m.account_id for _, _, m, _ in chosen})
    chosen.append((TRANSFEREE_KEY, TRANSFEREE_LABEL, transferee, "wheeling_clerk"))
    logins = []
    for key, label, member, role in chosen:
        previous = kept.get(member.account_id)
        if previous is not None and _still_valid(previous, accounts):
            logins.append(replace(previous, key=key, label=label))
        else:
            logins.append(_issue(key, label, member, role, accounts, actor))
    _write(directory, logins)
    return tuple(logins)


def _issue(
    key: str, label: str, member: StaffMember, role: str, accounts: AccountAdmin, actor: Actor
) -> DemoLogin:
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    accounts.set_password(member.account_id, password, actor)
    enrollment = accounts.enroll_totp(member.account_id, actor)
    account = accounts.get(member.account_id)
    changed = account.password_changed_at if account else None
    return DemoLogin(
        key=key,
        label=label,
        account_id=member.account_id,
        person_id=member.person_id,
        name=member.name.kanji,
        company_name=member.company.name,
        department=member.department,
        role=role,
        password=password,
        totp_secret=enrollment.secret,
        totp_uri=enrollment.uri,
        password_changed_at=_instant(changed),
    )


def _still_valid(login: DemoLogin, accounts: AccountAdmin) -> bool:
    """The account still has the secret and the password set by the demo (nobody changed them since)."""
    account = accounts.get(login.account_id)
    return (
        account is not None
        and accounts.has_totp_secret(login.account_id, login.totp_secret)
        and _instant(account.password_changed_at) == login.password_changed_at
    )


def _instant(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    # SQLite hands back naive UTC timestamps; PostgreSQL aware ones. Compare them as UTC either way.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat()


def _read(directory: Path) -> dict[str, DemoLogin]:
    try:
        rows = json.loads((directory / LOGINS_FILE).read_text(encoding="utf-8"))
        logins = [DemoLogin(**row) for row in rows]
    except (OSError, ValueError, TypeError):
        return {}
    return {login.account_id: login for login in logins}


def _write(directory: Path, logins: list[DemoLogin]) -> None:
    path = directory / LOGINS_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps([asdict(x) for x in logins], ensure_ascii=False, indent=2), encoding="utf-8")
