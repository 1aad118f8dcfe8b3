"""Events stored as columns before the log stored entries are rewritten into entries (migration 0008) from
the stored JSON text (one decoder, floats turned into strings while parsing): the bytes must be exactly
those of the decoded row, for every value JSON can hold."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from shadan.audit.entry import JSON_FIELDS, entry_around_seq, entry_bytes, entry_bytes_from_json_text

ROW: dict[str, Any] = {
    "seq": 7,
    "event_id": "ev-7",
    "ts": dt.datetime(2025, 4, 1, 9, 30, 0, 5, tzinfo=dt.UTC),
    "system": "legacy",
    "account_id": "k.tanaka",
    "person_id": "p001",
    "company_id": "td06",
    "action": "search",
    "resource_type": "supply_point",
    "resource_ids": ["0600001111222233334444"],
    "categories": ["supply_point"],
    "withheld_categories": [],
    "terminal_id": "OSK-TD-0612",
    "source_ip": "10.0.0.7",
    "outcome": "allowed",
    "purpose": "託送業務",
    "policy_ids": ["td-staff-own-area"],
    "detail": "",
    "extra": {},
}


def stored(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the tree reads it: JSON columns as the text the JSON column type wrote."""
    return {k: json.dumps(v) if k in JSON_FIELDS else v for k, v in row.items()}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"term": "大阪 北区", "limit": 20},
        {"x": [0.1, 1e21, -0.0, 2.5e-8, 1e400, -1e400]},  # finite, huge and overflowing floats
        {"nan": float("nan"), "inf": float("inf"), "neg": float("-inf")},
        {"nested": {"b": [True, False, None, {"z": 1.5, "a": '\u0000\n"'}], "a": 10**30}},
        {"emoji": "😀", "zwj": "👨‍👩‍👧"},
    ],
)
def test_same_bytes_from_the_stored_text(extra: dict[str, Any]) -> None:
    text = stored(ROW | {"extra": extra})
    decoded = {k: json.loads(v) if k in JSON_FIELDS else v for k, v in text.items()}  # as the driver does
    assert entry_bytes_from_json_text(text) == entry_bytes(decoded)


def test_no_float_survives_parsing() -> None:
    text = entry_bytes_from_json_text(stored(ROW | {"extra": {"v": [0.1, float("nan")]}})).decode()
    assert '"extra":{"v":["0.1","nan"]}' in text


@pytest.mark.parametrize("seq", [1, 9, 10, 2**62])
@pytest.mark.parametrize(
    "extra",
    [{}, {"seq": 3, "v": [0.5]}, {"text": '"seq":0,'}, {"surrogate": "\udc80"}],  # keys and text like seq's
)
def test_the_entry_around_its_seq_is_the_entry(seq: int, extra: dict[str, Any]) -> None:
    """The append path stores `before + seq + after` (audit/log.py): exactly the entry of the numbered row."""
    before, after = entry_around_seq(ROW | {"seq": None, "extra": extra})
    assert f"{before}{seq}{after}".encode() == entry_bytes(ROW | {"seq": seq, "extra": extra})
