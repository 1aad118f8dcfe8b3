"""`shadan load` on the real database: idempotent, all-or-nothing per file, shared IDs refused."""

from __future__ import annotations

import pytest
from identity_support import ADMIN, COMPANIES_CSV, STAFF_CSV, Identity

from shadan.domain.errors import AuthenticationFailed, InvalidInput
from shadan.domain.identity import AccountStatus
from shadan.domain.vocabulary import AuditTag, CompanyKind, Outcome
from shadan.services.hr_master import LoadResult
from shadan.services.hr_master_format import FileKind

HEADER = STAFF_CSV.splitlines()[0]


def _load(identity: Identity, text: str, encoding: str = "utf-8", skip_invalid: bool = False) -> LoadResult:
    return identity.hr.load(text.encode(encoding), ADMIN, skip_invalid=skip_invalid)


def test_first_load_creates_everything(identity: Identity) -> None:
    companies = _load(identity, COMPANIES_CSV)
    assert companies.kind is FileKind.COMPANIES
    assert companies.counts == {"companies_created": 3}
    staff = _load(identity, STAFF_CSV)
    assert staff.kind is FileKind.STAFF
    assert staff.committed
    assert staff.errors == ()
    assert staff.counts == {"persons_created": 4, "employments_added": 4, "accounts_created": 5}
    account = identity.accounts.get("svc-tanaka-report")
    assert account is not None
    assert account.person_id == "p001"  # a service account hangs off its owner
    assert account.password_hash == ""  # the HR master never carries passwords


def test_loading_twice_changes_nothing(identity: Identity) -> None:
    _load(identity, COMPANIES_CSV)
    _load(identity, STAFF_CSV)
    before = identity.snapshot()
    again = [_load(identity, COMPANIES_CSV), _load(identity, STAFF_CSV)]
    assert [r.counts for r in again] == [{}, {}]
    assert all(r.committed and r.changed == 0 for r in again)
    assert identity.snapshot() == before
    summaries = identity.events(detail=str(AuditTag.HR_MASTER_LOADED))
    assert len(summaries) == 4  # every load is itself recorded


def test_cp932_files_from_excel_load(identity: Identity) -> None:
    assert _load(identity, COMPANIES_CSV, "cp932").encoding == "cp932"
    result = _load(identity, STAFF_CSV.replace("\n", "\r\n"), "cp932")
    assert result.committed
    assert result.counts["persons_created"] == 4


def test_bad_rows_are_all_reported_and_nothing_is_written(identity: Identity) -> None:
    _load(identity, COMPANIES_CSV)
    before = identity.snapshot()
    bad = (
        HEADER + "\n"
        "p001,E000001,田中 健,td06,託送業務部,2024-04-01,,k.tanaka,personal,wheeling_clerk,\n"
        "p002,E000002,佐藤 真,td99,情報システム部,2023-10-01,,m.sato,,sysadmin,\n"
        "p003,E000003,渡辺 涼,td06,託送業務部,2024/04/01,,s.watanabe,,wheeling_clerk,\n"
        "p004,E000004,小林 愛,aff06,営業本部,2022-04-01,,a.kobayashi,,wheeling_clerk,\n"
    )
    result = _load(identity, bad)
    assert not result.committed
    assert [(e.line, e.column) for e in result.errors] == [(3, "company_id"), (4, "valid_from"), (5, "roles")]
    assert identity.snapshot() == before
    [summary] = identity.events(detail=str(AuditTag.HR_MASTER_LOADED))[-1:]
    assert summary.outcome is Outcome.DENIED


def test_skip_invalid_loads_the_good_persons_only(identity: Identity) -> None:
    _load(identity, COMPANIES_CSV)
    bad = (
        HEADER
        + "\n"
        + STAFF_CSV.splitlines()[1]
        + "\n"
        + "p002,E000002,佐藤 真,td99,情報システム部,2023-10-01,,m.sato,,sysadmin,\n"
    )
    result = _load(identity, bad, skip_invalid=True)
    assert result.committed
    assert result.rejected_rows == 1
    assert identity.accounts.get("k.tanaka") is not None
    assert identity.accounts.get("m.sato") is None


