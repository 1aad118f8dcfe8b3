"""The 廃止取次 checks of DESIGN §5.3, as pure functions of an application and the registry's facts.

Order: 01 (nothing else checked), 07 (nothing else checked), then 02, 03, 04, 05, 06 and 99 all at once.
Each application is assessed in both comparison modes at the same time — normalised names and addresses,
and `--strict` (NFKC and space removal only) — because the strict comparison is needed anyway as the fast
path, and the pair gives the exact count of rejections that normalisation avoids.

The in-run part of 03 (an earlier application of the same run was accepted for the supply point) depends
on the order of the whole run, so it is a second pass over the assessments in `received_at` order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.address import compare_addresses
from shadan.domain.business_days import CancelWindow, cancel_window, received_date
from shadan.domain.japanese import Likeness, contract_numbers_match
from shadan.domain.names import compare_names
from shadan.domain.registry import SupplyPoint, SupplyPointStatus
from shadan.domain.switching import Application, Finding, Reason
from shadan.domain.switching_case import StartApplication


@dataclass(frozen=True, slots=True)
class Assessment:
    """An application's findings before the in-run pass, normalised and strict."""

    findings: tuple[Finding, ...]
    strict_findings: tuple[Finding, ...]
    passed_gate: bool  # 01 and 07 passed: the remaining checks ran, and in-run 03 may still apply
    unbounded: bool = False  # no 次々回検針日 in the calendar: the "too late" bound was not checked

    def for_mode(self, *, strict: bool) -> tuple[Finding, ...]:
        return self.strict_findings if strict else self.findings


_NOT_FOUND = (Finding(Reason.NOT_FOUND),)
_NOT_TARGET = (Finding(Reason.NOT_TARGET),)
NOT_FOUND = Assessment(_NOT_FOUND, _NOT_FOUND, passed_gate=False)
NOT_TARGET = Assessment(_NOT_TARGET, _NOT_TARGET, passed_gate=False)
# Findings without details are shared, not built per application: a run holds up to millions.
_FIXED = {reason: Finding(reason) for reason in Reason}
_CLEAN = {unbounded: Assessment((), (), passed_gate=True, unbounded=unbounded) for unbounded in (False, True)}


class ReadingCalendar:
    """Reading days per schedule, with the cancel window cached per (schedule, received date): a run of a
    million applications has only a few hundred distinct pairs."""

    def __init__(self, days: Mapping[str, Sequence[dt.date]] | None = None) -> None:
        self._days: dict[str, list[dt.date]] = {}
        self._windows: dict[tuple[str, dt.date], CancelWindow] = {}
        self.add(days or {})

    def add(self, days: Mapping[str, Sequence[dt.date]]) -> None:
        for schedule, dates in days.items():
            self._days[schedule] = sorted(dates)
            self._windows = {k: w for k, w in self._windows.items() if k[0] != schedule}

    def knows(self, schedule: str) -> bool:
        return schedule in self._days

    def window(self, schedule: str, received: dt.date) -> CancelWindow:
        key = (schedule, received)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = cancel_window(received, self._days.get(schedule, ()))
        return window


def assess(app: Application, point: SupplyPoint | None, calendar: ReadingCalendar) -> Assessment:
    """Checks 01, 07, then 02–06 and 99 against the supply point the application names."""
    if point is None or point.retailer_code != app.current_retailer_code:
        return NOT_FOUND
    if not point.switching_target:
        return NOT_TARGET
    window = calendar.window(point.reading_schedule, received_date(app.received_at))
    unbounded = window.latest is None
    kana = compare_names(app.name_kana, point.name_kana)
    kanji = compare_names(app.name_kanji, point.name_kanji)
    address = compare_addresses(app.address, point.address)
    fixed = (*_head(app, point), *_tail(app, point, window))
    if kana is Likeness.SAME and kanji is Likeness.SAME and address is Likeness.SAME:
        # The common case: names and address as registered. One shared object when nothing failed.
        return Assessment(fixed, fixed, True, unbounded) if fixed else _CLEAN[unbounded]
    compared = ((Reason.NAME_KANA, kana), (Reason.NAME_KANJI, kanji), (Reason.ADDRESS, address))
    normal = (*fixed, *(_FIXED[r] for r, alike in compared if alike is Likeness.DIFFERENT))
    strict = (*fixed, *(_FIXED[r] for r, alike in compared if alike is not Likeness.SAME))
    return Assessment(_ordered(normal), _ordered(strict), passed_gate=True, unbounded=unbounded)


