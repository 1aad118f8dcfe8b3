"""Supply addresses (需要場所住所) as switching check 05 compares them (DESIGN §5.3).

After `strict_form`: ヶ/ケ/が/ガ between place-name kanji unified; kanji numerals before a block marker
to digits (一丁目 → 1丁目, 二十三番 → 23番); 丁目/番地/番/号 and every dash form between numbers written as
hyphens, so 一丁目2番地3号 = 1-2-3 = 1丁目2-3; and a prefecture missing on one side accepted when the rest
matches. The building name is a separate column and never compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kanjize import kanji2number

from shadan.domain.japanese import DASHES, Likeness, strict_form

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip

_PREFECTURE_SET = frozenset(PREFECTURES)
_KANJI = r"[々〆\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
# 霞ヶ関, 霞ケ関, 霞が関, 霞ガ関 (and the small ヵ some systems use) are one place.
_GA = re.compile(rf"(?<={_KANJI})[ヶケがガヵ](?={_KANJI})")
# Block markers after a number. 番 alone is a marker only before a digit or at the end, which the
# patterns below check; 一番町 (a town name) keeps its 番 because 町 follows.
_MARKER = r"丁目|番地|番|号|条|線|地割"
# Kanji numerals are converted only before a marker, a dash or a digit, or at the end: 一宮, 八王子,
# 三ケ日 and 千代田 are names, not numbers, and stay as they are.
_KANJI_NUMBER = re.compile(rf"[〇一二三四五六七八九十百千]+(?=(?:{_MARKER})|[{DASHES}0-9]|$)")
_DASH_AFTER_DIGIT = re.compile(rf"(?<=[0-9])[{DASHES}]")
_UNIT_BEFORE_NUMBER = re.compile(r"([0-9]+)(?:丁目|番地の?|番の?|号)(?=[0-9])")
_UNIT_AT_END = re.compile(r"([0-9]+)(?:番地|番|号)$")


@dataclass(frozen=True, slots=True)
class AddressKey:
    """An address split into its prefecture (None when it does not start with one) and the rest."""

    prefecture: str | None
    rest: str

    def matches(self, other: AddressKey) -> bool:
        same_prefecture = (
            self.prefecture == other.prefecture or self.prefecture is None or other.prefecture is None
        )
        return same_prefecture and self.rest == other.rest


def normalise_address(raw: str) -> AddressKey:
    return _key(strict_form(raw))


def compare_addresses(a: str, b: str) -> Likeness:
    if a == b:
        return Likeness.SAME
    strict_a, strict_b = strict_form(a), strict_form(b)
    if strict_a == strict_b:
        return Likeness.SAME
    return Likeness.ALIKE if _key(strict_a).matches(_key(strict_b)) else Likeness.DIFFERENT


def addresses_match(a: str, b: str, *, strict: bool = False) -> bool:
    return compare_addresses(a, b).matches(strict=strict)


@lru_cache(maxsize=65_536)
def _key(text: str) -> AddressKey:
    prefecture = _prefecture_of(text)
    rest = text[len(prefecture) :] if prefecture else text
    return AddressKey(prefecture, fold_blocks(rest))


def _prefecture_of(text: str) -> str | None:
    """Prefecture names are 3 or 4 characters (北海道, 神奈川県): two set lookups, not 47 comparisons."""
    for length in (3, 4):
        if text[:length] in _PREFECTURE_SET:
            return text[:length]
    return None


def fold_blocks(text: str) -> str:
    """The address after its prefecture: ヶ forms, kanji numerals, block markers and dashes unified."""
    text = _GA.sub("ケ", text)
    text = _KANJI_NUMBER.sub(_to_digits, text)
    text = _DASH_AFTER_DIGIT.sub("-", text)
    text = _UNIT_BEFORE_NUMBER.sub(r"\1-", text)
    return _UNIT_AT_END.sub(r"\1", text)


def _to_digits(match: re.Match[str]) -> str:
    try:
        return str(kanji2number(match.group(0)))
    except (ValueError, KeyError, IndexError, TypeError):
        # kanjize refuses malformed numerals (e.g. 十十): keep them, both sides alike.
        return match.group(0)