def test_shared_ids_are_refused_at_import(identity: Identity) -> None:
    _load(identity, COMPANIES_CSV)
    _load(identity, STAFF_CSV)
    before = identity.snapshot()
    shared = (
        HEADER + "\n"
        "p005,E000005,中村 蓮,td06,託送業務部,2025-04-01,,k.tanaka,,wheeling_clerk,\n"  # someone else's id
        "p006,E000006,山本 葵,td06,託送業務部,2025-04-01,,takuso.kyotsu,,wheeling_clerk,\n"  # looks shared
        "p007,E000007,加藤 湊,td06,託送業務部,2025-04-01,,h.kato,,wheeling_clerk,\n"
        "p008,E000008,吉田 凛,td06,託送業務部,2025-04-01,,h.kato,,wheeling_clerk,\n"  # one id, two persons
    )
    result = _load(identity, shared)
    assert not result.committed
    lines = {e.line for e in result.errors if "共用ID" in e.reason}
    assert lines == {2, 3, 4, 5}
    assert identity.snapshot() == before


def test_a_changed_department_is_a_transfer_that_ends_sessions(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    token = identity.login("m.sato")
    moved = STAFF_CSV.replace(
        "p002,E000002,佐藤 真,td06,情報システム部,2023-10-01",
        "p002,E000002,佐藤 真,td06,システム企画部,2025-06-01",
    )
    result = _load(identity, moved)
    assert result.counts == {"transfers": 1, "sessions_revoked": 1}
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token)
    assert identity.auth.authenticate(identity.login("m.sato")).department == "システム企画部"
    assert _load(identity, moved).counts == {}


def test_a_future_transfer_is_refused_until_its_date(
    identity: Identity, totp_secrets: dict[str, str]
) -> None:
    moved = STAFF_CSV.replace(
        "p002,E000002,佐藤 真,td06,情報システム部,2023-10-01",
        "p002,E000002,佐藤 真,td06,システム企画部,2025-07-01",
    )
    result = _load(identity, moved)
    assert not result.committed
    assert [(e.line, e.column) for e in result.errors] == [(4, "valid_from")]


def test_status_and_last_day_cut_access(identity: Identity, totp_secrets: dict[str, str]) -> None:
    token = identity.login("m.sato")
    disabled = STAFF_CSV.replace("m.sato,,sysadmin,", "m.sato,,sysadmin,disabled")
    assert _load(identity, disabled).counts == {"accounts_updated": 1, "sessions_revoked": 1}
    account = identity.accounts.get("m.sato")
    assert account is not None
    assert account.status is AccountStatus.DISABLED
    with pytest.raises(AuthenticationFailed):
        identity.auth.authenticate(token)
    leaving = STAFF_CSV.replace("s.watanabe,,wheeling_clerk,", "s.watanabe,,wheeling_clerk,").replace(
        "p003,E000003,渡辺 涼,td06,託送業務部,2024-04-01,,",
        "p003,E000003,渡辺 涼,td06,託送業務部,2024-04-01,2025-05-31,",
    )
    result = _load(identity, leaving)
    assert result.counts["employments_ended"] == 1
    with pytest.raises(AuthenticationFailed):
        identity.login("s.watanabe")


def test_a_company_kind_cannot_be_changed_by_import(identity: Identity) -> None:
    _load(identity, COMPANIES_CSV)
    result = _load(
        identity,
        COMPANIES_CSV.replace(
            "aff06,関西電力株式会社,affiliated_retail,06,A0601", "aff06,関西電力株式会社,td,06,A0601"
        ),
    )
    assert not result.committed
    assert [(e.line, e.column) for e in result.errors] == [(3, "kind")]
    assert result.errors[0].reason.startswith("会社種別は変更できません")
    assert CompanyKind.AFFILIATED_RETAIL.value in result.errors[0].reason


def test_a_file_that_is_neither_kind_is_refused(identity: Identity) -> None:
    with pytest.raises(InvalidInput):
        _load(identity, "foo,bar\n1,2\n")
