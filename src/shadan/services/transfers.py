"""Transfers (人事異動): a new employment, new rights and the end of every live session, in one transaction.

A transfer that left a session alive would let a person keep yesterday's rights until the session timed
out (the 2021 failure in DESIGN §1), so the employment change, the role change, the session revocation and
the access events commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from shadan.domain.errors import InvalidInput, NotFound
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Account, AccountKind, Employment
from shadan.domain.japan_time import local_day
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.clock import Clock, utc_now
from shadan.services.identity import IDENTITY_REALM, Actor, EventFactory, check_roles
from shadan.services.ports import UnitOfWork, UnitOfWorkFactory

REVOKE_REASON = "transfer"


@dataclass(frozen=True, slots=True)
class TransferOrder:
    person_id: str
    company_id: str
    department: str
    effective: dt.date
    # New roles of the person's personal account(s); None leaves roles alone (the HR master sets them).
    roles: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class TransferResult:
    person_id: str
    from_company_id: str | None
    from_department: str | None
    to_company_id: str
    to_department: str
    effective: dt.date
    sessions_revoked: int
    accounts: tuple[str, ...]


class Transferrer:
    """The transfer itself, inside a caller's unit of work (used by TransferService and the HR master)."""

    def __init__(self, catalog: RoleCatalog, events: EventFactory) -> None:
        self._catalog = catalog
        self._events = events

    def apply(self, uow: UnitOfWork, order: TransferOrder, actor: Actor, now: dt.datetime) -> TransferResult:
        current = self._check(uow, order, now)
        uow.identity.end_employment(order.person_id, order.effective)
        uow.identity.add_employment(
            Employment(order.person_id, order.company_id, order.department, order.effective)
        )
        accounts = uow.identity.accounts_of_person(order.person_id)
        events = self._set_roles(uow, accounts, order.roles, actor, now)
        ids = [a.account_id for a in accounts]
        revoked = uow.sessions.revoke_all_for_accounts(ids, now, REVOKE_REASON)
        result = TransferResult(
            person_id=order.person_id,
            from_company_id=current.company_id if current else None,
            from_department=current.department if current else None,
            to_company_id=order.company_id,
            to_department=order.department,
            effective=order.effective,
            sessions_revoked=revoked,
            accounts=tuple(ids),
        )
        events.append(self._transfer_event(result, order, actor, now))
        uow.log.append(events)
        return result

    def _check(self, uow: UnitOfWork, order: TransferOrder, now: dt.datetime) -> Employment | None:
        if uow.identity.get_person(order.person_id) is None:
            raise NotFound(f"人物 {order.person_id} が登録されていません。")
        company = uow.identity.get_company(order.company_id)
        if company is None:
            raise NotFound(f"会社 {order.company_id} が登録されていません。")
        if not order.department.strip():
            raise InvalidInput("異動先の部署を入力してください。")
        if order.roles is not None:
            check_roles(self._catalog, order.roles, company.kind)
        today = local_day(now)
        if order.effective > today:
            # Rights and sessions change when the transfer is recorded: a future date would be a lie.
            raise InvalidInput("発令日が未来の異動は、発令日当日以降に登録してください。")
        current = uow.identity.current_employment(order.person_id, today)
        if current is not None and order.effective < current[0].valid_from:
            raise InvalidInput("発令日が現在の所属の開始日より前です。")
        return None if current is None else current[0]

    def _set_roles(
        self,
        uow: UnitOfWork,
        accounts: list[Account],
        roles: frozenset[str] | None,
        actor: Actor,
        now: dt.datetime,
    ) -> list[AccessEvent]:
        if roles is None:
            return []
        events: list[AccessEvent] = []
        for account in accounts:
            if account.kind is AccountKind.PERSONAL and account.roles != roles:
                uow.identity.save_account(dataclasses.replace(account, roles=roles))
                events += role_change_events(self._events, account, roles, actor, now)
        return events

    def _transfer_event(
        self, result: TransferResult, order: TransferOrder, actor: Actor, now: dt.datetime
    ) -> AccessEvent:
        extra = {
            "from_company_id": result.from_company_id or "",
            "from_department": result.from_department or "",
            "to_company_id": result.to_company_id,
            "to_department": result.to_department,
            "effective": result.effective.isoformat(),
            "roles": sorted(order.roles) if order.roles is not None else None,
            "sessions_revoked": result.sessions_revoked,
            "accounts": list(result.accounts),
        }
        ids = (order.person_id,)
        return self._events.admin(
            now, actor, AuditTag.PERSON_TRANSFERRED, ResourceType.PERSON, ids, extra=extra
        )


def role_change_events(
    events: EventFactory, account: Account, roles: frozenset[str], actor: Actor, now: dt.datetime
) -> list[AccessEvent]:
    """One event for the roles granted and one for the roles revoked (only those that happened)."""
    found: list[AccessEvent] = []
    changes = ((AuditTag.ROLE_GRANTED, roles - account.roles), (AuditTag.ROLE_REVOKED, account.roles - roles))
    for tag, changed in changes:
        if changed:
            extra = {"roles": sorted(changed), "person_id": account.person_id}
            found.append(
                events.admin(now, actor, tag, ResourceType.ACCOUNT, (account.account_id,), extra=extra)
            )
    return found


class TransferService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: RoleCatalog,
        system_name: str,
        clock: Clock = utc_now,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._transferrer = Transferrer(catalog, EventFactory(system_name))

    def transfer(
        self,
        person_id: str,
        company_id: str,
        department: str,
        effective: dt.date,
        roles: Iterable[str],
        actor: Actor,
    ) -> TransferResult:
        """Change employment and roles and end the person's live sessions, in one commit."""
        order = TransferOrder(person_id, company_id, department.strip(), effective, frozenset(roles))
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            result = self._transferrer.apply(uow, order, actor, now)
            uow.commit()
        return result
