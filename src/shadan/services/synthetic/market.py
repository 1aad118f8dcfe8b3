"""The retail market of the synthetic area: the affiliated retailer and invented new retailers.

Each retailer numbers its contracts its own way (digits, letters, hyphens), as real ones do; that variety
is what the 廃止取次 contract-number comparison has to cope with. Shares are rough low-voltage shares of a
large area some years after full liberalisation.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from shadan.domain.registry import Retailer
from shadan.domain.vocabulary import Area


@dataclass(frozen=True, slots=True)
class RetailerProfile:
    retailer: Retailer
    share: float  # of demand points
    contract_format: str  # '#' is a digit, everything else is kept

    def contract_no(self, rng: random.Random) -> str:
        digits = self.contract_format.count("#")
        number = f"{rng.randrange(10**digits):0{digits}d}"
        out, used = [], 0
        for char in self.contract_format:
            if char == "#":
                out.append(number[used])
                used += 1
            else:
                out.append(char)
        return "".join(out)


AFFILIATED_CODE = "RT0601"


def _new(code: str, name: str, share: float, contract_format: str) -> RetailerProfile:
    return RetailerProfile(Retailer(code, name, None), share, contract_format)


# The affiliated retailer of area 06 first, then six new retailers (invented names).
MARKET: tuple[RetailerProfile, ...] = (
    RetailerProfile(Retailer(AFFILIATED_CODE, "関西電力株式会社", Area.KANSAI), 0.78, "##########-###"),
    _new("RT9101", "なにわ電灯株式会社", 0.07, "NE-########"),
    _new("RT9102", "みやこエネルギーサービス株式会社", 0.05, "MY#########"),
    _new("RT9103", "六甲山麓でんき株式会社", 0.04, "###-####-####"),
    _new("RT9104", "あすかグリーン電力株式会社", 0.03, "AG########"),
    _new("RT9105", "湖国ひかり電力合同会社", 0.02, "K-#######"),
    _new("RT9106", "紀州みかん電力株式会社", 0.01, "KM-######-#"),
)


class RetailerPicker:
    """Draws a retailer by share, one draw per point, so a smaller world is a prefix of a larger one."""

    def __init__(self, profiles: tuple[RetailerProfile, ...]) -> None:
        self._profiles = profiles
        self._cumulative = list(accumulate(p.share for p in profiles))

    def pick(self, rng: random.Random) -> RetailerProfile:
        index = bisect(self._cumulative, rng.random() * self._cumulative[-1])
        return self._profiles[min(index, len(self._profiles) - 1)]
