"""Contract holder names (契約名義, kana and kanji) as switching check 04 compares them (DESIGN §5.3).

After `strict_form`: hiragana → katakana, long-vowel and dash marks unified, common variant kanji folded,
and the written forms of a company type made alike: 株式会社, (株), ㈱, カブシキガイシャ and the bank-style
ｶ) all become (株).
Nothing else is folded: a different character is a different name (高橋 ≠ 高畑, 斉藤 ≠ 斎藤).
"""

from __future__ import annotations

import re
from functools import lru_cache

from shadan.domain.japanese import (
    Likeness,
    fold_variant_kanji,
    likeness,
    strict_form,
    to_katakana,
    unify_dashes,
)

# Company types: the full word in kanji and in kana (with and without rendaku), the abbreviation in kanji
# and the one-kana abbreviation of bank-transfer (全銀) style. All become the kanji abbreviation in
# parentheses. NFKC has already turned ㈱ and （株） into (株), ｶﾌﾞｼｷｶﾞｲｼｬ into カブシキガイシャ.
_COMPANY_TYPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("株", "カ", ("株式会社", "カブシキガイシャ", "カブシキカイシャ")),
    ("有", "ユ", ("有限会社", "ユウゲンガイシャ", "ユウゲンカイシャ")),
    ("同", "ド", ("合同会社", "ゴウドウガイシャ", "ゴウドウカイシャ")),
    ("資", "シ", ("合資会社", "ゴウシガイシャ", "ゴウシカイシャ")),
    ("名", "メ", ("合名会社", "ゴウメイガイシャ", "ゴウメイカイシャ")),
)
_WORDS: tuple[tuple[str, str], ...] = tuple(
    (word, f"({kanji})") for kanji, kana, words in _COMPANY_TYPES for word in (*words, f"({kana})")
)
_KANA_TO_KANJI = {kana: kanji for kanji, kana, _words in _COMPANY_TYPES}
_KANA_LETTERS = "".join(_KANA_TO_KANJI)
# ｶ) before the name, (ｶ after it: the parenthesis left open towards the name.
_LEADING = re.compile(rf"^([{_KANA_LETTERS}])\)")
_TRAILING = re.compile(rf"\(([{_KANA_LETTERS}])$")


def normalise_name(raw: str) -> str:
    return _normalise_strict(strict_form(raw))


def compare_names(a: str, b: str) -> Likeness:
    return likeness(a, b, _normalise_strict)


def names_match(a: str, b: str, *, strict: bool = False) -> bool:
    """Equal after normalising (or, with `strict`, after NFKC and space removal only)."""
    return compare_names(a, b).matches(strict=strict)


@lru_cache(maxsize=65_536)
def _normalise_strict(text: str) -> str:
    """Folding after strict form; cached because the same names recur across a file of applications."""
    folded = fold_variant_kanji(unify_dashes(to_katakana(text)))
    return _company_forms(folded)


def _company_forms(text: str) -> str:
    for word, abbreviation in _WORDS:
        if word in text:
            text = text.replace(word, abbreviation)
    text = _LEADING.sub(_kanji_abbreviation, text)
    return _TRAILING.sub(_kanji_abbreviation, text)


def _kanji_abbreviation(match: re.Match[str]) -> str:
    return f"({_KANA_TO_KANJI[match.group(1)]})"
