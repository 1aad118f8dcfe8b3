"""Login on the real database: success, one answer for every failure, throttling, lockout, expiry."""

from __future__ import annotations

import pytest
from identity_support import ADMIN, PASSWORD, Identity, build_identity, seed
from sqlalchemy import Engine

from shadan.domain.errors import AuthenticationFailed
from shadan.domain.vocabulary import Action, AuditTag, CompanyKind, Outcome
from shadan.services.authentication import LOGIN_FAILED_MESSAGE
from shadan.services.identity import IdentityPolicy

pytestmark = pytest.mark.usefixtures("totp_secrets")


def _refusal(identity: Identity, account_id: str, password: str, ip: str = "192.0.2.10") -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        identity.auth.login(account_id, password, ip)
    return caught.value.message


def test_login_without_second_factor_gives_a_principal(identity: Identity) -> None:
    result = identity.auth.login("m.sato", PASSWORD, "192.0.2.10", "term-01")
    assert result.mfa_required is False
    principal = identity.auth.authenticate(result.session_token)
    assert principal.account_id == "m.sato"
    assert principal.person_id == "p002"
    assert principal.company_kind is CompanyKind.TD
    assert principal.department == "情報システム部"
    assert principal.roles == frozenset({"sysadmin"})
    [event] = identity.events(detail=str(AuditTag.SESSION_STARTED))
    assert event.action is Action.LOGIN
    assert event.company_id == "td06"
    assert event.terminal_id == "term-01"
    assert result.session_token not in repr(event)


def test_account_ids_are_matched_in_canonical_form(identity: Identity) -> None:
    assert identity.auth.login(" Ｍ.Sato ", PASSWORD, "192.0.2.10").session_token


def test_every_failure_gives_the_same_message(identity: Identity) -> None:
    identity.accounts.disable("a.kobayashi", ADMIN)
    messages = {
        _refusal(identity, "nobody.here", PASSWORD),
        _refusal(identity, "m.sato", "Wrong-Passphrase-Entirely-1"),
        _refusal(identity, "a.kobayashi", PASSWORD),  # disabled
    }
    assert messages == {LOGIN_FAILED_MESSAGE}
    reasons = [e.extra["reason"] for e in identity.events(action=Action.LOGIN_FAILED)]
    assert reasons == ["unknown_account", "bad_password", "disabled"]


def test_an_unknown_id_still_pays_for_one_argon2_verification(identity: Identity) -> None:
    before = identity.hasher.dummy_calls
    _refusal(identity, "nobody.here", PASSWORD)
    assert identity.hasher.dummy_calls == before + 1


def test_a_failed_login_logs_no_typed_secret(identity: Identity) -> None:
    _refusal(identity, "Typed-My-Passphrase-Here", PASSWORD)
    [event] = identity.events(action=Action.LOGIN_FAILED)
    assert event.account_id == ""
    assert event.outcome is Outcome.DENIED
    assert "Passphrase" not in repr(event)
    assert len(str(event.extra["typed_id_sha256"])) == 16


def test_delays_grow_after_five_failures_and_success_resets_them(identity: Identity) -> None:
    for _ in range(5):
        _refusal(identity, "m.sato", "Wrong-Passphrase-Entirely-1")
    # The sixth attempt, even with the right password, is refused without looking at it (1 s delay).
    _refusal(identity, "m.sato", PASSWORD)
    assert identity.events(action=Action.LOGIN_FAILED)[-1].extra["reason"] == "throttled"
    identity.clock.advance(seconds=1)
    _refusal(identity, "m.sato", "Wrong-Passphrase-Entirely-1")
    identity.clock.advance(seconds=1)  # now 2 s are needed
    _refusal(identity, "m.sato", PASSWORD)
    identity.clock.advance(seconds=1)
    assert identity.login("m.sato")
    _refusal(identity, "m.sato", "Wrong-Passphrase-Entirely-1")
    assert identity.login("m.sato")  # the counter started again from zero


def test_unknown_ids_are_throttled_exactly_like_known_ones(identity: Identity) -> None:
    for account_id in ("m.sato", "nobody.here"):
        for _ in range(5):
            _refusal(identity, account_id, "Wrong-Passphrase-Entirely-1")
        _refusal(identity, account_id, "Wrong-Passphrase-Entirely-1")
    reasons = [e.extra["reason"] for e in identity.events(action=Action.LOGIN_FAILED)]
    assert reasons[5] == reasons[11] == "throttled"


def test_lockout_at_the_threshold_until_an_administrator_unlocks(engine: Engine) -> None:
    identity = build_identity(engine, IdentityPolicy(system_name="shadan-test", lockout_threshold=8))
    seed(identity)
    for _ in range(8):
        identity.clock.advance(minutes=16)  # past every delay
        _refusal(identity, "m.sato", "Wrong-Passphrase-Entirely-1")
    account = identity.accounts.get("m.sato")
    assert account is not None
    assert account.locked_until is not None
    assert account.failed_logins == 8
    assert len(identity.events(detail=str(AuditTag.ACCOUNT_LOCKED))) == 1
    identity.clock.advance(days=3)
    assert _refusal(identity, "m.sato", PASSWORD) == LOGIN_FAILED_MESSAGE
    identity.accounts.unlock("m.sato", ADMIN)
    assert identity.login("m.sato")


def test_the_lockout_threshold_is_at_most_one_hundred() -> None:
    with pytest.raises(ValueError, match="100"):
        IdentityPolicy(lockout_threshold=101)


def test_one_address_is_throttled_across_accounts(engine: Engine) -> None:
    policy = IdentityPolicy(system_name="shadan-test", ip_free_failures=3, ip_max_delay_seconds=60)
    identity = build_identity(engine, policy)
    seed(identity)
    for account_id in ("x.one", "x.two", "x.three"):
        _refusal(identity, account_id, "Wrong-Passphrase-Entirely-1", ip="198.51.100.7")
    _refusal(identity, "m.sato", PASSWORD, ip="198.51.100.7")
    assert identity.login("m.sato", ip="198.51.100.8")
    identity.clock.advance(seconds=1)
    assert identity.login("m.sato", ip="198.51.100.7")


def test_expired_passwords_are_refused_only_when_the_setting_is_on(engine: Engine) -> None:
    identity = build_identity(engine, IdentityPolicy(system_name="shadan-test", password_max_age_days=90))
    seed(identity)
    assert identity.login("m.sato")
    identity.clock.advance(days=91)
    message = _refusal(identity, "m.sato", PASSWORD)
    assert "有効期限" in message


def test_a_person_without_current_employment_cannot_log_in(identity: Identity) -> None:
    with identity.uow("system") as uow:
        uow.identity.end_employment("p002", identity.clock().date())
        uow.commit()
    assert _refusal(identity, "m.sato", PASSWORD) == LOGIN_FAILED_MESSAGE
