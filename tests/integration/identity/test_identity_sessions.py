"""Sessions on the real database: TOTP (replay refused), timeouts, logout, CSRF, shared between servers."""

from __future__ import annotations

import hashlib

import pytest
from identity_support import ADMIN, PASSWORD, Identity, build_identity, seed
from sqlalchemy import Engine, select

from shadan.domain.errors import AuthenticationFailed
from shadan.domain.vocabulary import Action, AuditTag
from shadan.services.identity import IdentityPolicy
from shadan.store.database import make_engine
from shadan.store.tables import sessions


def _mfa_login(identity: Identity, secrets: dict[str, str], account_id: str = "k.tanaka") -> str:
    result = identity.auth.login(account_id, PASSWORD, "192.0.2.10")
    assert result.mfa_required is True
    identity.auth.verify_mfa(result.session_token, identity.totp(secrets[account_id]), "192.0.2.10")
    return result.session_token


def _refused(identity: Identity, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token)


def test_a_session_needs_the_second_factor_before_it_works(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    result = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10")
    _refused(identity, result.session_token)
    with pytest.raises(AuthenticationFailed):
        identity.auth.verify_mfa(result.session_token, "123456", "192.0.2.10")
    identity.auth.verify_mfa(result.session_token, identity.totp(totp_secrets["k.tanaka"]), "192.0.2.10")
    assert identity.auth.authenticate(result.session_token).roles == frozenset({"wheeling_clerk"})
    tags = [e.detail for e in identity.events(account_id="k.tanaka") if e.action is not Action.ADMIN]
    # The request made before the second factor was refused, and logged as such.
    assert tags == [
        AuditTag.SESSION_STARTED,
        AuditTag.LOGIN_REFUSED,
        AuditTag.MFA_FAILED,
        AuditTag.MFA_VERIFIED,
    ]
    assert identity.events(detail=str(AuditTag.LOGIN_REFUSED))[0].extra == {"reason": "mfa_required"}


def test_a_totp_code_is_good_only_once(identity: Identity, totp_secrets: dict[str, str]) -> None:
    first = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    code = identity.totp(totp_secrets["k.tanaka"])
    identity.auth.verify_mfa(first, code, "192.0.2.10")
    second = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    with pytest.raises(AuthenticationFailed):
        identity.auth.verify_mfa(second, code, "192.0.2.10")
    assert identity.events(detail=str(AuditTag.MFA_FAILED))[-1].extra["reason"] == "replayed_code"
    _refused(identity, second)
    identity.auth.verify_mfa(second, identity.totp(totp_secrets["k.tanaka"]), "192.0.2.10")
    assert identity.auth.authenticate(second).account_id == "k.tanaka"


def test_the_second_factor_must_follow_within_minutes(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    token = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    identity.clock.advance(minutes=6)
    with pytest.raises(AuthenticationFailed):
        identity.auth.verify_mfa(token, identity.totp(totp_secrets["k.tanaka"]), "192.0.2.10")


def test_development_bypass_accepts_000000_and_says_so(engine: Engine) -> None:
    identity = build_identity(engine, IdentityPolicy(system_name="shadan-test", dev_mfa_bypass=True))
    seed(identity)
    token = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    identity.auth.verify_mfa(token, "000000", "192.0.2.10")
    assert identity.auth.authenticate(token).account_id == "k.tanaka"
    [event] = identity.events(detail=str(AuditTag.MFA_VERIFIED))
    assert event.extra == {"dev_mfa_bypass": "true"}


def test_without_the_bypass_000000_is_just_a_wrong_code(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    token = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    with pytest.raises(AuthenticationFailed):
        identity.auth.verify_mfa(token, "000000", "192.0.2.10")


@pytest.mark.usefixtures("totp_secrets")
def test_idle_timeout_ends_the_session(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.clock.advance(minutes=20)
    identity.auth.authenticate(token)  # touches last_seen
    identity.clock.advance(minutes=29)
    identity.auth.authenticate(token)
    identity.clock.advance(minutes=31)
    _refused(identity, token)
    [ended] = identity.events(detail=str(AuditTag.SESSION_ENDED))
    assert ended.extra == {"reason": "idle_timeout"}


@pytest.mark.usefixtures("totp_secrets")
def test_absolute_timeout_ends_even_a_busy_session(identity: Identity) -> None:
    token = identity.login("m.sato")
    for _ in range(29):  # 9 h 40 min of activity every 20 minutes
        identity.clock.advance(minutes=20)
        identity.auth.authenticate(token)
    identity.clock.advance(minutes=21)
    _refused(identity, token)
    assert identity.events(detail=str(AuditTag.SESSION_ENDED))[0].extra == {"reason": "absolute_timeout"}


@pytest.mark.usefixtures("totp_secrets")
def test_last_seen_is_written_at_most_once_a_minute(identity: Identity) -> None:
    token = identity.login("m.sato")
    token_hash = hashlib.sha256(token.encode()).hexdigest()

    def last_seen() -> object:
        with identity.engine.connect() as conn:
            return conn.execute(
                select(sessions.c.last_seen_at).where(sessions.c.token_hash == token_hash)
            ).scalar()

    first = last_seen()
    identity.clock.advance(seconds=30)
    identity.auth.authenticate(token)
    assert last_seen() == first
    identity.clock.advance(seconds=31)
    identity.auth.authenticate(token)
    assert last_seen() != first


@pytest.mark.usefixtures("totp_secrets")
def test_logout_then_reuse_is_refused(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.auth.logout(token)
    _refused(identity, token)
    identity.auth.logout(token)  # a second logout is harmless
    assert [e.extra["reason"] for e in identity.events(detail=str(AuditTag.SESSION_ENDED))] == ["logout"]


@pytest.mark.usefixtures("totp_secrets")
def test_only_the_token_hash_is_stored(identity: Identity) -> None:
    token = identity.login("m.sato")
    with identity.engine.connect() as conn:
        stored = [tuple(str(v) for v in row) for row in conn.execute(select(sessions))]
    assert stored
    assert not any(token in cell for row in stored for cell in row)
    assert stored[0][0] == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.usefixtures("totp_secrets")
def test_csrf_token_is_bound_to_the_session(identity: Identity) -> None:
    one, two = identity.login("m.sato"), identity.login("m.sato")
    token = identity.auth.csrf_token(one)
    assert identity.auth.check_csrf(one, token)
    assert not identity.auth.check_csrf(two, token)
    assert not identity.auth.check_csrf(one, token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1")
    assert not identity.auth.check_csrf(one, "")
    assert not identity.auth.check_csrf(one, "ｘ" * 64)


@pytest.mark.usefixtures("totp_secrets")
def test_a_second_server_sees_the_first_servers_sessions(identity: Identity, db_url: str) -> None:
    token = identity.login("m.sato")
    other_engine = make_engine(db_url)
    try:
        other = build_identity(other_engine)
        other.clock.now = identity.clock.now
        assert other.auth.authenticate(token).account_id == "m.sato"
        other.auth.logout(token)
    finally:
        other_engine.dispose()
    _refused(identity, token)


@pytest.mark.usefixtures("totp_secrets")
def test_disabling_an_account_ends_its_sessions_at_once(identity: Identity) -> None:
    token = identity.login("m.sato")
    assert identity.accounts.disable("m.sato", ADMIN, "退職") == 1
    _refused(identity, token)
