"""The filters of the auditors' event search, as typed and as validated (services.audit_review).

Dates are days in Japan time, both ends included; a supply point id is canonicalised as everywhere else;
free text is bounded and may not hold control characters. Every refusal names the field in Japanese.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TypeVar

from shadan.domain.errors import InvalidInput
from shadan.domain.japan_time import JST
from shadan.domain.supply_point_id import SupplyPointId
from shadan.domain.vocabulary import Action, Outcome

TEXT_MAX = 64
INPUT_LOGGED_MAX = 100
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class FilterInput:
    """The search form as typed: strings, empty meaning "any"."""

    supply_point_id: str = ""
    account_id: str = ""
    person_id: str = ""
    date_from: str = ""
    date_to: str = ""
    action: str = ""
    outcome: str = ""
    purpose: str = ""

    def given(self) -> dict[str, str]:
        """The fields that were filled in, as typed (for links that keep the same filters)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name).strip()}

    def logged(self) -> dict[str, str]:
        """What was typed, bounded, for the access event of a refused request."""
        return {name: value[:INPUT_LOGGED_MAX] for name, value in self.given().items()}


@dataclass(frozen=True, slots=True)
class EventFilters:
    """Validated filters. Dates are days in Japan time, both ends included."""

    supply_point_id: str | None = None
    account_id: str | None = None
    person_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    action: Action | None = None
    outcome: Outcome | None = None
    purpose: str | None = None

    @classmethod
    def parse(cls, raw: FilterInput) -> EventFilters:
        supply_point = raw.supply_point_id.strip()
        filters = cls(
            supply_point_id=SupplyPointId.parse(supply_point).value if supply_point else None,
            account_id=_text(raw.account_id, "アカウントID"),
            person_id=_text(raw.person_id, "個人ID"),
            date_from=_day(raw.date_from, "期間（開始日）"),
            date_to=_day(raw.date_to, "期間（終了日）"),
            action=_member(Action, raw.action, "操作"),
            outcome=_member(Outcome, raw.outcome, "結果"),
            purpose=_text(raw.purpose, "利用目的"),
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            raise InvalidInput("期間の開始日が終了日より後になっています。")
        return filters

    @property
    def since(self) -> dt.datetime | None:
        """UTC, inclusive: midnight in Japan at the start of the first day."""
        return _midnight_utc(self.date_from) if self.date_from else None

    @property
    def until(self) -> dt.datetime | None:
        """UTC, exclusive: midnight in Japan at the end of the last day."""
        return _midnight_utc(self.date_to + dt.timedelta(days=1)) if self.date_to else None

    def as_extra(self) -> dict[str, str]:
        """What was searched for, for the auditor's own access event."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: str(value) for name, value in values.items() if value is not None}


def _text(raw: str, name: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if len(value) > TEXT_MAX:
        raise InvalidInput(f"{name}は{TEXT_MAX}文字以内で入力してください。")
    if _CONTROL.search(value):
        raise InvalidInput(f"{name}に使えない文字が含まれています。")
    return value


def _day(raw: str, name: str) -> dt.date | None:
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        return None
    match = _DATE.fullmatch(value)
    try:
        day = dt.date(*(int(part) for part in match.groups())) if match else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(f"{name}は YYYY-MM-DD の形式の日付で入力してください。")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{name}は{FIRST_DAY}から{LAST_DAY}までの日付で入力してください。")
    return day


def _member(kind: type[E], raw: str, name: str) -> E | None:
    value = raw.strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{name}は次のいずれかを指定してください: {allowed}。") from None


def _midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), JST).astimezone(dt.UTC)
