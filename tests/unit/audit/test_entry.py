"""The canonical entry: fixed bytes for a given row, whatever the driver hands back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from shadan.audit.entry import entry_bytes, format_timestamp

JST = dt.timezone(dt.timedelta(hours=9))


def row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "seq": 42,
        "event_id": "ev-1",
        "ts": dt.datetime(2024, 4, 1, 9, 30, 0, 120000, tzinfo=dt.UTC),
        "system": "shadan",
        "account_id": "k.tanaka",
        "person_id": "p001",
        "company_id": "td06",
        "action": "view",
        "resource_type": "supply_point",
        "resource_ids": ["0600001111222233334444", "0600001111222233330000"],
        "categories": ["supply_point", "location"],
        "withheld_categories": ["new_power_customer"],
        "terminal_id": "OSK-TD-0612",
        "source_ip": "10.0.0.7",
        "outcome": "allowed",
        "purpose": "託送業務",
        "policy_ids": ["td-staff-own-area"],
        "detail": "",
        "extra": {"term": "大阪", "limit": 20},
    }
    return base | changes


EXPECTED = (
    '{"account_id":"k.tanaka","action":"view","categories":["supply_point","location"],'
    '"company_id":"td06","detail":"","event_id":"ev-1","extra":{"limit":20,"term":"大阪"},'
    '"outcome":"allowed","person_id":"p001","policy_ids":["td-staff-own-area"],"purpose":"託送業務",'
    '"resource_ids":["0600001111222233334444","0600001111222233330000"],"resource_type":"supply_point",'
    '"seq":42,"source_ip":"10.0.0.7","system":"shadan","terminal_id":"OSK-TD-0612",'
    '"ts":"2024-04-01T09:30:00.120000Z","v":1,"withheld_categories":["new_power_customer"]}'
)


def test_the_documented_form_byte_for_byte() -> None:
    assert entry_bytes(row()) == EXPECTED.encode("utf-8")


def test_timestamps_are_utc_with_six_digits_however_they_come_back() -> None:
    aware_jst = dt.datetime(2024, 4, 1, 18, 30, 0, 120000, tzinfo=JST)
    naive_utc = dt.datetime(2024, 4, 1, 9, 30, 0, 120000)  # SQLite returns stored UTC without tzinfo
    assert entry_bytes(row(ts=aware_jst)) == entry_bytes(row(ts=naive_utc)) == EXPECTED.encode()
    assert format_timestamp(dt.datetime(5, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "0005-01-02T03:04:05.000000Z"


def test_lists_keep_their_order_and_keys_are_sorted() -> None:
    reordered = row(resource_ids=["0600001111222233330000", "0600001111222233334444"])
    assert entry_bytes(reordered) != entry_bytes(row())
    swapped = row(extra={"limit": 20, "term": "大阪"})
    assert entry_bytes(swapped) == entry_bytes(row(extra={"term": "大阪", "limit": 20}))


@pytest.mark.parametrize(
    ("value", "written"),
    [(0.1, '"0.1"'), (1e21, '"1e+21"'), (float("nan"), '"nan"'), (True, "true"), (None, "null"), (7, "7")],
)
def test_no_float_ever_reaches_the_bytes(value: Any, written: str) -> None:
    text = entry_bytes(row(extra={"x": [value]})).decode()
    assert f'"extra":{{"x":[{written}]}}' in text


def test_every_field_and_the_version_are_present() -> None:
    document = json.loads(entry_bytes(row()))
    assert set(document) == set(row()) | {"v"}
    assert document["v"] == 1


def test_a_changed_field_changes_the_entry() -> None:
    base = entry_bytes(row())
    for name, value in [("seq", 43), ("purpose", "営業"), ("outcome", "denied"), ("extra", {})]:
        assert entry_bytes(row(**{name: value})) != base
