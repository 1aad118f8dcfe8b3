"""Pools of Japanese names with their katakana readings, built once and combined per record.

Persons come from Faker's ja_JP name pairs (kanji, katakana, romaji) plus a few common 関西 surnames; the
pools are read straight from Faker's data so building them costs nothing and does not depend on Faker's
random state. Corporate names are invented from a stem and a trade.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from faker.providers.person.ja_JP import Provider as JapanesePersonProvider

from shadan.services.synthetic.places import CORPORATE_STEMS, CORPORATE_TRADES, EXTRA_SURNAMES

FULLWIDTH_SPACE = "\u3000"  # how Japanese registers separate family and given name


@dataclass(frozen=True, slots=True)
class Name:
    kanji: str
    kana: str


@dataclass(frozen=True, slots=True)
class NamePools:
    surnames: tuple[tuple[str, str], ...]
    given_names: tuple[tuple[str, str], ...]

    def person(self, rng: random.Random) -> Name:
        family, family_kana = rng.choice(self.surnames)
        given, given_kana = rng.choice(self.given_names)
        return Name(f"{family}{FULLWIDTH_SPACE}{given}", f"{family_kana}{FULLWIDTH_SPACE}{given_kana}")


@cache
def name_pools() -> NamePools:
    faker_surnames = tuple((kanji, kana) for kanji, kana, _romaji in JapanesePersonProvider.last_name_pairs)
    known = {kanji for kanji, _ in faker_surnames}
    surnames = faker_surnames + tuple(pair for pair in EXTRA_SURNAMES if pair[0] not in known)
    given = tuple(
        (kanji, kana)
        for kanji, kana, _romaji in (
            *JapanesePersonProvider.first_name_male_pairs,
            *JapanesePersonProvider.first_name_female_pairs,
        )
    )
    return NamePools(surnames=surnames, given_names=given)


def corporation(rng: random.Random, solar: bool = False) -> Name:
    """An invented company: 株式会社 before or after the name, as both forms are common."""
    stem, stem_kana = rng.choice(CORPORATE_STEMS)
    if solar:
        return Name(f"{stem}ソーラー合同会社", f"{stem_kana}ソーラーゴウドウガイシャ")
    trade, trade_kana = rng.choice(CORPORATE_TRADES)
    if rng.random() < 0.5:
        return Name(f"株式会社{stem}{trade}", f"カブシキガイシャ{stem_kana}{trade_kana}")
    return Name(f"{stem}{trade}株式会社", f"{stem_kana}{trade_kana}カブシキガイシャ")
