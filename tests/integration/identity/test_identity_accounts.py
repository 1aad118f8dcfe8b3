"""Account administration on the real database: personal IDs only, every change logged."""

from __future__ import annotations

import pytest
from identity_support import ADMIN, PASSWORD, Identity
from sqlalchemy import text

from shadan.domain.errors import AuthenticationFailed, InvalidInput, NotFound, SharedIdRefused, WeakPassword
from shadan.domain.identity import AccountKind
from shadan.domain.vocabulary import Action, AuditTag, Outcome
from shadan.services.accounts import NewAccount

pytestmark = pytest.mark.usefixtures("totp_secrets")


def test_a_personal_account_is_created_and_logged(identity: Identity) -> None:
    identity.hr.load(
        (
            "person_id,employee_no,name,company_id,department,valid_from\n"
            "p010,E000010,伊藤 翼,td06,配電部,2025-04-01\n"
        ).encode(),
        ADMIN,
    )
    account = identity.accounts.create(
        NewAccount("Tsubasa.Ito", "p010", frozenset({"wheeling_clerk"}), password=PASSWORD), ADMIN
    )
    assert account.account_id == "tsubasa.ito"
    assert identity.login("tsubasa.ito")
    [created] = [
        e for e in identity.events(detail=str(AuditTag.ACCOUNT_CREATED)) if e.resource_ids == ("tsubasa.ito",)
    ]
    assert created.action is Action.ADMIN
    assert created.extra["roles"] == ["wheeling_clerk"]
    assert PASSWORD not in repr(created)


@pytest.mark.parametrize(
    ("account_id", "person_id"),
    [
        ("kyotsu01", "p002"),  # looks shared
        ("eigyo-team", "p002"),
        ("m.sato2", ""),  # no person
        ("k.tanaka", "p002"),  # already someone else's
        ("td06", "p002"),  # a company id
    ],
)
def test_shared_ids_are_refused_at_creation_and_the_attempt_is_logged(
    identity: Identity, account_id: str, person_id: str
) -> None:
    with pytest.raises(SharedIdRefused):
        identity.accounts.create(NewAccount(account_id, person_id, kind=AccountKind.SERVICE), ADMIN)
    [refused] = identity.events(detail=str(AuditTag.SHARED_ID_REFUSED))
    assert refused.outcome is Outcome.DENIED
    assert identity.accounts.get(account_id) is None or account_id == "k.tanaka"


def test_a_service_account_needs_a_named_owner_and_is_tied_to_them(identity: Identity) -> None:
    account = identity.accounts.create(
        NewAccount("svc-sato-backup", "p002", frozenset({"sysadmin"}), AccountKind.SERVICE), ADMIN
    )
    assert account.person_id == "p002"
    assert account.kind is AccountKind.SERVICE


def test_one_personal_account_per_person(identity: Identity) -> None:
    with pytest.raises(InvalidInput, match="1人に1つ"):
        identity.accounts.create(NewAccount("makoto.sato", "p002"), ADMIN)


def test_unknown_persons_and_misfit_roles_are_refused(identity: Identity) -> None:
    with pytest.raises(NotFound):
        identity.accounts.create(NewAccount("n.obody", "p999"), ADMIN)
    with pytest.raises(InvalidInput, match="付与できない"):
        identity.accounts.set_roles("a.kobayashi", {"wheeling_clerk"}, ADMIN)
    with pytest.raises(InvalidInput, match="未定義"):
        identity.accounts.set_roles("m.sato", {"superuser"}, ADMIN)


def test_weak_passwords_are_refused(identity: Identity) -> None:
    with pytest.raises(WeakPassword):
        identity.accounts.set_password("m.sato", "password12345678", ADMIN)
    with pytest.raises(WeakPassword):
        identity.accounts.set_password("m.sato", "m.sato-is-my-long-password", ADMIN)
    assert identity.accounts.password_problems("m.sato", "short") != []


def test_a_password_reset_ends_the_accounts_sessions(identity: Identity) -> None:
    token = identity.login("m.sato")
    identity.accounts.set_password("m.sato", "Umeda-Sky-Building-Evening-42", ADMIN)
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token)
    assert identity.login("m.sato", "Umeda-Sky-Building-Evening-42")


def test_changing_ones_own_password_needs_the_current_one(identity: Identity) -> None:
    principal = identity.auth.authenticate(identity.login("m.sato"))
    with pytest.raises(AuthenticationFailed):
        identity.accounts.change_own_password(
            principal, "not-the-password-at-all", "Kyoto-Tower-Midnight-2025"
        )
    identity.accounts.change_own_password(principal, PASSWORD, "Kyoto-Tower-Midnight-2025")
    assert identity.login("m.sato", "Kyoto-Tower-Midnight-2025")


def test_totp_enrolment_returns_an_otpauth_uri(identity: Identity) -> None:
    enrollment = identity.accounts.enroll_totp("m.sato", ADMIN)
    assert enrollment.uri.startswith("otpauth://totp/shadan-test:m.sato?secret=")
    assert enrollment.secret not in repr(enrollment)
    [event] = [
        e for e in identity.events(detail=str(AuditTag.TOTP_ENROLLED)) if e.resource_ids == ("m.sato",)
    ]
    assert enrollment.secret not in repr(event)


def test_role_changes_are_logged_as_granted_and_revoked(identity: Identity) -> None:
    identity.accounts.set_roles("m.sato", {"info_manager"}, ADMIN)
    granted = identity.events(detail=str(AuditTag.ROLE_GRANTED), resource_ids=("m.sato",))
    revoked = identity.events(detail=str(AuditTag.ROLE_REVOKED), resource_ids=("m.sato",))
    assert granted[-1].extra["roles"] == ["info_manager"]
    assert revoked[-1].extra["roles"] == ["sysadmin"]


def test_the_totp_secret_is_stored_sealed_and_bound_to_its_account(identity: Identity) -> None:
    enrollment = identity.accounts.enroll_totp("m.sato", ADMIN)
    identity.accounts.enroll_totp("k.tanaka", ADMIN)
    with identity.engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT account_id, totp_secret FROM accounts")).all())
    assert stored["m.sato"].startswith("v1.")
    assert enrollment.secret not in stored["m.sato"]
    assert identity.accounts.has_totp_secret("m.sato", enrollment.secret)
    # A sealed secret copied onto another account opens for nobody there: its second factor is gone.
    with identity.engine.begin() as conn:
        conn.execute(
            text("UPDATE accounts SET totp_secret = :s WHERE account_id = 'k.tanaka'"),
            {"s": stored["m.sato"]},
        )
    assert not identity.accounts.has_totp_secret("k.tanaka", enrollment.secret)
