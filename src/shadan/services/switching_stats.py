"""Switching statistics: the error-code shares of 廃止取次 per period, as in the seed's table, and what
normalisation avoided compared with `--strict`.

Counted are cancellations (廃止取次) received in the range, by the JST date they were received. A code's
count is the applications whose primary code (the lowest listed) it is, and its share is that count over
the period's rejections, rounded half-up to 0.1% like the seed's table (so shares may not add up to
exactly 100%). "Listed" counts every application whose `error_codes` contain the code. The comparison
with `--strict` uses the codes stored with each application: `strict_error_codes` is what `--strict`
would have listed for the same row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from shadan.domain.access import Principal, RequestContext
from shadan.domain.business_days import received_date
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import Half, StoredApplication
from shadan.domain.vocabulary import Action, Area
from shadan.services.clock import Clock, utc_now
from shadan.services.exports import Cell, ExportTable
from shadan.services.ports import SwitchingRecords
from shadan.services.switching import StrictComparison, StrictCounter
from shadan.services.switching_oversight import Oversight, Query, Shown, View, Viewer, ViewRequest, in_area
from shadan.services.switching_periods import DateRange, Period


@dataclass(frozen=True, slots=True)
class CodeCount:
    code: ErrorCode
    primary: int  # applications with this code as their primary code (error_code)
    listed: int  # applications whose error_codes list it
    rejected: int  # the period's rejections: the share's denominator

    @property
    def share(self) -> float | None:
        """The code's share of the period's rejections (None when nothing was rejected)."""
        return self.primary / self.rejected if self.rejected else None

    @property
    def percent(self) -> float | None:
        return percent(self.primary, self.rejected)


@dataclass(frozen=True, slots=True)
class PeriodStatistics:
    first: dt.date
    last: dt.date
    name: str
    applications: int
    accepted: int
    rejected: int
    invalid: int
    codes: tuple[CodeCount, ...]  # every code, in code order
    strict: StrictComparison  # the same applications judged with --strict

    @property
    def listed_name(self) -> int:
        return self._listed(ErrorCode.NAME)

    @property
    def listed_address(self) -> int:
        return self._listed(ErrorCode.ADDRESS)

    def _listed(self, code: ErrorCode) -> int:
        return next(c.listed for c in self.codes if c.code is code)


@dataclass(frozen=True, slots=True)
class SwitchingStatistics:
    range: DateRange
    period: Period
    area: Area | None  # None: every area
    periods: tuple[PeriodStatistics, ...]
    total: PeriodStatistics


def percent(count: int, total: int) -> float | None:
    """count / total in percent, rounded half-up to one decimal (1/16 → 6.3), None when total is 0."""
    if not total:
        return None
    exact = Decimal(count * 100) / Decimal(total)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def compute_statistics(
    applications: Iterable[StoredApplication], date_range: DateRange, period: Period, area: Area | None = None
) -> SwitchingStatistics:
    """Pure: the statistics of the cancellations among `applications` received in the range."""
    buckets = date_range.buckets(period)
    tallies = [_Tally() for _ in buckets.items]
    total = _Tally()
    for application in applications:
        day = received_date(application.received_at)
        if application.half is not Half.CANCEL or not date_range.contains(day):
            continue
        tallies[buckets.index_of(day)].add(application)
        total.add(application)
    periods = tuple(t.freeze(b.first, b.last, b.name) for t, b in zip(tallies, buckets.items, strict=True))
    everything = total.freeze(date_range.first, date_range.last, "全期間")
    return SwitchingStatistics(date_range, period, area, periods, everything)


@dataclass
class _Tally:
    """The counts of one period while the applications are walked."""

    counts: Counter[str] = field(default_factory=Counter)
    primary: Counter[ErrorCode] = field(default_factory=Counter)
    listed: Counter[ErrorCode] = field(default_factory=Counter)
    strict: StrictCounter = field(default_factory=StrictCounter)

    def add(self, application: StoredApplication) -> None:
        counts = self.counts
        counts["applications"] += 1
        if application.result is ResultKind.INVALID:
            counts["invalid"] += 1
            return
        codes = application.error_codes
        if codes:
            counts["rejected"] += 1
            self.primary[min(codes)] += 1
            self.listed.update(set(codes))
        else:
            counts["accepted"] += 1
        self.strict.add(codes, application.strict_error_codes)

    def freeze(self, first: dt.date, last: dt.date, name: str) -> PeriodStatistics:
        counts, rejected = self.counts, self.counts["rejected"]
        return PeriodStatistics(
            first=first,
            last=last,
            name=name,
            applications=counts["applications"],
            accepted=counts["accepted"],
            rejected=rejected,
            invalid=counts["invalid"],
            codes=tuple(CodeCount(c, self.primary[c], self.listed[c], rejected) for c in ErrorCode),
            strict=self.strict.freeze(),
        )


def statistics_table(stats: SwitchingStatistics) -> ExportTable:
    """One row per period and a last row for the whole range; shares in percent with one decimal."""
    headers = (
        "期間",
        "開始日",
        "終了日",
        "申込件数",
        "受付可",
        "エラー",
        "記入不備",
        *(f"{c.value} {c.label} 件数" for c in ErrorCode),
        *(f"{c.value} {c.label} エラー原因の比率（%）" for c in ErrorCode),
        *(f"{c.value} {c.label} 該当件数" for c in ErrorCode),
        "--strict でのエラー",
        f"{ErrorCode.NAME.short_label} 回避件数",
        f"{ErrorCode.ADDRESS.short_label} 回避件数",
        "エラー回避件数",
    )
    return ExportTable("スイッチング統計", headers, [_row(p) for p in (*stats.periods, stats.total)])


def _row(stats: PeriodStatistics) -> list[Cell]:
    strict = stats.strict
    return [
        stats.name,
        stats.first,
        stats.last,
        stats.applications,
        stats.accepted,
        stats.rejected,
        stats.invalid,
        *(c.primary for c in stats.codes),
        *(c.percent for c in stats.codes),
        *(c.listed for c in stats.codes),
        strict.rejected,
        strict.avoided_name,
        strict.avoided_address,
        strict.avoided_rejections,
    ]


class SwitchingStatisticsService:
    """Reads the range through the port, computes, and records the view (pages, API and CLI alike)."""

    def __init__(self, records: SwitchingRecords, oversight: Oversight, clock: Clock = utc_now) -> None:
        self._records = records
        self._oversight = oversight
        self._clock = clock

    def statistics(
        self,
        principal: Principal,
        request: ViewRequest,
        context: RequestContext,
        action: Action = Action.SEARCH,
    ) -> SwitchingStatistics:
        """`action` is EXPORT when the statistics leave as a download."""
        viewer = self._oversight.admit(principal, context, View.STATISTICS, request)
        return self._view(viewer, request, action)

    def operator_statistics(
        self, actor: str, request: ViewRequest, action: Action = Action.SEARCH
    ) -> SwitchingStatistics:
        """The CLI's view: the operator's whole database, as the operating-system user."""
        return self._view(Viewer.operator(actor, self._clock()), request, action)

    def _view(self, viewer: Viewer, request: ViewRequest, action: Action) -> SwitchingStatistics:
        query: Query = self._oversight.query(viewer, View.STATISTICS, request)
        applications = in_area(self._records.applications_between(*query.range.utc_bounds()), query.area)
        stats = compute_statistics(applications, query.range, query.period, query.area)
        self._oversight.record(viewer, View.STATISTICS, action, query, Shown(stats.total.applications))
        return stats