def assess_start(app: StartApplication, point: SupplyPoint | None) -> Assessment:
    """A start application: 01 (no such supply point), 07, then 99 (locked by a matched switch, or the new
    retailer already supplies the point). Names and dates are the cancellation's checks; the start date
    is held against the cancellation's when they are matched."""
    if point is None:
        return NOT_FOUND
    if not point.switching_target:
        return NOT_TARGET
    failed = (
        (Reason.LOCKED, point.status is SupplyPointStatus.LOCKED),
        (Reason.SAME_RETAILER, app.new_retailer_code == point.retailer_code),
    )
    found = tuple(_FIXED[reason] for reason, fails in failed if fails)
    return Assessment(found, found, passed_gate=True) if found else _CLEAN[False]


def _ordered(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=Finding.sort_key))


def _head(app: Application, point: SupplyPoint) -> list[Finding]:
    """02 and the registry part of 03."""
    found = []
    if not contract_numbers_match(app.contract_no, point.contract_no):
        found.append(_FIXED[Reason.CONTRACT_NO])
    if point.status is SupplyPointStatus.PENDING_CANCELLATION:
        found.append(_FIXED[Reason.PENDING_IN_REGISTRY])
    return found


def _tail(app: Application, point: SupplyPoint, window: CancelWindow) -> list[Finding]:
    """06 and 99."""
    found = []
    if window.too_early(app.cancel_date):
        found.append(Finding(Reason.TOO_EARLY, window=window))
    elif window.too_late(app.cancel_date):
        found.append(Finding(Reason.TOO_LATE, window=window))
    if point.status is SupplyPointStatus.LOCKED:
        found.append(_FIXED[Reason.LOCKED])
    if app.new_retailer_code == point.retailer_code:
        found.append(_FIXED[Reason.SAME_RETAILER])
    return found


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def instant(received_at: dt.datetime) -> int:
    """A timestamp as µs since the epoch. Comparing aware datetimes with different offsets converts them
    on every comparison, which made sorting a million applications take seconds; integers do not."""
    return (received_at - _EPOCH) // _MICROSECOND


class Queued(Protocol):
    """An assessed application as the in-run pass reads it."""

    @property
    def application_id(self) -> str: ...

    @property
    def supply_point_id(self) -> str: ...

    @property
    def assessment(self) -> Assessment | None: ...


def add_in_run_pending(queue: Sequence[Queued], *, strict: bool) -> list[tuple[Finding, ...]]:
    """Final findings, in queue (processing) order: 03 for an application whose supply point already has an
    accepted application earlier in the run. Only an accepted application (no finding at all) blocks later
    ones; applications stopped at 01 or 07 are not checked further. `queue` holds assessed entries only.

    Only supply points named more than once can be affected, so only those are walked in order: a run of
    a million applications repeats few points."""
    assessments = [_assessed(item) for item in queue]
    final = [a.strict_findings if strict else a.findings for a in assessments]
    counts = Counter(item.supply_point_id for item in queue)
    accepted: dict[str, str] = {}
    for position in (i for i, item in enumerate(queue) if counts[item.supply_point_id] > 1):
        item, findings = queue[position], final[position]
        earlier = accepted.get(item.supply_point_id) if assessments[position].passed_gate else None
        if earlier is not None:
            pending = Finding(Reason.PENDING_IN_RUN, earlier_application=earlier)
            final[position] = tuple(sorted((*findings, pending), key=Finding.sort_key))
        elif not findings:
            accepted[item.supply_point_id] = item.application_id
    return final


def _assessed(item: Queued) -> Assessment:
    if item.assessment is None:
        raise ValueError("only assessed applications take part in the in-run pass")
    return item.assessment
