"""Submitted switching applications as stored: the two halves of a switch and their states.

A switch (スイッチング) is made when a start application (スイッチング開始申込) by the new retailer and a
cancellation (スイッチング廃止申込, here filed by proxy as 廃止取次) for the same supply point are both in
(マッチング). Validation (domain/switching.py) judges one cancellation; these types describe what is kept
after `shadan switching submit` and what statistics and fraud heuristics read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from shadan.domain.switching import ErrorCode, ResultKind


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
