"""Submitted switching applications as stored: the two halves of a switch and their states.

A switch (スイッチング) is made when a start application (スイッチング開始申込) by the new retailer and a
cancellation (スイッチング廃止申込, here filed by proxy as 廃止取次) for the same supply point are both in
(マッチング). Validation (domain/switching.py) judges one cancellation; these types describe what is kept
after `shadan switching submit` and what statistics and fraud heuristics read, and the rules of matching:
which halves pair, and the business-day deadline after which a waiting half expires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.business_days import nth_business_day_after, received_date
from shadan.domain.errors import InvalidInput
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.vocabulary import Area


class Half(StrEnum):
    CANCEL = "cancel"  # 廃止申込（廃止取次）
    START = "start"  # 開始申込

    @property
    def label(self) -> str:
        return HALF_LABELS[self]


HALF_LABELS: dict[Half, str] = {Half.CANCEL: "廃止申込（廃止取次）", Half.START: "開始申込"}


class CaseState(StrEnum):
    REJECTED = "rejected"  # failed a check: nothing was recorded against the supply point
    INVALID = "invalid"  # the row itself was malformed
    PENDING = "pending"  # accepted; waiting for the other half (マッチング待ち)
    MATCHED = "matched"  # both halves in: the switch is made and locked (スイッチング成立)
    EXPIRED = "expired"  # the other half did not arrive within the deadline
    WITHDRAWN = "withdrawn"  # taken back by the applicant before matching (取下げ)

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[CaseState, str] = {
    CaseState.REJECTED: "エラー",
    CaseState.INVALID: "記入不備",
    CaseState.PENDING: "マッチング待ち",
    CaseState.MATCHED: "スイッチング成立",
    CaseState.EXPIRED: "期限切れ",
    CaseState.WITHDRAWN: "取下げ",
}


@dataclass(frozen=True, slots=True)
class StoredApplication:
    """One submitted application with its outcome, as statistics and fraud heuristics read it."""

    application_id: str
    half: Half
    supply_point_id: str
    received_at: dt.datetime
    submitted_at: dt.datetime
    current_retailer_code: str
    new_retailer_code: str
    new_retailer_staff: str
    building: str
    result: ResultKind
    error_codes: tuple[ErrorCode, ...]  # with normalisation (what was decided)
    strict_error_codes: tuple[ErrorCode, ...]  # what `--strict` would have listed for the same row
    state: CaseState
    state_changed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StartApplication:
    """One well-formed 開始申込 row (docs/switching.md), identifiers already canonical."""

    line: int
    application_id: str
    received_at: dt.datetime  # timezone-aware
    supply_point_id: str  # 22 digits
    new_retailer_code: str  # NFKC-folded, as registry codes are
    start_date: dt.date
    new_retailer_staff: str
    new_retailer_phone: str


class SwitchingConflict(InvalidInput):
    """Another transaction changed the same applications or supply points first: nothing was written."""

    code = "conflict"


class ReplayedSubmission(InvalidInput):
    """The same file (by SHA-256) was submitted before."""

    code = "replayed_submission"


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """One row of a submitted file as stored: what statistics read, and what results and matching need."""

    line: int
    half: Half
    application_id: str
    claims_id: bool  # a well-formed row holds its application id for its new retailer; an invalid one not
    supply_point_id: str
    received_at: dt.datetime | None  # None only for an invalid row whose timestamp did not parse
    current_retailer_code: str  # empty for a start application (the registry knows it)
    new_retailer_code: str
    new_retailer_staff: str
    building: str
    switch_date: dt.date | None  # cancel_date, or start_date; None only for an invalid row
    result: ResultKind
    error_codes: tuple[ErrorCode, ...]
    strict_error_codes: tuple[ErrorCode, ...]
    message: str
    state: CaseState

    @property
    def error_code(self) -> str:
        return self.error_codes[0].value if self.error_codes else ""


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A stored row with its place: the submission, the row id, and the other half once matched."""

    row_id: int
    submission_id: int
    record: ApplicationRecord
    state_changed_at: dt.datetime
    partner_row_id: int | None


@dataclass(frozen=True, slots=True)
class Submission:
    """One submitted file. `area` is the submitter's; None for the operator, who acts for every area."""

    half: Half
    file_name: str
    sha256: str
    encoding: str
    strict: bool
    submitted_by: str
    area: Area | None
    submitted_at: dt.datetime
    counts: dict[ResultKind, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One state change of an application, in the history of its supply point (append-only)."""

    supply_point_id: str
    row_id: int
    application_id: str
    half: Half
    state: CaseState
    registry_status: SupplyPointStatus  # the supply point's status after the change
    changed_by: str
    changed_at: dt.datetime
    reason: str


@dataclass(frozen=True, slots=True)
class WaitingHalf:
    """A pending half as matching and expiry read it."""

    row_id: int
    half: Half
    application_id: str
    supply_point_id: str
    new_retailer_code: str
    switch_date: dt.date
    received_at: dt.datetime


def match_deadline(received_at: dt.datetime, match_days: int) -> dt.date:
    """The last day (JST) on which the other half may be received: the `match_days`-th business day after
    the received date (weekends, national holidays and 29 Dec – 3 Jan do not count)."""
    return nth_business_day_after(received_date(received_at), match_days)


def has_expired(half: WaitingHalf, now: dt.datetime, match_days: int) -> bool:
    """True once the deadline day has passed in Japan time."""
    return received_date(now) > match_deadline(half.received_at, match_days)


def pairs_with(a: WaitingHalf, b: WaitingHalf, match_days: int) -> bool:
    """A cancellation and a start pair when they name the same supply point, new retailer and date, and the
    later one was received by the deadline of the earlier."""
    if a.half is b.half or a.supply_point_id != b.supply_point_id:
        return False
    if a.new_retailer_code != b.new_retailer_code or a.switch_date != b.switch_date:
        return False
    first, second = sorted((a, b), key=lambda h: h.received_at)
    return received_date(second.received_at) <= match_deadline(first.received_at, match_days)


def partner_of(half: WaitingHalf, candidates: Iterable[WaitingHalf], match_days: int) -> WaitingHalf | None:
    """The earliest received candidate that pairs with `half` (ties by application id), if any."""
    fitting = [c for c in candidates if c.row_id != half.row_id and pairs_with(half, c, match_days)]
    return min(fitting, key=lambda c: (c.received_at, c.application_id), default=None)
