"""Identity, sessions and login throttling on the unit of work's connection (SQLite and PostgreSQL).

Every write that two app servers could race on is a single conditional statement (the counter increment,
the TOTP step claim, the revocation), so the database, not a process, decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shadan.domain.identity import Account, AccountKind, AccountStatus, Company, Employment, Person
from shadan.domain.vocabulary import Area, CompanyKind
from shadan.services.ports import SessionSnapshot
from shadan.store.tables import (
    account_roles,
    accounts,
    companies,
    employments,
    login_throttle,
    persons,
    sessions,
)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything shadan stores is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _utc_required(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


class SqlIdentityRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    # Companies and persons.
    def get_company(self, company_id: str) -> Company | None:
        row = self._c.execute(select(companies).where(companies.c.company_id == company_id)).first()
        return None if row is None else _company(row)

    def upsert_company(self, company: Company) -> None:
        values = {
            "name": company.name,
            "kind": str(company.kind),
            "area": None if company.area is None else str(company.area),
            "retailer_code": company.retailer_code,
        }
        done = self._c.execute(
            update(companies).where(companies.c.company_id == company.company_id).values(**values)
        )
        if done.rowcount == 0:
            self._c.execute(insert(companies).values(company_id=company.company_id, **values))

    def get_person(self, person_id: str) -> Person | None:
        row = self._c.execute(select(persons).where(persons.c.person_id == person_id)).first()
        return None if row is None else Person(row.person_id, row.employee_no, row.name)

    def get_person_by_employee_no(self, employee_no: str) -> Person | None:
        row = self._c.execute(select(persons).where(persons.c.employee_no == employee_no)).first()
        return None if row is None else Person(row.person_id, row.employee_no, row.name)

    def upsert_person(self, person: Person) -> None:
        values = {"employee_no": person.employee_no, "name": person.name}
        done = self._c.execute(
            update(persons).where(persons.c.person_id == person.person_id).values(**values)
        )
        if done.rowcount == 0:
            self._c.execute(insert(persons).values(person_id=person.person_id, **values))

    # Employment history.
    def employment_history(self, person_id: str) -> list[Employment]:
        query = (
            select(employments)
            .where(employments.c.person_id == person_id)
            .order_by(employments.c.valid_from, employments.c.employment_id)
        )
        return [_employment(r) for r in self._c.execute(query)]

    def add_employment(self, employment: Employment) -> None:
        self._c.execute(
            insert(employments).values(
                person_id=employment.person_id,
                company_id=employment.company_id,
                department=employment.department,
                valid_from=employment.valid_from,
                valid_to=employment.valid_to,
            )
        )

    def end_employment(self, person_id: str, day: dt.date) -> None:
        """End, on `day` (exclusive), every employment of the person that started by then and runs past it."""
        self._c.execute(
            update(employments)
            .where(
                employments.c.person_id == person_id,
                employments.c.valid_from <= day,
                or_(employments.c.valid_to.is_(None), employments.c.valid_to > day),
            )
            .values(valid_to=day)
        )

    def current_employment(self, person_id: str, day: dt.date) -> tuple[Employment, Company] | None:
        query = (
            select(
                employments.c.person_id,
                employments.c.company_id,
                employments.c.department,
                employments.c.valid_from,
                employments.c.valid_to,
                companies.c.name,
                companies.c.kind,
                companies.c.area,
                companies.c.retailer_code,
            )
            .select_from(employments)
            .join(companies, companies.c.company_id == employments.c.company_id)
            .where(
                employments.c.person_id == person_id,
                employments.c.valid_from <= day,
                or_(employments.c.valid_to.is_(None), employments.c.valid_to > day),
            )
            .order_by(employments.c.valid_from.desc(), employments.c.employment_id.desc())
            .limit(1)
        )
        row = self._c.execute(query).first()
        return None if row is None else (_employment(row), _company(row))

    # Accounts.
    def get_account(self, account_id: str) -> Account | None:
        row = self._c.execute(select(accounts).where(accounts.c.account_id == account_id)).first()
        if row is None:
            return None
        return _account(row, self._roles([account_id]).get(account_id, frozenset()))

    def accounts_of_person(self, person_id: str) -> list[Account]:
        rows = list(
            self._c.execute(
                select(accounts).where(accounts.c.person_id == person_id).order_by(accounts.c.account_id)
            )
        )
        roles = self._roles([r.account_id for r in rows])
        return [_account(r, roles.get(r.account_id, frozenset())) for r in rows]

    def create_account(self, account: Account, now: dt.datetime) -> None:
        self._c.execute(
            insert(accounts).values(
                account_id=account.account_id, created_at=_utc(now), **_account_values(account)
            )
        )
        self._replace_roles(account.account_id, account.roles)

    def save_account(self, account: Account) -> None:
        done = self._c.execute(
            update(accounts)
            .where(accounts.c.account_id == account.account_id)
            .values(**_account_values(account))
        )
        if done.rowcount == 0:
            # Saving updates an existing account; creation goes through create_account and its checks.
            raise LookupError(f"no account {account.account_id!r} to save")
        self._replace_roles(account.account_id, account.roles)

    def claim_totp_step(self, account_id: str, step: int) -> bool:
        done = self._c.execute(
            update(accounts)
            .where(
                accounts.c.account_id == account_id,
                or_(accounts.c.totp_last_step.is_(None), accounts.c.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return done.rowcount == 1

    def _roles(self, account_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        if not account_ids:
            return {}
        found: dict[str, set[str]] = {}
        query = select(account_roles).where(account_roles.c.account_id.in_(account_ids))
        for row in self._c.execute(query):
            found.setdefault(row.account_id, set()).add(row.role)
        return {k: frozenset(v) for k, v in found.items()}

    def _replace_roles(self, account_id: str, roles: frozenset[str]) -> None:
        current = self._roles([account_id]).get(account_id, frozenset())
        removed, added = current - roles, roles - current
        if removed:
            self._c.execute(
                delete(account_roles).where(
                    account_roles.c.account_id == account_id, account_roles.c.role.in_(sorted(removed))
                )
            )
        if added:
            self._c.execute(
                insert(account_roles), [{"account_id": account_id, "role": r} for r in sorted(added)]
            )


def _company(row: Any) -> Company:
    return Company(
        company_id=row.company_id,
        name=row.name,
        kind=CompanyKind(row.kind),
        area=None if row.area is None else Area(row.area),
        retailer_code=row.retailer_code,
    )


def _employment(row: Any) -> Employment:
    return Employment(row.person_id, row.company_id, row.department, row.valid_from, row.valid_to)


def _account(row: Any, roles: frozenset[str]) -> Account:
    return Account(
        account_id=row.account_id,
        kind=AccountKind(row.kind),
        person_id=row.person_id,
        roles=roles,
        status=AccountStatus(row.status),
        password_hash=row.password_hash,
        totp_secret=row.totp_secret,
        failed_logins=row.failed_logins,
        locked_until=_aware(row.locked_until),
        password_changed_at=_aware(row.password_changed_at),
    )


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "kind": str(account.kind),
        "person_id": account.person_id,
        "status": str(account.status),
        "password_hash": account.password_hash,
        "totp_secret": account.totp_secret,
        "failed_logins": account.failed_logins,
        "locked_until": _utc(account.locked_until),
        "password_changed_at": _utc(account.password_changed_at),
    }


@dataclass(slots=True)
class StoredSession:
    token_hash: str
    account_id: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    mfa_verified: bool
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    source_ip: str


_ACCOUNT_COLUMNS = (
    "account_id",
    "kind",
    "person_id",
    "status",
    "password_hash",
    "totp_secret",
    "failed_logins",
    "locked_until",
    "password_changed_at",
)


def _session_lookup() -> Select[Any]:
    """Session + account + roles + current employment + company: one statement, built once.

    One row per role of the account (a row with role NULL when it has none); the employment in force on
    :day is picked by a correlated subquery, so the join adds no rows.
    """
    current = employments.alias("current_employment")
    in_force = (
        select(current.c.employment_id)
        .where(
            current.c.person_id == accounts.c.person_id,
            current.c.valid_from <= bindparam("day"),
            or_(current.c.valid_to.is_(None), current.c.valid_to > bindparam("day")),
        )
        .order_by(current.c.valid_from.desc(), current.c.employment_id.desc())
        .limit(1)
        .correlate(accounts)
        .scalar_subquery()
    )
    return (
        select(
            sessions.c.token_hash,
            sessions.c.created_at.label("session_created_at"),
            sessions.c.last_seen_at,
            sessions.c.mfa_verified,
            sessions.c.revoked_at,
            sessions.c.revoked_reason,
            sessions.c.source_ip,
            *(accounts.c[name] for name in _ACCOUNT_COLUMNS),
            account_roles.c.role,
            employments.c.company_id,
            employments.c.department,
            employments.c.valid_from,
            employments.c.valid_to,
            companies.c.company_id.label("employer_id"),
            companies.c.name.label("company_name"),
            companies.c.kind.label("company_kind"),
            companies.c.area,
            companies.c.retailer_code,
        )
        .select_from(sessions)
        .join(accounts, accounts.c.account_id == sessions.c.account_id)
        .outerjoin(account_roles, account_roles.c.account_id == accounts.c.account_id)
        .outerjoin(employments, employments.c.employment_id == in_force)
        .outerjoin(companies, companies.c.company_id == employments.c.company_id)
        .where(sessions.c.token_hash == bindparam("token_hash"))
    )


_SESSION_LOOKUP = _session_lookup()


class SqlSessionRepository:
    """Sessions live in the database so every app server behind the load balancer sees the same ones."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def lookup(self, token_hash: str, day: dt.date) -> SessionSnapshot | None:
        rows = self._c.execute(_SESSION_LOOKUP, {"token_hash": token_hash, "day": day}).all()
        if not rows:
            return None
        row = rows[0]
        roles = frozenset(r.role for r in rows if r.role is not None)
        return SessionSnapshot(session=_session(row), account=_account(row, roles), employer=_employer(row))

    def create(self, token_hash: str, account_id: str, now: dt.datetime, source_ip: str) -> None:
        self._c.execute(
            insert(sessions).values(
                token_hash=token_hash,
                account_id=account_id,
                created_at=_utc(now),
                last_seen_at=_utc(now),
                mfa_verified=False,
                source_ip=source_ip[:64],
            )
        )

    def get(self, token_hash: str) -> StoredSession | None:
        row = self._c.execute(
            select(sessions, sessions.c.created_at.label("session_created_at")).where(
                sessions.c.token_hash == token_hash
            )
        ).first()
        return None if row is None else _session(row)

    def touch(self, token_hash: str, now: dt.datetime) -> None:
        # Never move last_seen backwards when two servers touch the same session concurrently.
        self._c.execute(
            update(sessions)
            .where(sessions.c.token_hash == token_hash, sessions.c.last_seen_at < _utc(now))
            .values(last_seen_at=_utc(now))
        )

    def mark_mfa_verified(self, token_hash: str) -> None:
        self._c.execute(
            update(sessions)
            .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
            .values(mfa_verified=True)
        )

    def revoke(self, token_hash: str, now: dt.datetime, reason: str) -> None:
        self._c.execute(
            update(sessions)
            .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
            .values(revoked_at=_utc(now), revoked_reason=reason[:64])
        )

    def revoke_all_for_accounts(self, account_ids: Sequence[str], now: dt.datetime, reason: str) -> int:
        if not account_ids:
            return 0
        done = self._c.execute(
            update(sessions)
            .where(sessions.c.account_id.in_(list(account_ids)), sessions.c.revoked_at.is_(None))
            .values(revoked_at=_utc(now), revoked_reason=reason[:64])
        )
        return int(done.rowcount)

    def delete_ended_before(self, cutoff: dt.datetime, idle: dt.timedelta, absolute: dt.timedelta) -> int:
        done = self._c.execute(
            delete(sessions).where(
                or_(
                    sessions.c.revoked_at < _utc(cutoff),
                    sessions.c.last_seen_at < _utc(cutoff - idle),
                    sessions.c.created_at < _utc(cutoff - absolute),
                )
            )
        )
        return int(done.rowcount)


