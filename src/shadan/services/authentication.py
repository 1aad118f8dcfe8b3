"""Login, TOTP, sessions and CSRF tokens (DESIGN §4.1). The web and API layers use only `AuthService`.

No user enumeration: an unknown id, a wrong password, a disabled or locked account and a throttled attempt
all raise the same AuthenticationFailed with the same message, and an unknown id still pays for one Argon2
verification. The reason is written to the access log only (with the typed id hashed when it names no
account, because people type passwords into the id field).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.access import Principal
from shadan.domain.errors import AuthenticationFailed
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Account, AccountKind, Company, Employment
from shadan.domain.japan_time import local_day
from shadan.domain.passwords import is_expired
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action, AuditTag, Outcome, ResourceType
from shadan.services.account_ids import canonical_account_id
from shadan.services.clock import Clock, utc_now
from shadan.services.credentials import Argon2Hasher, matching_totp_step
from shadan.services.identity import (
    IDENTITY_REALM,
    Actor,
    EventFactory,
    IdentityPolicy,
    effective_roles,
)
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.services.ports import AccessLogSink, SessionRecord, SessionSnapshot, UnitOfWork, UnitOfWorkFactory
from shadan.services.throttling import Throttle, ThrottleKeys
from shadan.services.totp_sealing import TotpSealer

LOGIN_FAILED_MESSAGE = "アカウントIDまたはパスワードが正しくないか、現在ログインできません。"
EXPIRED_LOGIN_MESSAGE = "パスワードの有効期限が切れています。情報管理責任者に再設定を依頼してください。"
MFA_FAILED_MESSAGE = "確認コードが正しくないか、有効期限が切れています。もう一度入力してください。"
SESSION_INVALID_MESSAGE = "ログインが必要です（セッションが無効か、有効期限が切れています）。"
DEV_BYPASS_CODE = "000000"
# A lockout lasts until an administrator unlocks the account (far future, still printable in JST).
LOCKED_UNTIL_UNLOCKED = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
SESSION_REF_LENGTH = 16


class Refusal(StrEnum):
    """Why an attempt was refused: for the access log only, never for the user."""

    UNKNOWN_ACCOUNT = "unknown_account"
    BAD_PASSWORD = "bad_password"  # noqa: S105 - a reason code, not a secret
    DISABLED = "disabled"
    LOCKED = "locked"
    LOCKED_OUT = "locked_out"  # the consecutive-failure threshold is reached; nothing was checked
    THROTTLED = "throttled"
    NO_EMPLOYMENT = "no_employment"
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105 - a reason code, not a secret
    BAD_CODE = "bad_code"
    REPLAYED_CODE = "replayed_code"
    NOT_ENROLLED = "totp_not_enrolled"
    SESSION_INVALID = "session_invalid"
    # A request's session token refused (the request is logged, its token only as a hash prefix).
    SESSION_UNKNOWN = "session_unknown"
    SESSION_REVOKED = "session_revoked"
    SESSION_EXPIRED = "session_expired"
    MFA_REQUIRED = "mfa_required"


# Refusals that are not a guess at a secret do not count towards throttling and lockout (a session
# token is 256 random bits: nobody guesses one).
_NOT_COUNTED = frozenset(
    {
        Refusal.THROTTLED,
        Refusal.LOCKED_OUT,
        Refusal.PASSWORD_EXPIRED,
        Refusal.SESSION_INVALID,
        Refusal.SESSION_UNKNOWN,
        Refusal.SESSION_REVOKED,
        Refusal.SESSION_EXPIRED,
        Refusal.MFA_REQUIRED,
    }
)


_OK = Outcome.ALLOWED
_NO = Outcome.DENIED


class SessionEnd(StrEnum):
    LOGOUT = "logout"
    IDLE = "idle_timeout"
    ABSOLUTE = "absolute_timeout"
    MFA_TIMEOUT = "mfa_timeout"


@dataclass(frozen=True, slots=True)
class LoginResult:
    session_token: str
    mfa_required: bool


@dataclass(frozen=True, slots=True)
class _Request:
    """One attempt's circumstances: when, from where, and the throttle counters it touches."""

    now: dt.datetime
    source_ip: str
    terminal_id: str
    keys: ThrottleKeys

    def who(self, account: Account | None, company_id: str = "") -> Actor:
        if account is None:
            return Actor("", source_ip=self.source_ip, terminal_id=self.terminal_id)
        return Actor(account.account_id, account.person_id, company_id, self.source_ip, self.terminal_id)


