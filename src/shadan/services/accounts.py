"""Account administration: personal and service accounts, passwords, TOTP enrolment, roles, lock state.

Every account belongs to one natural person (a service account to its named owner). A shared ID is
refused, and the refusal itself is logged: the internal-control evaluation counts attempts as well as IDs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shadan.domain.access import Principal
from shadan.domain.errors import AuthenticationFailed, InvalidInput, NotFound, SharedIdRefused
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Account, AccountKind, AccountStatus
from shadan.domain.japan_time import local_day
from shadan.domain.passwords import PasswordRules, check
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import AuditTag, CompanyKind, Outcome, ResourceType
from shadan.services.account_ids import canonical_account_id, refuse_if_shared, validate_account_id
from shadan.services.clock import Clock, utc_now
from shadan.services.credentials import Argon2Hasher, new_totp_secret, provisioning_uri
from shadan.services.identity import (
    IDENTITY_REALM,
    Actor,
    EventFactory,
    IdentityPolicy,
    check_roles,
)
from shadan.services.ports import UnitOfWork, UnitOfWorkFactory
from shadan.services.throttling import Throttle, ThrottleKeys
from shadan.services.totp_sealing import TotpSealer
from shadan.services.transfers import role_change_events

ACCOUNT_NOT_FOUND = "アカウント {account_id} が見つかりません。"
CURRENT_PASSWORD_WRONG = "現在のパスワードが正しくありません。"  # noqa: S105 - a message, not a secret


@dataclass(frozen=True, slots=True)
class NewAccount:
    account_id: str
    person_id: str  # the person; for a service account, its owner
    roles: frozenset[str] = frozenset()
    kind: AccountKind = AccountKind.PERSONAL
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class TotpEnrollment:
    account_id: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)


def password_rules(policy: IdentityPolicy) -> PasswordRules:
    words = policy.context_words | {policy.system_name}
    return PasswordRules(policy.password_min_length, policy.password_max_length, frozenset(words))


class AccountService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: RoleCatalog,
        policy: IdentityPolicy,
        sealer: TotpSealer,
        clock: Clock = utc_now,
        hasher: Argon2Hasher | None = None,
    ) -> None:
        self._uow = uow
        self._catalog = catalog
        self._policy = policy
        self._sealer = sealer
        self._clock = clock
        self._hasher = hasher or Argon2Hasher()
        self._rules = password_rules(policy)
        self._events = EventFactory(policy.system_name)

    def has_totp_secret(self, account_id: str, secret: str) -> bool:
        """Whether the account's sealed TOTP secret is `secret` (the demo checks its logins still work)."""
        account = self.get(account_id)
        return account is not None and self._sealer.holds(account.account_id, account.totp_secret, secret)

    def get(self, account_id: str) -> Account | None:
        with self._uow(IDENTITY_REALM) as uow:
            return uow.identity.get_account(canonical_account_id(account_id))

    def password_problems(self, account_id: str, password: str) -> list[str]:
        """The rules a candidate password breaks, for a form to show before submitting."""
        try:
            check(password, canonical_account_id(account_id), self._rules)
        except InvalidInput as exc:
            return [exc.message]
        return []

    # Creation.
    def create(self, new: NewAccount, actor: Actor) -> Account:
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            try:
                account = self._new_account(uow, new, now)
            except SharedIdRefused as exc:
                # Log the refused attempt before the error leaves (fail closed: no log, no refusal either).
                why = {"reason": exc.message, "person_id": new.person_id, "kind": str(new.kind)}
                uow.log.append(
                    [self._event(now, actor, AuditTag.SHARED_ID_REFUSED, new.account_id, why, False)]
                )
                uow.commit()
                raise
            uow.identity.create_account(account, now)
            extra: dict[str, Any] = {
                "person_id": account.person_id,
                "kind": str(account.kind),
                "roles": sorted(account.roles),
            }
            uow.log.append([self._event(now, actor, AuditTag.ACCOUNT_CREATED, account.account_id, extra)])
            uow.commit()
        return account

    def _new_account(self, uow: UnitOfWork, new: NewAccount, now: dt.datetime) -> Account:
        if not new.person_id.strip():
            raise SharedIdRefused(
                "人に紐づかないアカウント（共用ID）は作成できません。本人または所有者を指定してください。"
            )
        if new.kind is AccountKind.EMERGENCY:
            raise InvalidInput("非常災害用アカウントは非常災害の宣言から発行します。")
        account_id = validate_account_id(new.account_id)
        refuse_if_shared(account_id, new.kind)
        self._refuse_taken(uow, account_id, new.person_id)
        kind = self._check_person(uow, new, now)
        check_roles(self._catalog, new.roles, kind)
        password_hash, changed_at = "", None
        if new.password is not None:
            check(new.password, account_id, self._rules)
            password_hash, changed_at = self._hasher.hash(new.password), now
        return Account(
            account_id=account_id,
            kind=new.kind,
            person_id=new.person_id,
            roles=new.roles,
            password_hash=password_hash,
            password_changed_at=changed_at,
        )

    @staticmethod
    def _refuse_taken(uow: UnitOfWork, account_id: str, person_id: str) -> None:
        if uow.identity.get_company(account_id) is not None:
            raise SharedIdRefused("会社IDと同じアカウントIDは共用IDとみなされます。")
        existing = uow.identity.get_account(account_id)
        if existing is not None and existing.person_id != person_id:
            raise SharedIdRefused(
                f"アカウントID {account_id} は別の人に登録済みです（共用IDは作成できません）。"
            )
        if existing is not None:
            raise InvalidInput(f"アカウントID {account_id} は登録済みです。")

    @staticmethod
    def _check_person(uow: UnitOfWork, new: NewAccount, now: dt.datetime) -> CompanyKind:
        """The person exists and is employed today; a person has at most one personal account."""
        if uow.identity.get_person(new.person_id) is None:
            raise NotFound(f"人物 {new.person_id} が登録されていません。")
        employer = uow.identity.current_employment(new.person_id, local_day(now))
        if employer is None:
            raise InvalidInput("在籍中でない人にはアカウントを作成できません。")
        if new.kind is AccountKind.PERSONAL and any(
            a.kind is AccountKind.PERSONAL for a in uow.identity.accounts_of_person(new.person_id)
        ):
            raise InvalidInput("個人アカウントは1人に1つです。既存のアカウントを使ってください。")
        return employer[1].kind

    # Credentials.
    def set_password(self, account_id: str, password: str, actor: Actor) -> None:
        """An administrator sets a password (first issue or reset); the account's sessions end."""
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            check(password, account.account_id, self._rules)
            self._store_password(uow, account, password, now)
            revoked = uow.sessions.revoke_all_for_accounts([account.account_id], now, "password_reset")
            extra = {"by_administrator": True, "sessions_revoked": revoked}
            uow.log.append([self._event(now, actor, AuditTag.PASSWORD_CHANGED, account.account_id, extra)])
            uow.commit()

    def change_own_password(self, principal: Principal, current: str, new: str, source_ip: str = "") -> None:
        """The holder changes their password; the current one is checked and wrong guesses are throttled."""
        now = self._clock()
        actor = Actor.of(principal, source_ip)
        keys = ThrottleKeys.of(principal.account_id, source_ip)
        throttle = Throttle(self._policy)
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, principal.account_id)
            refused = throttle.check(uow.throttle, keys, now).refused
            if refused or not self._hasher.verify(account.password_hash, current):
                if not refused:
                    throttle.record_failure(uow.throttle, keys, now)
                event = self._event(now, actor, AuditTag.PASSWORD_CHANGED, account.account_id, {}, False)
                uow.log.append([event])
                uow.commit()
                raise AuthenticationFailed(CURRENT_PASSWORD_WRONG)
            check(new, account.account_id, self._rules)
            self._store_password(uow, account, new, now)
            uow.log.append([self._event(now, actor, AuditTag.PASSWORD_CHANGED, account.account_id, {})])
            uow.commit()

    def _store_password(self, uow: UnitOfWork, account: Account, password: str, now: dt.datetime) -> None:
        hashed = self._hasher.hash(password)
        uow.identity.save_account(dataclasses.replace(account, password_hash=hashed, password_changed_at=now))

    def enroll_totp(self, account_id: str, actor: Actor) -> TotpEnrollment:
        """A new TOTP secret (re-enrolment replaces the old one, e.g. for a lost phone; sessions end)."""
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            secret = new_totp_secret()
            sealed = self._sealer.seal(account.account_id, secret)
            uow.identity.save_account(dataclasses.replace(account, totp_secret=sealed))
            revoked = uow.sessions.revoke_all_for_accounts([account.account_id], now, "totp_enrolled")
            extra = {"sessions_revoked": revoked}
            uow.log.append([self._event(now, actor, AuditTag.TOTP_ENROLLED, account.account_id, extra)])
            uow.commit()
        uri = provisioning_uri(secret, account.account_id, self._policy.system_name)
        return TotpEnrollment(account.account_id, secret, uri)

    # Status and roles.
    def disable(self, account_id: str, actor: Actor, reason: str = "") -> int:
        """Disable the account and end its sessions at once; returns how many sessions ended."""
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            uow.identity.save_account(dataclasses.replace(account, status=AccountStatus.DISABLED))
            revoked = uow.sessions.revoke_all_for_accounts([account.account_id], now, "disabled")
            extra = {"reason": reason, "sessions_revoked": revoked}
            uow.log.append([self._event(now, actor, AuditTag.ACCOUNT_DISABLED, account.account_id, extra)])
            uow.commit()
        return revoked

    def enable(self, account_id: str, actor: Actor) -> None:
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            uow.identity.save_account(dataclasses.replace(account, status=AccountStatus.ACTIVE))
            uow.log.append([self._event(now, actor, AuditTag.ACCOUNT_ENABLED, account.account_id, {})])
            uow.commit()

    def unlock(self, account_id: str, actor: Actor) -> None:
        """Lift a lockout: the account's lock and its consecutive-failure counter are cleared."""
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            cleared = dataclasses.replace(account, locked_until=None, failed_logins=0)
            uow.identity.save_account(cleared)
            uow.throttle.reset(ThrottleKeys.of(account.account_id, "").account)
            extra = {"failed_logins": account.failed_logins}
            uow.log.append([self._event(now, actor, AuditTag.ACCOUNT_UNLOCKED, account.account_id, extra)])
            uow.commit()

    def set_roles(self, account_id: str, roles: Iterable[str], actor: Actor) -> None:
        wanted = frozenset(roles)
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            account = _require(uow, account_id)
            employer = uow.identity.current_employment(account.person_id, local_day(now))
            if employer is None:
                raise InvalidInput("在籍中でない人にはロールを付与できません。")
            check_roles(self._catalog, wanted, employer[1].kind)
            if wanted == account.roles:
                return
            uow.identity.save_account(dataclasses.replace(account, roles=wanted))
            uow.log.append(role_change_events(self._events, account, wanted, actor, now))
            uow.commit()

    def _event(
        self,
        now: dt.datetime,
        actor: Actor,
        tag: AuditTag,
        account_id: str,
        extra: dict[str, Any],
        allowed: bool = True,
    ) -> AccessEvent:
        outcome = Outcome.ALLOWED if allowed else Outcome.DENIED
        ids = (account_id,)
        return self._events.admin(now, actor, tag, ResourceType.ACCOUNT, ids, outcome, extra)


def _require(uow: UnitOfWork, account_id: str) -> Account:
    account = uow.identity.get_account(canonical_account_id(account_id))
    if account is None:
        raise NotFound(ACCOUNT_NOT_FOUND.format(account_id=account_id))
    return account
