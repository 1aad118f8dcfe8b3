"""Fraud signals (不正の兆候) of switching: the heuristics, their parameters and what a signal says.

The parameters are frozen dataclasses with documented defaults (docs/switching.md, "Fraud signals");
`explain` says in Japanese what each heuristic looks for and what else can cause it, for the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Heuristic(StrEnum):
    VOLUME = "volume"
    UNMATCHED = "unmatched"
    GUESSING = "guessing"
    UTILITIES_INCLUDED = "utilities_included"

    @property
    def label(self) -> str:
        return HEURISTIC_LABELS[self]


HEURISTIC_LABELS: dict[Heuristic, str] = {
    Heuristic.VOLUME: "申込件数が突出している担当者",
    Heuristic.UNMATCHED: "取下げ・期限切れが多い担当者",
    Heuristic.GUESSING: "契約番号・名義の不一致が集中している担当者",
    Heuristic.UTILITIES_INCLUDED: "光熱費込み賃貸物件の可能性",
}


@dataclass(frozen=True, slots=True)
class VolumeRule:
    """(a) An agent's applications in one period against the other agents of the same retailer."""

    min_applications: int = 20  # fewer in the period never flags
    min_peers: int = 3  # other agents of the retailer in the period; fewer cannot make a baseline
    min_score: float = 3.5  # modified z-score: 0.6745 × (count − median) / MAD, MAD at least 1
    min_ratio: float = 3.0  # and at least this many times the peers' median


@dataclass(frozen=True, slots=True)
class UnmatchedRule:
    """(b) Accepted applications that ended withdrawn or expired (never matched), over the range."""

    min_settled: int = 10  # applications that ended (matched, withdrawn or expired); pending ones wait
    min_share: float = 0.3  # withdrawn + expired over ended
    min_lift: float = 1.5  # that share over the retailer's other agents' share, when they have ended ones


@dataclass(frozen=True, slots=True)
class GuessingRule:
    """(c) Rejections listing 02 or 04 (after normalisation), per retailer, over the range."""

    min_rejections: int = 10  # the agent's own 02/04 rejections
    min_share: float = 0.5  # of the retailer's 02/04 rejections
    min_lift: float = 2.0  # that share over the agent's share of the retailer's applications


@dataclass(frozen=True, slots=True)
class UtilitiesIncludedRule:
    """(d) 04 rejections on low-voltage demand points whose registered holder looks like a landlord."""

    min_same_holder: int = 2  # rejected points at one address with the same registered holder


@dataclass(frozen=True, slots=True)
class FraudRules:
    volume: VolumeRule = VolumeRule()
    unmatched: UnmatchedRule = UnmatchedRule()
    guessing: GuessingRule = GuessingRule()
    utilities_included: UtilitiesIncludedRule = UtilitiesIncludedRule()


DEFAULT_RULES = FraudRules()


def explain(heuristic: Heuristic, rules: FraudRules) -> str:
    """What a heuristic looks for, with its parameters, in Japanese (shown beside its signals)."""
    volume, unmatched, guessing = rules.volume, rules.unmatched, rules.guessing
    texts = {
        Heuristic.VOLUME: (
            f"期間ごとに、担当者の廃止取次の件数を同じ小売事業者の他の担当者（{volume.min_peers}名以上）と比べます。"
            f"{volume.min_applications}件以上で、他の担当者の中央値の{volume.min_ratio:g}倍以上、かつ修正zスコア"
            f"（中央値と中央絶対偏差による）が{volume.min_score:g}以上の担当者を示します。"
            "繁忙期の増員や大口の法人案件でも件数は増えます。"
        ),
        Heuristic.UNMATCHED: (
            f"受付された廃止取次のうち結果の出たもの（成立・取下げ・期限切れ）が{unmatched.min_settled}件以上あり、"
            f"その{unmatched.min_share:.0%}以上が取下げまたは期限切れ（スイッチング不成立）で、"
            f"同じ小売事業者の他の担当者の割合の{unmatched.min_lift:g}倍以上の担当者を示します。"
            "本人の申込がないまま手続きをすると、本人が気付いて取り下げられるか、開始申込が揃わずに期限切れになります。"
            "需要家の心変わりや開始申込の事務遅れでも起こります。"
        ),
        Heuristic.GUESSING: (
            "契約番号不一致（02）・名義不一致（04）のエラー（正規化後）が、小売事業者の中で一人の担当者に"
            f"集中している場合に示します（{guessing.min_rejections}件以上、小売事業者の同エラーの"
            f"{guessing.min_share:.0%}以上、かつ申込件数に占める割合の{guessing.min_lift:g}倍以上）。"
            "検針票を見ずに番号や名義を推測して申し込むと、このエラーが重なります。入力に不慣れな新任者でも起こります。"
        ),
        Heuristic.UTILITIES_INCLUDED: (
            "名義不一致（04）となった低圧の需要地点で、登録されている契約名義が法人（株式会社など）であるか、"
            f"同じ住所で名義不一致となった供給地点{rules.utilities_included.min_same_holder}件以上が同じ名義の場合に示します。"
            "光熱費込みの賃貸物件では貸主が契約者のため、入居者の申込は名義不一致になります。不正ではなく、"
            "申込者に賃貸借契約の確認を促すための情報です。法人名義の店舗・事務所や、家族名義の契約でも起こります。"
        ),
    }
    return texts[heuristic]


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    value: int | float | str


@dataclass(frozen=True, slots=True)
class Signal:
    heuristic: Heuristic
    reason: str  # Japanese, with the numbers
    figures: tuple[Figure, ...]
    retailer_code: str = ""
    staff: str = ""  # as first written in the period's applications
    period: str = ""  # the period's name for (a), empty for the whole range
    application_ids: tuple[str, ...] = ()
    supply_point_ids: tuple[str, ...] = ()  # (d) only; empty for viewers who may not see supply points
