"""廃止取次 (cancellation by proxy): applications, error codes and findings (DESIGN §5.2–5.3).

The codes and their names are the switching system's (the seed's error table); `Reason` says which
sub-case of a code was found, so a message can tell the applicant exactly what to fix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from shadan.domain.business_days import CancelWindow

# The 利用目的 (policy/roles.toml) under which applications are checked against the registry.
SWITCHING_PURPOSE = "スイッチング処理"


class ErrorCode(StrEnum):
    SUPPLY_POINT = "01"
    CONTRACT_NO = "02"
    PENDING = "03"
    NAME = "04"
    ADDRESS = "05"
    CANCEL_DATE = "06"
    NOT_TARGET = "07"
    OTHER = "99"

    @property
    def label(self) -> str:
        return ERROR_LABELS[self]

    @property
    def short_label(self) -> str:
        """Code and name without 「エラー」, for table rows and chart axes: 「04 名義不一致」."""
        return f"{self.value} {self.label.removesuffix('エラー')}"


ERROR_LABELS: dict[ErrorCode, str] = {
    ErrorCode.SUPPLY_POINT: "供給地点特定番号エラー",
    ErrorCode.CONTRACT_NO: "契約番号不一致エラー",
    ErrorCode.PENDING: "廃止受付中エラー",
    ErrorCode.NAME: "名義不一致エラー",
    ErrorCode.ADDRESS: "住所不一致エラー",
    ErrorCode.CANCEL_DATE: "廃止年月日エラー",
    ErrorCode.NOT_TARGET: "システム対象外エラー",
    ErrorCode.OTHER: "その他エラー",
}


class ResultKind(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INVALID = "invalid"  # the row itself is malformed: nothing was checked against the registry

    @property
    def label(self) -> str:
        return RESULT_LABELS[self]


RESULT_LABELS: dict[ResultKind, str] = {
    ResultKind.ACCEPTED: "受付可",
    ResultKind.REJECTED: "エラー",
    ResultKind.INVALID: "記入不備",
}


class SwitchingAuditTag(StrEnum):
    VALIDATED = "switching:validated"
    SUBMITTED = "switching:submitted"  # a cancellation file stored (廃止取次の申込登録)
    STARTED = "switching:started"  # a start application file stored (開始申込)
    EXPIRED = "switching:expired"
    WITHDRAWN = "switching:withdrawn"
    CHANGE_REFUSED = "switching:change_refused"  # a matched (locked) application was to be changed
    STATUS_VIEWED = "switching:status_viewed"
    RESULTS_READ = "switching:results_read"
    REFUSED = "switching:refused"  # not allowed to do switching work at all


class Reason(StrEnum):
    """One failing check; several reasons may share a code (04 for the kana and the kanji name)."""

    NOT_FOUND = "not_found"  # 01
    CONTRACT_NO = "contract_no"  # 02
    PENDING_IN_REGISTRY = "pending_in_registry"  # 03
    PENDING_IN_RUN = "pending_in_run"  # 03: an earlier application of the same run was accepted
    NAME_KANA = "name_kana"  # 04
    NAME_KANJI = "name_kanji"  # 04
    ADDRESS = "address"  # 05
    TOO_EARLY = "too_early"  # 06
    TOO_LATE = "too_late"  # 06
    NOT_TARGET = "not_target"  # 07
    LOCKED = "locked"  # 99
    SAME_RETAILER = "same_retailer"  # 99

    @property
    def code(self) -> ErrorCode:
        return REASON_CODES[self]


REASON_CODES: dict[Reason, ErrorCode] = {
    Reason.NOT_FOUND: ErrorCode.SUPPLY_POINT,
    Reason.CONTRACT_NO: ErrorCode.CONTRACT_NO,
    Reason.PENDING_IN_REGISTRY: ErrorCode.PENDING,
    Reason.PENDING_IN_RUN: ErrorCode.PENDING,
    Reason.NAME_KANA: ErrorCode.NAME,
    Reason.NAME_KANJI: ErrorCode.NAME,
    Reason.ADDRESS: ErrorCode.ADDRESS,
    Reason.TOO_EARLY: ErrorCode.CANCEL_DATE,
    Reason.TOO_LATE: ErrorCode.CANCEL_DATE,
    Reason.NOT_TARGET: ErrorCode.NOT_TARGET,
    Reason.LOCKED: ErrorCode.OTHER,
    Reason.SAME_RETAILER: ErrorCode.OTHER,
}
_REASON_ORDER = {reason: index for index, reason in enumerate(Reason)}


@dataclass(frozen=True, slots=True)
class Finding:
    """A failing check with what its message needs: the allowed window (06), the earlier application (03)."""

    reason: Reason
    window: CancelWindow | None = None
    earlier_application: str = ""

    @property
    def code(self) -> ErrorCode:
        return REASON_CODES[self.reason]

    def sort_key(self) -> tuple[str, int]:
        return self.code.value, _REASON_ORDER[self.reason]


@lru_cache(maxsize=4096)
def codes_of(findings: tuple[Finding, ...]) -> tuple[ErrorCode, ...]:
    """Every failing code once, ascending: the first is the primary code (DESIGN §5.2). Cached: a run has
    few distinct sets of findings."""
    return tuple(sorted({f.code for f in findings}))


@dataclass(frozen=True, slots=True)
class Application:
    """One well-formed 廃止取次 row (DESIGN §5.2), identifiers already canonical."""

    line: int
    application_id: str
    received_at: dt.datetime  # timezone-aware
    supply_point_id: str  # 22 digits
    current_retailer_code: str  # NFKC-folded, as registry codes are
    contract_no: str
    address: str
    building: str
    name_kana: str
    name_kanji: str
    cancel_date: dt.date
    new_retailer_code: str
    new_retailer_staff: str
    new_retailer_phone: str