@dataclass(frozen=True, slots=True)
class _Granted:
    account: Account
    employer: tuple[Employment, Company]


@dataclass(frozen=True, slots=True)
class _Refused:
    account: Account | None
    refusal: Refusal


@dataclass(frozen=True, slots=True)
class _Rejected:
    """A request's session refused: why, and the timeout that ended it now (if one did)."""

    refusal: Refusal
    ended: SessionEnd | None = None


def token_hash(session_token: str) -> str:
    """Sessions are stored by SHA-256 of the token: a copy of the table cannot be replayed as cookies."""
    return hashlib.sha256(session_token.encode("utf-8")).hexdigest()


class AuthService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: RoleCatalog,
        policy: IdentityPolicy,
        secret_key: bytes,
        clock: Clock = utc_now,
        hasher: Argon2Hasher | None = None,
        log: AccessLogSink | None = None,
    ) -> None:
        if not secret_key:
            raise ValueError("AuthService needs a secret key for CSRF tokens")
        self._uow = uow
        # Refused requests are logged through the sink (nothing else is written for them).
        self._log = log or UnitOfWorkLogSink(uow)
        self._catalog = catalog
        self._policy = policy
        self._secret_key = secret_key
        self._sealer = TotpSealer(secret_key)
        self._clock = clock
        self._hasher = hasher or Argon2Hasher()
        self._throttle = Throttle(policy)
        self._events = EventFactory(policy.system_name)

    # Login.
    def login(self, account_id: str, password: str, source_ip: str, terminal_id: str = "") -> LoginResult:
        canonical = canonical_account_id(account_id)
        req = _Request(self._clock(), source_ip, terminal_id, ThrottleKeys.of(canonical, source_ip))
        with self._uow(IDENTITY_REALM) as uow:
            outcome = self._check_login(uow, canonical, password, req)
            if isinstance(outcome, _Refused):
                self._refuse_login(uow, outcome, canonical, req)
                uow.commit()
                expired = outcome.refusal is Refusal.PASSWORD_EXPIRED
                raise AuthenticationFailed(EXPIRED_LOGIN_MESSAGE if expired else LOGIN_FAILED_MESSAGE)
            result = self._start_session(uow, outcome, password, req)
            who = req.who(outcome.account, outcome.employer[1].company_id)
            ref = token_hash(result.session_token)[:SESSION_REF_LENGTH]
            extra = {"mfa_required": result.mfa_required}
            uow.log.append(
                [self._events.session(req.now, Action.LOGIN, AuditTag.SESSION_STARTED, who, ref, _OK, extra)]
            )
            uow.commit()
        return result

    def _check_login(
        self, uow: UnitOfWork, canonical: str, password: str, req: _Request
    ) -> _Granted | _Refused:
        account = uow.identity.get_account(canonical) if canonical else None
        verdict = self._throttle.check(uow.throttle, req.keys, req.now)
        if verdict.refused:
            # Refused before the password is looked at: throttling must not become a guessing oracle.
            return _Refused(account, Refusal.LOCKED_OUT if verdict.locked_out else Refusal.THROTTLED)
        if account is None:
            self._hasher.verify_dummy(password)
            return _Refused(None, Refusal.UNKNOWN_ACCOUNT)
        if not self._hasher.verify(account.password_hash, password):
            return _Refused(account, Refusal.BAD_PASSWORD)
        return self._check_standing(uow, account, req.now)

    def _check_standing(self, uow: UnitOfWork, account: Account, now: dt.datetime) -> _Granted | _Refused:
        """After a correct password: the account is usable, the person employed, the password not expired."""
        refusal = _account_refusal(account, now)
        employer = uow.identity.current_employment(account.person_id, local_day(now))
        if refusal is None and employer is None:
            refusal = Refusal.NO_EMPLOYMENT
        if refusal is None and is_expired(
            account.password_changed_at, now, self._policy.password_max_age_days
        ):
            refusal = Refusal.PASSWORD_EXPIRED
        if refusal is not None or employer is None:
            return _Refused(account, refusal or Refusal.NO_EMPLOYMENT)
        return _Granted(account, employer)

    def _refuse_login(self, uow: UnitOfWork, refused: _Refused, canonical: str, req: _Request) -> None:
        extra: dict[str, object] = {"reason": str(refused.refusal)}
        if refused.account is None:
            extra["typed_id_sha256"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        who = req.who(refused.account)
        events = [
            self._events.session(req.now, Action.LOGIN_FAILED, AuditTag.LOGIN_REFUSED, who, "", _NO, extra)
        ]
        events += self._count_failure(uow, refused, req)
        uow.log.append(events)

    def _count_failure(self, uow: UnitOfWork, refused: _Refused, req: _Request) -> list[AccessEvent]:
        """Count a failed guess; at the threshold lock the account and say so in the log."""
        if refused.refusal in _NOT_COUNTED:
            return []
        failures = self._throttle.record_failure(uow.throttle, req.keys, req.now)
        account = refused.account
        if account is None:
            return []
        locking = self._throttle.reaches_lockout(failures) and account.locked_until is None
        locked_until = LOCKED_UNTIL_UNLOCKED if locking else account.locked_until
        uow.identity.save_account(
            dataclasses.replace(account, failed_logins=failures, locked_until=locked_until)
        )
        if not locking:
            return []
        extra = {"consecutive_failures": failures}
        ids = (account.account_id,)
        return [
            self._events.admin(
                req.now, req.who(account), AuditTag.ACCOUNT_LOCKED, ResourceType.ACCOUNT, ids, _NO, extra
            )
        ]

    def _start_session(self, uow: UnitOfWork, granted: _Granted, password: str, req: _Request) -> LoginResult:
        account = granted.account
        token = secrets.token_urlsafe(32)
        uow.sessions.create(token_hash(token), account.account_id, req.now, req.source_ip)
        self._throttle.record_success(uow.throttle, req.keys)
        updated = dataclasses.replace(account, failed_logins=0)
        if self._hasher.needs_rehash(account.password_hash):
            # Parameters were raised since this hash was made: upgrade it while the password is at hand.
            updated = dataclasses.replace(updated, password_hash=self._hasher.hash(password))
        if updated != account:
            uow.identity.save_account(updated)
        roles = effective_roles(self._catalog, account.roles, granted.employer[1].kind)
        return LoginResult(session_token=token, mfa_required=self._catalog.needs_mfa(roles))

    # Second factor.
    def verify_mfa(self, session_token: str, code: str, source_ip: str) -> None:
        hashed = token_hash(session_token)
        now = self._clock()
        with self._uow(IDENTITY_REALM) as uow:
            session = uow.sessions.get(hashed)
            account = uow.identity.get_account(session.account_id) if session else None
            if session is None or account is None or self._session_end(session, now) is not None:
                raise AuthenticationFailed(SESSION_INVALID_MESSAGE)
            req = _Request(now, source_ip, "", ThrottleKeys.of(account.account_id, source_ip))
            if self._mfa_pending_expired(session, now):
                self._end_session(uow, hashed, account, SessionEnd.MFA_TIMEOUT, req)
                uow.commit()
                raise AuthenticationFailed(MFA_FAILED_MESSAGE)
            refusal, bypassed = self._check_code(uow, account, code, req)
            ref = hashed[:SESSION_REF_LENGTH]
            if refusal is not None:
                extra = {"reason": str(refusal)}
                events = [
                    self._events.session(
                        now, Action.LOGIN_FAILED, AuditTag.MFA_FAILED, req.who(account), ref, _NO, extra
                    )
                ]
                events += self._count_failure(uow, _Refused(account, refusal), req)
                uow.log.append(events)
                uow.commit()
                raise AuthenticationFailed(MFA_FAILED_MESSAGE)
            uow.sessions.mark_mfa_verified(hashed)
            self._throttle.record_success(uow.throttle, req.keys)
            extra = {"dev_mfa_bypass": "true"} if bypassed else {}
            uow.log.append(
                [
                    self._events.session(
                        now, Action.LOGIN, AuditTag.MFA_VERIFIED, req.who(account), ref, _OK, extra
                    )
                ]
            )
            uow.commit()

    def _check_code(
        self, uow: UnitOfWork, account: Account, code: str, req: _Request
    ) -> tuple[Refusal | None, bool]:
        """(refusal, whether the development bypass was used)."""
        verdict = self._throttle.check(uow.throttle, req.keys, req.now)
        if verdict.refused:
            return (Refusal.LOCKED_OUT if verdict.locked_out else Refusal.THROTTLED), False
        refusal = _account_refusal(account, req.now)
        if refusal is not None:
            return refusal, False
        if self._policy.dev_mfa_bypass and code.strip() == DEV_BYPASS_CODE:
            return None, True
        secret = self._sealer.open(account.account_id, account.totp_secret)
        return _totp_refusal(uow, account.account_id, secret, code, req.now), False

    # Every request.
    def authenticate(self, session_token: str, source_ip: str = "") -> Principal:
        """The principal of a live session, read in one query; a refused token is logged, then refused."""
        now = self._clock()
        hashed = token_hash(session_token)
        with self._uow(IDENTITY_REALM) as uow:
            found = uow.sessions.lookup(hashed, local_day(now))
            verdict = self._check_session(found, now)
            if isinstance(verdict, Principal):
                if found is not None and self._touch_due(found.session, now):
                    uow.sessions.touch(hashed, now)
                    uow.commit()
                return verdict
            account_id = found.account.account_id if found else ""
            req = _Request(now, source_ip, "", ThrottleKeys.of(account_id, source_ip))
            rejection = self._rejection(found, hashed, verdict, req)
            logged = self._end_expired(uow, found, hashed, verdict, req, rejection)
        if not logged:
            # Nothing else to write: the refusal alone goes to the log (batched with other requests').
            self._log.record([rejection])
        raise AuthenticationFailed(SESSION_INVALID_MESSAGE)

    def _end_expired(
        self,
        uow: UnitOfWork,
        found: SessionSnapshot | None,
        hashed: str,
        rejected: _Rejected,
        req: _Request,
        rejection: AccessEvent,
    ) -> bool:
        """A timeout ends the session now: the end and the refusal commit with the revocation."""
        if found is None or rejected.ended is None:
            return False
        self._end_session(uow, hashed, found.account, rejected.ended, req)
        uow.log.append([rejection])
        uow.commit()
        return True

    def _check_session(self, found: SessionSnapshot | None, now: dt.datetime) -> Principal | _Rejected:
        if found is None:
            return _Rejected(Refusal.SESSION_UNKNOWN)
        if found.session.revoked_at is not None:
            return _Rejected(Refusal.SESSION_REVOKED)
        ended = self._session_end(found.session, now)
        if ended is not None:
            return _Rejected(Refusal.SESSION_EXPIRED, ended)
        return self._principal(found, now)

    def _principal(self, found: SessionSnapshot, now: dt.datetime) -> Principal | _Rejected:
        account = found.account
        refusal = _account_refusal(account, now)
        if refusal is not None:
            return _Rejected(refusal)
        if found.employer is None:
            return _Rejected(Refusal.NO_EMPLOYMENT)
        employment, company = found.employer
        roles = effective_roles(self._catalog, account.roles, company.kind)
        if self._catalog.needs_mfa(roles) and not found.session.mfa_verified:
            return _Rejected(Refusal.MFA_REQUIRED)
        return Principal(
            account_id=account.account_id,
            person_id=account.person_id,
            company_id=company.company_id,
            company_kind=company.kind,
            department=employment.department,
            area=company.area,
            retailer_code=company.retailer_code,
            roles=roles,
            emergency=account.kind is AccountKind.EMERGENCY,
        )

    def _touch_due(self, session: SessionRecord, now: dt.datetime) -> bool:
        """last_seen is written at most every touch_interval_seconds, so most requests only read."""
        return now - session.last_seen_at >= dt.timedelta(seconds=self._policy.touch_interval_seconds)

    def _rejection(
        self, found: SessionSnapshot | None, hashed: str, rejected: _Rejected, req: _Request
    ) -> AccessEvent:
        """A refused session token: who when known, the token only as a prefix of its hash."""
        account = found.account if found else None
        company_id = found.employer[1].company_id if found and found.employer else ""
        extra = {"reason": str(rejected.refusal)}
        return self._events.session(
            req.now,
            Action.LOGIN_FAILED,
            AuditTag.LOGIN_REFUSED,
            req.who(account, company_id),
            hashed[:SESSION_REF_LENGTH],
            _NO,
            extra,
        )

    def _session_end(self, session: SessionRecord, now: dt.datetime) -> SessionEnd | None:
        if session.revoked_at is not None:
            return SessionEnd.LOGOUT
        if now - session.created_at > dt.timedelta(hours=self._policy.session_absolute_hours):
            return SessionEnd.ABSOLUTE
        if now - session.last_seen_at > dt.timedelta(minutes=self._policy.session_idle_minutes):
            return SessionEnd.IDLE
        return None

    def _mfa_pending_expired(self, session: SessionRecord, now: dt.datetime) -> bool:
        """The second factor must follow the password within minutes, not whenever a stolen cookie is used."""
        pending = dt.timedelta(minutes=self._policy.mfa_pending_minutes)
        return not session.mfa_verified and now - session.created_at > pending

    def _end_session(
        self, uow: UnitOfWork, hashed: str, account: Account, reason: SessionEnd, req: _Request
    ) -> None:
        uow.sessions.revoke(hashed, req.now, str(reason))
        ref = hashed[:SESSION_REF_LENGTH]
        extra = {"reason": str(reason)}
        uow.log.append(
            [
                self._events.session(
                    req.now, Action.LOGIN, AuditTag.SESSION_ENDED, req.who(account), ref, _OK, extra
                )
            ]
        )

    def logout(self, session_token: str, source_ip: str = "") -> None:
        now = self._clock()
        hashed = token_hash(session_token)
        with self._uow(IDENTITY_REALM) as uow:
            session = uow.sessions.get(hashed)
            if session is None or session.revoked_at is not None:
                return
            account = uow.identity.get_account(session.account_id)
            if account is None:
                return
            req = _Request(now, source_ip, "", ThrottleKeys.of(account.account_id, source_ip))
            self._end_session(uow, hashed, account, SessionEnd.LOGOUT, req)
            uow.commit()

    # CSRF: a token derived from the session, so nothing extra is stored and every server can check it.
    def csrf_token(self, session_token: str) -> str:
        message = b"csrf:" + token_hash(session_token).encode("ascii")
        return hmac.new(self._secret_key, message, hashlib.sha256).hexdigest()

    def check_csrf(self, session_token: str, token: str) -> bool:
        expected = self.csrf_token(session_token).encode("ascii")
        return hmac.compare_digest(expected, token.encode("utf-8"))


def _account_refusal(account: Account, now: dt.datetime) -> Refusal | None:
    if not account.is_active:
        return Refusal.DISABLED
    if account.locked_until is not None and now < account.locked_until:
        return Refusal.LOCKED
    return None


def _totp_refusal(
    uow: UnitOfWork, account_id: str, secret: str | None, code: str, now: dt.datetime
) -> Refusal | None:
    if secret is None:  # never enrolled, or the sealed secret does not open (services/totp_sealing.py)
        return Refusal.NOT_ENROLLED
    step = matching_totp_step(secret, code, now)
    if step is None:
        return Refusal.BAD_CODE
    # The claim is one conditional UPDATE: of two servers checking the same code at once, one wins.
    if not uow.identity.claim_totp_step(account_id, step):
        return Refusal.REPLAYED_CODE
    return None
