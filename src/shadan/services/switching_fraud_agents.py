"""Fraud signals about sales agents (the seed's case ①: an agent paid per contract fakes switches).

(a) far more applications in a period than the retailer's other agents, (b) many accepted applications
that end withdrawn or expired instead of matched, (c) the retailer's 02/04 rejections (contract number,
name) concentrated on one agent, as when numbers and names are guessed. An agent is the new retailer's
code with the staff name as normalised for check 04, so 佐藤 太郎 and 佐藤　太郎 are one agent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import NamedTuple

from shadan.domain.business_days import received_date
from shadan.domain.names import normalise_name
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState, StoredApplication
from shadan.services.switching_fraud_signals import (
    Figure,
    GuessingRule,
    Heuristic,
    Signal,
    UnmatchedRule,
    VolumeRule,
)
from shadan.services.switching_periods import DateRange, Period

# Iglewicz and Hoaglin's modified z-score: 0.6745 makes the MAD comparable to a standard deviation.
_MAD_SCALE = 0.6745
_UNMATCHED = frozenset({CaseState.WITHDRAWN, CaseState.EXPIRED})
_SETTLED = _UNMATCHED | {CaseState.MATCHED}
_GUESSED = frozenset({ErrorCode.CONTRACT_NO, ErrorCode.NAME})


class _Agent(NamedTuple):
    """A tuple, so hashing and comparing a few hundred thousand of them stays cheap."""

    retailer_code: str
    staff: str  # normalised


@dataclass
class _Names:
    """The staff name as first written, per agent (the normalised key is not for people to read)."""

    written: dict[_Agent, str] = field(default_factory=dict)

    def agent(self, application: StoredApplication) -> _Agent | None:
        staff = normalise_name(application.new_retailer_staff)
        if not staff:
            return None
        agent = _Agent(application.new_retailer_code, staff)
        self.written.setdefault(agent, application.new_retailer_staff)
        return agent


def volume_signals(
    applications: Sequence[StoredApplication], date_range: DateRange, period: Period, rule: VolumeRule
) -> list[Signal]:
    buckets = date_range.buckets(period)
    names = _Names()
    counts: defaultdict[tuple[int, str], Counter[_Agent]] = defaultdict(Counter)
    for application in applications:
        agent = names.agent(application)
        if agent is not None:
            index = buckets.index_of(received_date(application.received_at))
            counts[index, agent.retailer_code][agent] += 1
    signals = []
    for (index, _retailer), agents in sorted(counts.items()):
        everyone = sorted(agents.values())
        for agent, count in agents.items():
            if count < rule.min_applications or len(everyone) <= rule.min_peers:
                continue
            peers = everyone.copy()
            peers.remove(count)  # the agent's own count, once
            middle = median(peers)
            spread = max(median(abs(c - middle) for c in peers), 1)
            score = _MAD_SCALE * (count - middle) / spread
            if score >= rule.min_score and count >= rule.min_ratio * middle:
                name = buckets.items[index].name
                signals.append(_volume_signal(agent, names.written[agent], name, count, peers, score))
    return signals


def _volume_signal(
    agent: _Agent, staff: str, period: str, count: int, peers: list[int], score: float
) -> Signal:
    middle = median(peers)
    reason = (
        f"{period}の廃止取次が{count}件で、同じ小売事業者の他の担当者{len(peers)}名の中央値{middle:g}件の"
        f"{count / middle:.1f}倍です（修正zスコア {score:.1f}）。"
    )
    figures = (
        Figure("申込件数", count),
        Figure("他の担当者数", len(peers)),
        Figure("他の担当者の中央値", float(middle)),
        Figure("修正zスコア", round(score, 1)),
    )
    return Signal(Heuristic.VOLUME, reason, figures, agent.retailer_code, staff, period)


def unmatched_signals(applications: Sequence[StoredApplication], rule: UnmatchedRule) -> list[Signal]:
    names = _Names()
    ended: defaultdict[_Agent, Counter[CaseState]] = defaultdict(Counter)
    for application in applications:
        agent = names.agent(application)
        if agent is not None and application.state in _SETTLED:
            ended[agent][application.state] += 1
    retailer_ended: Counter[str] = Counter()
    retailer_unmatched: Counter[str] = Counter()
    for agent, states in ended.items():
        retailer_ended[agent.retailer_code] += states.total()
        retailer_unmatched[agent.retailer_code] += sum(states[s] for s in _UNMATCHED)
    signals = []
    for agent, states in sorted(ended.items(), key=lambda item: _sort_key(item[0])):
        settled, unmatched = states.total(), sum(states[s] for s in _UNMATCHED)
        if settled < rule.min_settled or unmatched / settled < rule.min_share:
            continue
        others_settled = retailer_ended[agent.retailer_code] - settled
        others = (
            (retailer_unmatched[agent.retailer_code] - unmatched) / others_settled if others_settled else None
        )
        # A retailer whose start applications are late for everyone is not one agent's pattern.
        if others is not None and unmatched / settled < rule.min_lift * others:
            continue
        withdrawn, expired = states[CaseState.WITHDRAWN], states[CaseState.EXPIRED]
        reason = (
            f"受付された廃止取次のうち結果の出た{settled}件中{unmatched}件（{unmatched / settled:.0%}）が"
            f"スイッチング成立に至らずに終わっています（取下げ{withdrawn}件、期限切れ{expired}件）。"
        )
        figures = (
            Figure("結果の出た件数", settled),
            Figure("取下げ", withdrawn),
            Figure("期限切れ", expired),
            Figure("不成立の割合", round(unmatched / settled, 3)),
            Figure("同じ小売事業者の他の担当者の不成立の割合", "—" if others is None else round(others, 3)),
        )
        signals.append(
            Signal(Heuristic.UNMATCHED, reason, figures, agent.retailer_code, names.written[agent])
        )
    return signals


def guessing_signals(applications: Sequence[StoredApplication], rule: GuessingRule) -> list[Signal]:
    names = _Names()
    filed: Counter[_Agent] = Counter()
    guessed: Counter[_Agent] = Counter()
    for application in applications:
        agent = names.agent(application)
        if agent is None or application.result is ResultKind.INVALID:
            continue
        filed[agent] += 1
        guessed[agent] += bool(_GUESSED.intersection(application.error_codes))
    retailer_filed: Counter[str] = Counter()
    retailer_guessed: Counter[str] = Counter()
    for agent, count in filed.items():
        retailer_filed[agent.retailer_code] += count
        retailer_guessed[agent.retailer_code] += guessed[agent]
    signals = []
    for agent in sorted(filed, key=_sort_key):
        rejections = guessed[agent]
        if rejections < rule.min_rejections:
            continue
        share = rejections / retailer_guessed[agent.retailer_code]
        filed_share = filed[agent] / retailer_filed[agent.retailer_code]
        if share < rule.min_share or share / filed_share < rule.min_lift:
            continue
        reason = (
            f"契約番号不一致（02）・名義不一致（04）のエラー{rejections}件は、この小売事業者の同じエラー"
            f"{retailer_guessed[agent.retailer_code]}件の{share:.0%}を占めます（申込件数では{filed_share:.0%}）。"
            "契約番号や名義を推測して申し込んでいる可能性があります。"
        )
        figures = (
            Figure("02・04エラー件数", rejections),
            Figure("小売事業者の02・04エラー件数", retailer_guessed[agent.retailer_code]),
            Figure("エラーに占める割合", round(share, 3)),
            Figure("申込に占める割合", round(filed_share, 3)),
        )
        signals.append(Signal(Heuristic.GUESSING, reason, figures, agent.retailer_code, names.written[agent]))
    return signals


def _sort_key(agent: _Agent) -> tuple[str, str]:
    return agent.retailer_code, agent.staff
