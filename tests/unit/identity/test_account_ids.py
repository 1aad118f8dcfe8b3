"""Account ids: canonical form and the shared-ID heuristic (docs/identity.md)."""

from __future__ import annotations

import pytest

from shadan.domain.errors import InvalidInput, SharedIdRefused
from shadan.domain.identity import AccountKind
from shadan.services.account_ids import (
    canonical_account_id,
    refuse_if_shared,
    shared_id_reason,
    validate_account_id,
)


@pytest.mark.parametrize(
    "account_id",
    [
        "kyotsu01",
        "kyoutsuu-eigyo",
        "shared.td",
        "tdshared1",
        "common",
        "kyoyu_02",
        "team-a",
        "group3",
        "dept01",
        "guest",
        "test1",
        "admin",
        "everyone",
        "generic-user",
        "user01",
        "operator3",
        "pc-12",
        "eigyo.1",
        "takuso.madoguchi",
        "共通ID",
        "営業部共用",
        "テスト01",
    ],
)
def test_ids_that_look_shared_are_refused(account_id: str) -> None:
    assert shared_id_reason(account_id) is not None
    with pytest.raises(SharedIdRefused):
        refuse_if_shared(account_id)


@pytest.mark.parametrize(
    "account_id",
    ["t.yamada", "k.tanaka", "123456", "e0012345", "steam.kobayashi", "allen.k", "hanako.sato", "guo.han"],
)
def test_personal_looking_ids_pass(account_id: str) -> None:
    assert shared_id_reason(account_id) is None


def test_service_accounts_may_name_their_job_but_not_a_group() -> None:
    assert shared_id_reason("svc-batch-reading", AccountKind.SERVICE) is None
    assert shared_id_reason("svc-team-batch", AccountKind.SERVICE) is not None


def test_canonical_form_is_nfkc_trimmed_lower_case() -> None:
    assert canonical_account_id(" Ｔ．Yamada ") == "t.yamada"
    assert validate_account_id("K.Tanaka") == "k.tanaka"


@pytest.mark.parametrize("raw", ["", "ab", "with space", "-leading", "x" * 65, "山田"])
def test_malformed_ids_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidInput):
        validate_account_id(raw)
