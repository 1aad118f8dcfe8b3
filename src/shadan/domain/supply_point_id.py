"""供給地点特定番号: 22 digits, the first two naming the T&D area. No check digit is documented."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shadan.domain.errors import InvalidInput
from shadan.domain.vocabulary import Area

# Separators people type between digit groups: ASCII and Unicode dashes, long-vowel marks, spaces.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー－ｰ_]")
_DIGITS_22 = re.compile(r"[0-9]{22}")


@dataclass(frozen=True, slots=True)
class SupplyPointId:
    value: str

    def __post_init__(self) -> None:
        if not _DIGITS_22.fullmatch(self.value):
            raise InvalidInput("供給地点特定番号は22桁の数字で入力してください。")
        try:
            Area(self.value[:2])
        except ValueError:
            raise InvalidInput("供給地点特定番号の先頭2桁（エリア番号）は01〜10です。") from None

    @property
    def area(self) -> Area:
        return Area(self.value[:2])

    @classmethod
    def parse(cls, raw: str) -> SupplyPointId:
        return cls(canonicalise(raw))

    def __str__(self) -> str:
        return self.value


def canonicalise(raw: str) -> str:
    """Full-width digits to ASCII (NFKC), separators removed; validity is checked by SupplyPointId."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