def _session(row: Any) -> StoredSession:
    return StoredSession(
        token_hash=row.token_hash,
        account_id=row.account_id,
        created_at=_utc_required(row.session_created_at),
        last_seen_at=_utc_required(row.last_seen_at),
        mfa_verified=bool(row.mfa_verified),
        revoked_at=_aware(row.revoked_at),
        revoked_reason=row.revoked_reason,
        source_ip=row.source_ip,
    )


def _employer(row: Any) -> tuple[Employment, Company] | None:
    if row.employer_id is None:
        return None
    company = Company(
        company_id=row.employer_id,
        name=row.company_name,
        kind=CompanyKind(row.company_kind),
        area=None if row.area is None else Area(row.area),
        retailer_code=row.retailer_code,
    )
    return _employment(row), company


class SqlThrottleRepository:
    """Failure counters per key (account, source address), shared by all app servers."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def failures(self, key: str) -> tuple[int, dt.datetime | None]:
        row = self._c.execute(select(login_throttle).where(login_throttle.c.throttle_key == key)).first()
        if row is None:
            return 0, None
        return int(row.failures), _aware(row.last_failure_at)

    def record_failure(self, key: str, now: dt.datetime) -> int:
        # One atomic upsert: two servers counting the same key concurrently both count.
        values = {"throttle_key": key, "failures": 1, "last_failure_at": _utc(now)}
        bump = {"failures": login_throttle.c.failures + 1, "last_failure_at": _utc(now)}
        keys = [login_throttle.c.throttle_key]
        if self._c.dialect.name == "sqlite":
            lite = sqlite.insert(login_throttle).values(values)
            self._c.execute(lite.on_conflict_do_update(index_elements=keys, set_=bump))
        else:
            pg = postgresql.insert(login_throttle).values(values)
            self._c.execute(pg.on_conflict_do_update(index_elements=keys, set_=bump))
        return self.failures(key)[0]

    def reset(self, key: str) -> None:
        self._c.execute(delete(login_throttle).where(login_throttle.c.throttle_key == key))

    def forget_before(self, key_prefix: str, before: dt.datetime) -> int:
        done = self._c.execute(
            delete(login_throttle).where(
                login_throttle.c.throttle_key.startswith(key_prefix, autoescape=True),
                login_throttle.c.last_failure_at < _utc(before),
            )
        )
        return int(done.rowcount)
