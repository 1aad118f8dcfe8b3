"""The registry of non-public wheeling data: supply points with their contracts, retailers, readings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from shadan.domain.vocabulary import Area, InfoCategory


class SupplyPointKind(StrEnum):
    DEMAND = "demand"
    GENERATION = "generation"


class Voltage(StrEnum):
    LOW = "low"
    HIGH = "high"
    EXTRA_HIGH = "extra_high"


class SupplyPointStatus(StrEnum):
    ACTIVE = "active"
    PENDING_CANCELLATION = "pending_cancellation"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Retailer:
    retailer_code: str
    name: str
    affiliated_area: Area | None

    @property
    def is_affiliated(self) -> bool:
        return self.affiliated_area is not None


@dataclass(frozen=True, slots=True)
class ReadingDay:
    reading_schedule: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class SupplyPoint:
    """One supply point with its current contract (one number per contract, DESIGN §2)."""

    supply_point_id: str
    kind: SupplyPointKind
    voltage: Voltage
    retailer_code: str
    contract_no: str
    name_kana: str
    name_kanji: str
    address: str
    building: str
    phone: str
    status: SupplyPointStatus
    switching_target: bool
    reading_schedule: str
    transformer_id: str = ""
    feeder_id: str = ""

    @property
    def area(self) -> Area:
        return Area(self.supply_point_id[:2])

    @property
    def contract_category(self) -> InfoCategory:
        """Contract data of a demand point is 新電力顧客情報; of a generation point, 新電力買取情報."""
        if self.kind is SupplyPointKind.GENERATION:
            return InfoCategory.NEW_POWER_PURCHASE
        return InfoCategory.NEW_POWER_CUSTOMER

    def category_of(self, field_name: str) -> InfoCategory:
        fixed = FIXED_FIELD_CATEGORIES.get(field_name)
        if fixed is not None:
            return fixed
        if field_name in CONTRACT_FIELDS:
            return self.contract_category
        raise KeyError(field_name)

    def categories(self) -> frozenset[InfoCategory]:
        return frozenset(self.category_of(name) for name in SUPPLY_POINT_FIELDS)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SUPPLY_POINT_FIELDS}


FIXED_FIELD_CATEGORIES: dict[str, InfoCategory] = {
    "supply_point_id": InfoCategory.SUPPLY_POINT,
    "kind": InfoCategory.SUPPLY_POINT,
    "voltage": InfoCategory.SUPPLY_POINT,
    "status": InfoCategory.SUPPLY_POINT,
    "switching_target": InfoCategory.SUPPLY_POINT,
    "reading_schedule": InfoCategory.SUPPLY_POINT,
    "address": InfoCategory.LOCATION,
    "building": InfoCategory.LOCATION,
    "transformer_id": InfoCategory.EQUIPMENT,
    "feeder_id": InfoCategory.GRID,
}
CONTRACT_FIELDS: frozenset[str] = frozenset(
    {"retailer_code", "contract_no", "name_kana", "name_kanji", "phone"}
)
SUPPLY_POINT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SupplyPoint))

FIELD_LABELS: dict[str, str] = {
    "supply_point_id": "供給地点特定番号",
    "kind": "種別",
    "voltage": "電圧区分",
    "status": "状態",
    "switching_target": "スイッチング対象",
    "reading_schedule": "検針日程",
    "address": "需要場所住所",
    "building": "建物名",
    "transformer_id": "変圧器番号",
    "feeder_id": "配電線",
    "retailer_code": "小売電気事業者コード",
    "contract_no": "契約番号",
    "name_kana": "契約名義（カナ）",
    "name_kanji": "契約名義（漢字）",
    "phone": "電話番号",
}
