"""Password rules after NIST SP 800-63B rev.4 §3.1.1.2: length over composition, a blocklist.

What is checked: the length (Unicode code points after NFKC), that the password is not a common or
breached password nor a trivial derivation of one (case-insensitive), that it is not a repetition, a
keyboard walk or a sequence, and that it does not contain the account id. What is not: character classes
("one upper case, one digit ..."), which NIST forbids because they push people to predictable patterns.

The blocklist is a packaged text file (domain/data/common-passwords.txt, sources in its header); it is read
once, lazily, and kept in memory as a set.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from shadan.domain.errors import WeakPassword

# NIST: verifiers SHALL allow at least 64 characters. The cap bounds the hashing work per attempt.
MAX_LENGTH_FLOOR = 64
DEFAULT_MAX_LENGTH = 256
DEFAULT_MIN_LENGTH = 15
# Shorter account ids match inside too many ordinary passwords to be worth refusing on containment.
ACCOUNT_ID_MIN_CONTAINED = 3
# A walk may jump between keys now and then (1qaz2wsx has a jump every 4 keys); one in five still counts.
WALK_JUMP_RATIO = 5
FEW_DISTINCT_CHARACTERS = 3
SHORT_REPEATED_UNIT = 4

_KEYBOARD_ROWS = ("1234567890-^\\", "qwertyuiop@[", "asdfghjkl;:]", "zxcvbnm,./\\")
_NOT_LETTERS = re.compile(r"[^a-z]+")


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    PATTERN = "pattern"
    CONTAINS_ACCOUNT_ID = "contains_account_id"


@dataclass(frozen=True, slots=True)
class PasswordRules:
    min_length: int = DEFAULT_MIN_LENGTH
    max_length: int = DEFAULT_MAX_LENGTH
    # Context-specific words (service and company names) treated like blocklist entries.
    context_words: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.max_length < MAX_LENGTH_FLOOR or self.min_length > self.max_length:
            raise ValueError("password max length must be at least 64 and above the min length")


def normalise(password: str) -> str:
    """NFKC, as NIST asks before hashing, so full- and half-width input from a Japanese IME match."""
    return unicodedata.normalize("NFKC", password)


def problems(password: str, account_id: str, rules: PasswordRules) -> list[PasswordProblem]:
    """Every rule the password breaks, in a stable order (empty when acceptable)."""
    text = normalise(password)
    found: list[PasswordProblem] = []
    if len(text) < rules.min_length:
        found.append(PasswordProblem.TOO_SHORT)
    if len(text) > rules.max_length:
        found.append(PasswordProblem.TOO_LONG)
    folded = text.casefold()
    weak = _weak_words(rules.context_words)
    if _is_common(folded, weak):
        found.append(PasswordProblem.COMMON)
    elif _is_pattern(folded):
        found.append(PasswordProblem.PATTERN)
    if _contains_account_id(folded, account_id):
        found.append(PasswordProblem.CONTAINS_ACCOUNT_ID)
    return found


def check(password: str, account_id: str, rules: PasswordRules) -> None:
    """Raise WeakPassword naming every broken rule in Japanese; the password itself is never echoed."""
    found = problems(password, account_id, rules)
    if found:
        raise WeakPassword(" ".join(_message(p, rules) for p in found))


def is_expired(changed_at: dt.datetime | None, now: dt.datetime, max_age_days: int | None) -> bool:
    """Periodic change is off unless configured (NIST advises against it; the seed asks for it)."""
    if max_age_days is None:
        return False
    if changed_at is None:
        return True
    return now - changed_at > dt.timedelta(days=max_age_days)


def _message(problem: PasswordProblem, rules: PasswordRules) -> str:
    messages = {
        PasswordProblem.TOO_SHORT: f"パスワードは{rules.min_length}文字以上にしてください。",
        PasswordProblem.TOO_LONG: f"パスワードは{rules.max_length}文字以下にしてください。",
        PasswordProblem.COMMON: (
            "よく使われる、または漏えいが知られているパスワード（またはその簡単な変形）は使用できません。"
        ),
        PasswordProblem.PATTERN: "同じ文字の繰り返し、キーボードの並び、連続した文字の並びは使用できません。",
        PasswordProblem.CONTAINS_ACCOUNT_ID: "アカウントIDを含むパスワードは使用できません。",
    }
    return messages[problem]


@cache
def blocklist() -> frozenset[str]:
    source = resources.files("shadan.domain").joinpath("data/common-passwords.txt")
    lines = source.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _weak_words(context_words: Iterable[str]) -> frozenset[str]:
    extra = {normalise(w).casefold() for w in context_words if w}
    return blocklist() | extra if extra else blocklist()


def _is_common(folded: str, weak: frozenset[str]) -> bool:
    """The password, its letters alone, or its repeated unit is a listed password or context word."""
    candidates = {folded, folded.strip("0123456789!@#$%^&*()-_=+.?~ ")}
    if folded.isascii():
        # "pa55-word-2024" style: a listed word with digits and symbols sprinkled in. Only for ASCII
        # input, where the letters are the word; in Japanese text stray letters are not the point.
        candidates.add(_NOT_LETTERS.sub("", folded))
    candidates |= {_repeated_unit(c) for c in tuple(candidates)}
    return any(c in weak for c in candidates if c)


def _repeated_unit(text: str) -> str:
    """The shortest unit whose repetition makes `text` ("abcabcabc" -> "abc"); `text` itself if none."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _is_pattern(folded: str) -> bool:
    if len(set(folded)) <= FEW_DISTINCT_CHARACTERS:
        return True
    if len(_repeated_unit(folded)) <= SHORT_REPEATED_UNIT < len(folded):
        return True
    jumps = sum(1 for a, b in itertools.pairwise(folded) if not _adjacent(a, b))
    return jumps * WALK_JUMP_RATIO <= len(folded)


def _adjacent(a: str, b: str) -> bool:
    """Same key, next in the alphabet or digits, or touching on a JIS keyboard."""
    if a == b or abs(ord(a) - ord(b)) == 1:
        return True
    pa, pb = _key_position(a), _key_position(b)
    if pa is None or pb is None:
        return False
    return abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


@cache
def _key_position(char: str) -> tuple[int, int] | None:
    for row, keys in enumerate(_KEYBOARD_ROWS):
        col = keys.find(char)
        if col >= 0:
            return row, col
    return None


def _contains_account_id(folded: str, account_id: str) -> bool:
    account = normalise(account_id).casefold().strip()
    if not account:
        return False
    if folded == account:
        return True
    return len(account) >= ACCOUNT_ID_MIN_CONTAINED and (account in folded or account[::-1] in folded)
