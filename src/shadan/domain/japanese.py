"""Character-level folding of Japanese text, shared by the name, address and contract-number rules.

Every normaliser starts from `strict_form` (NFKC, all white space removed): that is also the whole of
`--strict` comparison, so two values equal in strict form are equal after any further folding, and the
count of rejections that normalisation avoids (DESIGN §5.3) is exact.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from enum import Enum
from functools import cache
from importlib import resources

import jaconv

# Marks people type for a long vowel or a hyphen. NFKC has already turned － into - and ｰ into ー;
# U+2010…U+2015 (hyphens, dashes, the horizontal bar) and U+2212 (minus) survive NFKC.
DASHES = "-‐‑‒–—―−ー"
LONG_VOWEL = "ー"
_TO_LONG_VOWEL = str.maketrans(dict.fromkeys(DASHES, LONG_VOWEL))
_CONTRACT_NOISE = str.maketrans(dict.fromkeys(DASHES, None))


def strict_form(text: str) -> str:
    """NFKC with all white space removed: today's comparison, and the first step of every other one.

    str.split() splits on exactly the characters str.isspace() accepts (U+3000 included), the same set
    as the white-space class of regular expressions, and is several times faster on short strings."""
    return "".join(unicodedata.normalize("NFKC", text).split())


class Likeness(Enum):
    """How alike two values are: the same in strict form, alike only after normalising, or different."""

    SAME = "same"
    ALIKE = "alike"
    DIFFERENT = "different"

    def matches(self, *, strict: bool) -> bool:
        return self is Likeness.SAME or (self is Likeness.ALIKE and not strict)


def likeness(a: str, b: str, fold: Callable[[str], str]) -> Likeness:
    """Compare in strict form, then with `fold` (a function of the strict form) only when that differs."""
    if a == b:  # the common case: the applicant copied the registered value
        return Likeness.SAME
    strict_a, strict_b = strict_form(a), strict_form(b)
    if strict_a == strict_b:
        return Likeness.SAME
    return Likeness.ALIKE if fold(strict_a) == fold(strict_b) else Likeness.DIFFERENT


def to_katakana(text: str) -> str:
    """Hiragana to katakana (ゔ → ヴ included); everything else unchanged."""
    return str(jaconv.hira2kata(text))


def unify_dashes(text: str) -> str:
    """Every long-vowel or dash mark becomes ー (a name is typed with any of them: ヤマダ－, ｻｰﾋﾞｽ)."""
    return text.translate(_TO_LONG_VOWEL)


def fold_variant_kanji(text: str) -> str:
    """Common variant kanji to one form (髙 → 高, 﨑 → 崎); the table and its sources are in
    domain/data/variant-kanji.tsv."""
    return text.translate(_variant_table())


def contract_numbers_match(a: str, b: str) -> bool:
    return a == b or normalise_contract_no(a) == normalise_contract_no(b)


def normalise_contract_no(raw: str) -> str:
    """Contract numbers compare after NFKC, upper case, without spaces or hyphens (DESIGN §5.3, 02)."""
    return strict_form(raw).upper().translate(_CONTRACT_NOISE)


@cache
def variant_pairs() -> dict[str, str]:
    """variant → standard, as listed in the packaged table."""
    source = resources.files("shadan.domain").joinpath("data/variant-kanji.tsv")
    pairs: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        variant, standard, _source = line.split("\t")
        pairs[variant] = standard
    return pairs


@cache
def _variant_table() -> dict[int, str]:
    return str.maketrans(variant_pairs())
