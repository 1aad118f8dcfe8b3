"""Stored switching applications for the statistics and fraud-signal tests: four 廃止取次 submitted through
the service `shadan switching submit` calls, two days before the test clock's now (JST)."""

from __future__ import annotations

import datetime as dt

from world import JST, POINTS, World

from shadan.domain.registry import SupplyPoint
from shadan.services.switching_events import SwitchingActor
from shadan.services.switching_rows import APPLICATION_COLUMNS

LANDLORD = SupplyPoint(
    **{
        **POINTS["demand_affiliated"].as_dict(),
        "supply_point_id": "0600002222333344440001",
        "contract_no": "KC-5500-0001",
        "name_kana": "カブシキガイシャ ナカノシマハウジング",
        "name_kanji": "株式会社中之島ハウジング",
        "address": "大阪府大阪市北区中之島一丁目1番1号",
        "building": "中之島荘101",
    }
)
TENANT = SupplyPoint(
    **{
        **POINTS["demand_affiliated"].as_dict(),
        "supply_point_id": "0600002222333344440002",
        "contract_no": "KC-5500-0002",
        "name_kana": "タナカ イチロウ",
        "name_kanji": "田中 一郎",
        "address": "大阪府大阪市北区中之島二丁目3番4号",
    }
)
HIDDEN_IN_STATS = (LANDLORD.supply_point_id, TENANT.supply_point_id, "営業 次郎", "E2E-02")


def _line(application_id: str, point: SupplyPoint, received: dt.datetime, **changes: str) -> str:
    values = {
        "application_id": application_id,
        "received_at": received.isoformat(),
        "supply_point_id": point.supply_point_id,
        "current_retailer_code": point.retailer_code,
        "contract_no": point.contract_no,
        "address": point.address,
        "building": "",
        "name_kana": point.name_kana,
        "name_kanji": point.name_kanji,
        "cancel_date": (received + dt.timedelta(days=20)).date().isoformat(),
        "new_retailer_code": "R1001" if point.retailer_code != "R1001" else "A0601",
        "new_retailer_staff": "営業 次郎",
        "new_retailer_phone": "03-0000-0000",
    }
    values.update(changes)
    return ",".join(values[c] for c in APPLICATION_COLUMNS)


def submit_applications(world: World) -> World:
    """Four applications two days ago (JST): in area 06 one accepted only thanks to normalisation, one
    04 on a company-held flat, one 02; in area 03 one accepted."""
    shadan = world.shadan
    with shadan.uow("system") as uow:
        uow.registry.upsert_supply_points([LANDLORD, TENANT])
        uow.commit()
    received = (world.clock().astimezone(JST) - dt.timedelta(days=2)).replace(microsecond=0)
    lines = [
        _line("E2E-01", TENANT, received, name_kana="たなか いちろう"),
        _line("E2E-02", LANDLORD, received, name_kana="ヤマモト ハナコ", name_kanji="山本 花子"),
        _line("E2E-03", POINTS["demand_new"], received, contract_no="SK-2024-99999"),
        _line("E2E-04", POINTS["other_area"], received),
    ]
    data = "\r\n".join([",".join(APPLICATION_COLUMNS), *lines, ""]).encode()
    shadan.switching_cases.submit(data, SwitchingActor("system:e2e-tests"), source_name="apps.csv")
    return world
