"""Password rules (NIST SP 800-63B rev.4): length over composition, blocklist, no account id."""

from __future__ import annotations

import datetime as dt

import pytest

from shadan.domain.errors import WeakPassword
from shadan.domain.passwords import PasswordProblem, PasswordRules, blocklist, check, is_expired, problems

RULES = PasswordRules(context_words=frozenset({"shadan"}))


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "電力会社の窓口で買ったたい焼き",  # any characters, Japanese included
        "my-cat-is-named-mike",
        "alllowercaseandnodigitsatall",  # no composition rules
        "x" * 3 + "ユニコードも数える" + "z" * 3 + "!",
    ],
)
def test_long_uncommon_passwords_are_accepted_without_composition_rules(password: str) -> None:
    assert problems(password, "t.yamada", RULES) == []


def test_length_is_counted_in_code_points_after_nfkc() -> None:
    assert PasswordProblem.TOO_SHORT in problems("短いパスワード", "t.yamada", RULES)
    assert problems("ｆｕｌｌｗｉｄｔｈ-ｐａｓｓｐｈｒａｓｅ", "t.yamada", RULES) == []


def test_sixty_four_characters_are_allowed_and_the_maximum_is_configurable() -> None:
    long = "a long passphrase that keeps going and going until it passes 64 chars"
    assert len(long) > 64
    assert problems(long, "t.yamada", RULES) == []
    assert PasswordProblem.TOO_LONG in problems("z" * 300, "t.yamada", RULES)
    with pytest.raises(ValueError, match="64"):
        PasswordRules(max_length=32)


@pytest.mark.parametrize(
    "password",
    [
        "password12345678",
        "PASSWORD12345678",  # case-insensitive
        "ＰＡＳＳＷＯＲＤ１２３４５６７８",  # full-width from an IME
        "passwordpassword",
        "iloveyou!!2024$$$",
        "kepco2024kepco2024",
        "shadanshadanshadan",  # context word (service name)
        "hunter2hunter2hunter2",
    ],
)
def test_common_passwords_and_their_simple_derivations_are_refused(password: str) -> None:
    assert PasswordProblem.COMMON in problems(password, "t.yamada", RULES)


@pytest.mark.parametrize(
    "password",
    ["1234567890123456", "zxcvbnmasdfghjkl", "sdfertgvbhjuikmnj", "aaaaaaaaaaaaaaab", "abcabcabcabcabca"],
)
def test_repetitions_sequences_and_keyboard_walks_are_refused(password: str) -> None:
    found = problems(password, "t.yamada", RULES)
    assert PasswordProblem.PATTERN in found or PasswordProblem.COMMON in found


def test_a_password_may_not_equal_or_contain_the_account_id() -> None:
    assert PasswordProblem.CONTAINS_ACCOUNT_ID in problems("t.yamada-secret-2024x", "t.yamada", RULES)
    assert PasswordProblem.CONTAINS_ACCOUNT_ID in problems("adamay.t-secret-2024x", "t.yamada", RULES)
    assert PasswordProblem.CONTAINS_ACCOUNT_ID in problems("T.YAMADA-secret-2024x", "t.yamada", RULES)


def test_check_raises_one_japanese_message_per_problem_without_echoing_the_password() -> None:
    with pytest.raises(WeakPassword) as caught:
        check("password", "t.yamada", RULES)
    assert "15文字以上" in caught.value.message
    assert "よく使われる" in caught.value.message
    assert "password" not in caught.value.message


def test_the_blocklist_is_packaged_large_and_normalised() -> None:
    words = blocklist()
    assert len(words) > 19000
    assert {"password", "123456", "qwerty", "denryoku", "shadan"} <= words
    assert all(w == w.casefold() for w in words)


def test_periodic_change_is_off_unless_configured() -> None:
    now = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=400)
    assert not is_expired(old, now, None)
    assert is_expired(old, now, 365)
    assert not is_expired(now - dt.timedelta(days=10), now, 365)
    assert is_expired(None, now, 365)
