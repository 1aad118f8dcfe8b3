"""Transfers (人事異動): employment, roles and the end of live sessions in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Self

import pytest
from identity_support import ADMIN, PASSWORD, Identity, build_identity, seed
from sqlalchemy import Engine

from shadan.domain.errors import AuditUnavailable, AuthenticationFailed, InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Employment
from shadan.domain.vocabulary import AuditTag, CompanyKind
from shadan.store.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

TODAY = dt.date(2025, 6, 2)


def _clerk_session(identity: Identity, secrets: dict[str, str]) -> str:
    token = identity.auth.login("k.tanaka", PASSWORD, "192.0.2.10").session_token
    identity.auth.verify_mfa(token, identity.totp(secrets["k.tanaka"]), "192.0.2.10")
    assert identity.auth.authenticate(token).company_kind is CompanyKind.TD
    return token


def test_transfer_changes_rights_and_ends_live_sessions(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    token = _clerk_session(identity, totp_secrets)
    result = identity.transfers.transfer("p001", "aff06", "営業本部", TODAY, {"retail_staff"}, ADMIN)
    assert result.sessions_revoked == 1
    assert (result.from_company_id, result.to_company_id) == ("td06", "aff06")
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token)
    principal = identity.auth.authenticate(identity.login("k.tanaka"))
    assert principal.company_kind is CompanyKind.AFFILIATED_RETAIL
    assert principal.roles == frozenset({"retail_staff"})
    assert principal.department == "営業本部"
    [event] = identity.events(detail=str(AuditTag.PERSON_TRANSFERRED))
    assert event.resource_ids == ("p001",)
    assert event.extra["sessions_revoked"] == 1
    assert event.account_id == ADMIN.account_id
    granted = identity.events(detail=str(AuditTag.ROLE_GRANTED))
    assert [e.extra["roles"] for e in granted if e.resource_ids == ("k.tanaka",)][-1] == ["retail_staff"]


class _FailingLog:
    def append(self, events: Sequence[AccessEvent]) -> None:
        if any(e.detail == AuditTag.PERSON_TRANSFERRED for e in events):
            raise AuditUnavailable("アクセスログを記録できないため、処理を中止しました。")


class _UowWithFailingLog:
    def __init__(self, inner: SqlUnitOfWork) -> None:
        self._inner = inner

    def __enter__(self) -> Self:
        self._inner.__enter__()
        for name in ("registry", "identity", "sessions", "throttle", "log_reader"):
            setattr(self, name, getattr(self._inner, name))
        self.log = _FailingLog()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        self._inner.commit()


def _failing_factory(uow: SqlUnitOfWorkFactory) -> Any:
    return lambda realm="td": _UowWithFailingLog(uow(realm))


def test_if_the_log_cannot_be_written_the_transfer_does_not_happen(engine: Engine) -> None:
    identity = build_identity(engine)
    secrets = seed(identity)
    token = _clerk_session(identity, secrets)
    failing = build_identity(engine, uow_factory=_failing_factory)
    failing.clock.now = identity.clock.now
    with pytest.raises(AuditUnavailable):
        failing.transfers.transfer("p001", "aff06", "営業本部", TODAY, {"retail_staff"}, ADMIN)
    assert identity.auth.authenticate(token).company_kind is CompanyKind.TD  # session alive, rights unchanged
    account = identity.accounts.get("k.tanaka")
    assert account is not None
    assert account.roles == frozenset({"wheeling_clerk"})


@pytest.mark.usefixtures("totp_secrets")
def test_future_dated_or_backdated_transfers_are_refused(identity: Identity) -> None:
    with pytest.raises(InvalidInput, match="未来"):
        identity.transfers.transfer("p001", "aff06", "営業本部", TODAY + dt.timedelta(days=1), set(), ADMIN)
    with pytest.raises(InvalidInput, match="開始日より前"):
        identity.transfers.transfer("p001", "aff06", "営業本部", dt.date(2020, 1, 1), set(), ADMIN)


@pytest.mark.usefixtures("totp_secrets")
def test_roles_must_fit_the_new_company(identity: Identity) -> None:
    with pytest.raises(InvalidInput, match="付与できない"):
        identity.transfers.transfer("p001", "aff06", "営業本部", TODAY, {"wheeling_clerk"}, ADMIN)


def test_a_role_that_does_not_fit_the_employer_grants_nothing(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    """Defence in depth: an employment changed without a role change can only lose rights."""
    with identity.uow("system") as uow:
        uow.identity.end_employment("p001", TODAY)
        uow.identity.add_employment(Employment("p001", "aff06", "営業本部", TODAY))
        uow.commit()
    principal = identity.auth.authenticate(identity.login("k.tanaka"))
    assert principal.company_kind is CompanyKind.AFFILIATED_RETAIL
    assert principal.roles == frozenset()
