"""Applications and supply points for the switching unit tests: one good pair, changed field by field."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from shadan.domain.japan_time import JST
from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.switching import Application
from shadan.services.switching_checks import ReadingCalendar

POINT_ID = "0600000000000000000001"
CALENDAR = ReadingCalendar({"S01": [dt.date(2025, 4, 8), dt.date(2025, 5, 9), dt.date(2025, 6, 10)]})


def point(**changes: Any) -> SupplyPoint:
    base = SupplyPoint(
        supply_point_id=POINT_ID,
        kind=SupplyPointKind.DEMAND,
        voltage=Voltage.LOW,
        retailer_code="A0001",
        contract_no="K-0001",
        name_kana="タカハシ イチロウ",
        name_kanji="髙橋 一郎",
        address="大阪府大阪市北区梅田一丁目2番地3号",
        building="梅田ハイツ101",
        phone="06-0000-0000",
        status=SupplyPointStatus.ACTIVE,
        switching_target=True,
        reading_schedule="S01",
    )
    return dataclasses.replace(base, **changes)


def application(**changes: Any) -> Application:
    base = Application(
        line=2,
        application_id="AP1",
        received_at=dt.datetime(2025, 4, 1, 10, 0, tzinfo=JST),
        supply_point_id=POINT_ID,
        current_retailer_code="A0001",
        contract_no="K-0001",
        address="大阪府大阪市北区梅田一丁目2番地3号",
        building="",
        name_kana="タカハシ イチロウ",
        name_kanji="髙橋 一郎",
        cancel_date=dt.date(2025, 4, 20),
        new_retailer_code="B0002",
        new_retailer_staff="佐藤",
        new_retailer_phone="03-0000-0000",
    )
    return dataclasses.replace(base, **changes)
