"""Fraud signals' case ② of the seed, which is no fraud: a flat with electricity included in the rent
(光熱費付き). The landlord holds the contract, so a tenant who applies without knowing fails the name
check (04); the signal asks the applicant to check the lease.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from shadan.domain.address import normalise_address
from shadan.domain.names import normalise_name
from shadan.domain.registry import SupplyPoint, SupplyPointKind, Voltage
from shadan.domain.switching import ErrorCode
from shadan.domain.switching_case import StoredApplication
from shadan.services.switching_fraud_signals import Figure, Heuristic, Signal, UtilitiesIncludedRule

# The company forms as check 04's name normalisation writes them (株式会社, ㈱, ｶ) … all become (株)).
CORPORATE_FORMS = ("(株)", "(有)", "(同)", "(資)", "(名)")


def name_rejected(applications: Iterable[StoredApplication]) -> list[StoredApplication]:
    """The applications (d) looks at: rejected with 04 after normalisation."""
    return [a for a in applications if ErrorCode.NAME in a.error_codes]


def utilities_included_signals(
    rejected: Sequence[StoredApplication], points: Mapping[str, SupplyPoint], rule: UtilitiesIncludedRule
) -> list[Signal]:
    """(d) over the 04 rejections and their registered supply points (a point no longer registered,
    or not a low-voltage demand point, is left out)."""
    by_point: defaultdict[str, list[str]] = defaultdict(list)
    for application in rejected:
        point = points.get(application.supply_point_id)
        if point is not None and point.kind is SupplyPointKind.DEMAND and point.voltage is Voltage.LOW:
            by_point[point.supply_point_id].append(application.application_id)
    holders: Counter[tuple[str, str]] = Counter(_holder_at(points[p]) for p in by_point)
    signals = []
    for point_id, application_ids in sorted(by_point.items()):
        point = points[point_id]
        corporate = _corporate_form(point)
        same_holder = holders[_holder_at(point)]
        if corporate is None and same_holder < rule.min_same_holder:
            continue
        signals.append(_utilities_signal(point, corporate, same_holder, tuple(application_ids), rule))
    return signals


def _utilities_signal(
    point: SupplyPoint,
    corporate: str | None,
    same_holder: int,
    application_ids: tuple[str, ...],
    rule: UtilitiesIncludedRule,
) -> Signal:
    why = []
    if corporate is not None:
        why.append(f"登録されている契約名義が法人（{corporate}）です")
    if same_holder >= rule.min_same_holder:
        why.append(f"名義不一致となった同じ住所の供給地点{same_holder}件が同じ名義で登録されています")
    reason = (
        "、".join(why) + "。光熱費込みの賃貸物件の可能性があります（不正の兆候ではありません）。"
        "申込者に賃貸借契約で電気料金の扱いを確認するよう伝えてください。"
    )
    figures = (
        Figure("名義不一致の申込件数", len(application_ids)),
        Figure("法人名義", corporate or "—"),
        Figure("同じ住所・同じ名義の供給地点数", same_holder),
    )
    return Signal(
        Heuristic.UTILITIES_INCLUDED,
        reason,
        figures,
        retailer_code=point.retailer_code,
        application_ids=application_ids,
        supply_point_ids=(point.supply_point_id,),
    )


def _holder_at(point: SupplyPoint) -> tuple[str, str]:
    """(address, holder) as check 05 and 04 normalise them; the building is not compared (it holds the
    room number of each flat)."""
    return normalise_address(point.address).rest, normalise_name(point.name_kanji)


def _corporate_form(point: SupplyPoint) -> str | None:
    names = (normalise_name(point.name_kanji), normalise_name(point.name_kana))
    return next((form for form in CORPORATE_FORMS if any(form in name for name in names)), None)
