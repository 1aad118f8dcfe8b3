"""A request whose session token is refused leaves an access event (DESIGN §4.3: every failure is an
event): denied, the account when the token names one, and the token only as a prefix of its hash."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import pytest
from identity_support import ADMIN, CATALOG, PASSWORD, START, Identity, build_identity, seed
from sqlalchemy import Engine

from shadan.domain.errors import AuditUnavailable, AuthenticationFailed
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import local_day
from shadan.domain.vocabulary import Action, AuditTag, Outcome, ResourceType
from shadan.services.authentication import AuthService
from shadan.services.identity import IdentityPolicy

IP = "198.51.100.7"


def _refused(identity: Identity, token: str) -> AccessEvent:
    """Authenticate `token`, expect a refusal, return the one refusal event it left."""
    before = len(identity.events(detail=str(AuditTag.LOGIN_REFUSED)))
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token, IP)
    events = identity.events(detail=str(AuditTag.LOGIN_REFUSED))
    assert len(events) == before + 1
    event = events[-1]
    assert (event.action, event.outcome, event.resource_type) == (
        Action.LOGIN_FAILED,
        Outcome.DENIED,
        ResourceType.SESSION,
    )
    assert event.resource_ids == (hashlib.sha256(token.encode()).hexdigest()[:16],)
    assert event.source_ip == IP
    assert token not in repr(event)
    return event


def test_an_unknown_token_is_logged_without_an_account(identity: Identity) -> None:
    event = _refused(identity, secrets.token_urlsafe(32))
    assert (event.account_id, event.person_id, event.company_id) == ("", "", "")
    assert event.extra == {"reason": "session_unknown"}


@pytest.mark.usefixtures("totp_secrets")
def test_a_token_used_after_logout_is_logged_with_its_account(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.auth.logout(token, IP)
    [ended] = identity.events(detail=str(AuditTag.SESSION_ENDED))
    assert (ended.account_id, ended.source_ip) == ("m.sato", IP)  # logout records where it came from
    event = _refused(identity, token)
    assert (event.account_id, event.person_id, event.company_id) == ("m.sato", "p002", "td06")
    assert event.extra == {"reason": "session_revoked"}


@pytest.mark.usefixtures("totp_secrets")
def test_an_expired_token_ends_the_session_and_is_logged(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.clock.advance(minutes=31)
    event = _refused(identity, token)
    assert event.extra == {"reason": "session_expired"}
    [ended] = identity.events(detail=str(AuditTag.SESSION_ENDED))
    assert ended.extra == {"reason": "idle_timeout"}
    # From now on the session is simply ended.
    assert _refused(identity, token).extra == {"reason": "session_revoked"}


def test_a_locked_account_s_live_session_is_refused(engine: Engine) -> None:
    identity = build_identity(engine, IdentityPolicy(system_name="shadan-test", lockout_threshold=3))
    seed(identity)
    token = identity.login("m.sato")
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            identity.auth.login("m.sato", "Wrong-Passphrase-Entirely-1", IP)
    assert _refused(identity, token).extra == {"reason": "locked"}


@pytest.mark.usefixtures("totp_secrets")
def test_a_session_without_a_current_employment_is_refused(identity: Identity) -> None:
    token = identity.login("m.sato")
    with identity.uow("system") as uow:
        uow.identity.end_employment("p002", local_day(START))
        uow.commit()
    assert _refused(identity, token).extra == {"reason": "no_employment"}


@pytest.mark.usefixtures("totp_secrets")
def test_a_disabled_account_s_token_is_refused_as_revoked(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.accounts.disable("m.sato", ADMIN, "退職")
    assert _refused(identity, token).extra == {"reason": "session_revoked"}


@pytest.mark.usefixtures("totp_secrets")
def test_a_live_session_leaves_no_refusal(identity: Identity) -> None:
    token = identity.login("m.sato")
    assert identity.auth.authenticate(token, IP).account_id == "m.sato"
    assert identity.events(detail=str(AuditTag.LOGIN_REFUSED)) == []


class _DownLog:
    def record(self, events: Sequence[AccessEvent]) -> None:
        raise AuditUnavailable("アクセスログを記録できないため、処理を中止しました。")


def test_when_the_refusal_cannot_be_logged_the_request_fails_closed(identity: Identity) -> None:
    auth = AuthService(identity.uow, CATALOG, identity.policy, b"k" * 32, identity.clock, log=_DownLog())
    with pytest.raises(AuditUnavailable):
        auth.authenticate(secrets.token_urlsafe(32), IP)


def test_a_live_session_never_touches_the_refusal_log(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    token = identity.auth.login("m.sato", PASSWORD, IP).session_token
    auth = AuthService(identity.uow, CATALOG, identity.policy, b"k" * 32, identity.clock, log=_DownLog())
    assert auth.authenticate(token, IP).account_id == "m.sato"
