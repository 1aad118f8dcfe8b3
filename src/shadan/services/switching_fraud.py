"""Fraud signals (不正の兆候) in switching applications: the two cases the seed names, as explainable
heuristics over the stored 廃止取次 (docs/switching.md, "Fraud signals").

① A sales agent paid per contract fakes switches (switching_fraud_agents.py). ② A flat with
electricity included in the rent, where the tenant applies without knowing and the name check (04)
fails (switching_fraud_rent.py): no fraud, the applicant should check the lease.

Every signal is for a person to look at, never an automatic decision; each carries its reason in
Japanese and the numbers behind it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from shadan.domain.access import Principal, RequestContext
from shadan.domain.business_days import received_date
from shadan.domain.registry import SupplyPoint
from shadan.domain.switching_case import Half, StoredApplication
from shadan.domain.vocabulary import Action, Area, InfoCategory
from shadan.services.clock import Clock, utc_now
from shadan.services.ports import SwitchingRecords, UnitOfWorkFactory
from shadan.services.switching_fraud_agents import guessing_signals, unmatched_signals, volume_signals
from shadan.services.switching_fraud_rent import name_rejected, utilities_included_signals
from shadan.services.switching_fraud_signals import DEFAULT_RULES, FraudRules, Heuristic, Signal
from shadan.services.switching_oversight import Oversight, Query, Shown, View, Viewer, ViewRequest, in_area
from shadan.services.switching_periods import DateRange, Period

# The registry is read only to look at holders: these are the categories the reads touch.
_READ_CATEGORIES = frozenset(
    {InfoCategory.SUPPLY_POINT, InfoCategory.LOCATION, InfoCategory.NEW_POWER_CUSTOMER}
)


@dataclass(frozen=True, slots=True)
class FraudSignals:
    range: DateRange
    period: Period
    area: Area | None
    rules: FraudRules
    applications: int  # cancellations looked at
    signals: tuple[Signal, ...]

    def of(self, heuristic: Heuristic) -> tuple[Signal, ...]:
        return tuple(s for s in self.signals if s.heuristic is heuristic)


def cancellations(
    applications: Iterable[StoredApplication], date_range: DateRange
) -> list[StoredApplication]:
    """The 廃止取次 received in the range (JST dates)."""
    return [
        a for a in applications if a.half is Half.CANCEL and date_range.contains(received_date(a.received_at))
    ]


def detect(
    applications: Sequence[StoredApplication],
    points: Mapping[str, SupplyPoint],
    date_range: DateRange,
    period: Period,
    rules: FraudRules,
) -> list[Signal]:
    """Pure: every heuristic over the range's cancellations and the registered points of the 04
    rejections among them."""
    filed = cancellations(applications, date_range)
    return [
        *volume_signals(filed, date_range, period, rules.volume),
        *unmatched_signals(filed, rules.unmatched),
        *guessing_signals(filed, rules.guessing),
        *utilities_included_signals(name_rejected(filed), points, rules.utilities_included),
    ]


class FraudSignalService:
    """Reads the range and the registered points of its 04 rejections, detects, records the view."""

    def __init__(
        self,
        records: SwitchingRecords,
        uow: UnitOfWorkFactory,
        oversight: Oversight,
        rules: FraudRules = DEFAULT_RULES,
        clock: Clock = utc_now,
    ) -> None:
        self._records = records
        self._uow = uow
        self._oversight = oversight
        self._rules = rules
        self._clock = clock

    def signals(self, principal: Principal, request: ViewRequest, context: RequestContext) -> FraudSignals:
        return self._view(self._oversight.admit(principal, context, View.FRAUD_SIGNALS, request), request)

    def operator_signals(self, actor: str, request: ViewRequest) -> FraudSignals:
        """The CLI's view: the operator's whole database, as the operating-system user."""
        return self._view(Viewer.operator(actor, self._clock()), request)

    def _view(self, viewer: Viewer, request: ViewRequest) -> FraudSignals:
        query: Query = self._oversight.query(viewer, View.FRAUD_SIGNALS, request)
        read = in_area(self._records.applications_between(*query.range.utc_bounds()), query.area)
        filed = cancellations(read, query.range)
        wanted = {a.supply_point_id for a in name_rejected(filed)}
        points = self._registered(wanted)
        signals = detect(read, points, query.range, query.period, self._rules)
        if not viewer.sees_supply_points:
            signals = [replace(s, supply_point_ids=()) for s in signals]
        shown_ids = tuple(sorted({i for s in signals for i in s.supply_point_ids}))
        counts = Counter(s.heuristic.value for s in signals)
        shown = Shown(
            len(filed), shown_ids, _READ_CATEGORIES if wanted else frozenset(), {"signals": dict(counts)}
        )
        self._oversight.record(viewer, View.FRAUD_SIGNALS, Action.SEARCH, query, shown)
        return FraudSignals(query.range, query.period, query.area, self._rules, len(filed), tuple(signals))

    def _registered(self, supply_point_ids: set[str]) -> dict[str, SupplyPoint]:
        """The registry's view of the points (d) looks at; nothing is read when there are none."""
        if not supply_point_ids:
            return {}
        with self._uow() as uow:
            return uow.registry.supply_points_by_ids(supply_point_ids)
