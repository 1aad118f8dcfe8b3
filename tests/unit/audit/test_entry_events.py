"""An event read back from its stored entry: every entry shadan writes gives its event again, and any other
text stored as an entry gives None (an unreadable entry on the auditors' pages), never an error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from shadan.audit.entry import entry_around_seq
from shadan.audit.entry_events import entry_text, event_from_entry
from shadan.audit.log import event_to_row
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType

SEQ = 42
EVENT = AccessEvent(
    event_id="ev-1",
    ts=dt.datetime(2024, 4, 1, 9, 30, 0, 120000, tzinfo=dt.UTC),
    system="shadan",
    account_id="k.tanaka",
    person_id="p001",
    company_id="td06",
    action=Action.VIEW,
    resource_type=ResourceType.SUPPLY_POINT,
    resource_ids=("0600001111222233334444",),
    categories=("supply_point", "location"),
    withheld_categories=("new_power_customer",),
    outcome=Outcome.ALLOWED,
    purpose="託送業務",
    terminal_id="OSK-TD-0612",
    source_ip="10.0.0.7",
    policy_ids=("td-staff-own-area",),
    detail="検索",
    extra={"term": "大阪", "limit": 20, "nested": {"a": [1, "b"]}},
)


def stored(event: AccessEvent = EVENT, seq: int = SEQ) -> str:
    """The text the append path stores for the event at `seq`."""
    before, after = entry_around_seq(event_to_row(event))
    return f"{before}{seq}{after}"


def changed(**fields: Any) -> str:
    document = json.loads(stored())
    document.update(fields)
    return json.dumps(document, ensure_ascii=False)


@pytest.mark.parametrize(
    "event",
    [
        EVENT,
        AccessEvent(
            event_id="ev-2",
            ts=EVENT.ts,
            system="ingest",
            account_id="",
            action=Action.SEARCH,
            resource_type="billing_record",  # another system's own type
            resource_ids=(),
            outcome=Outcome.DENIED,
            detail="a backslash and u0000 as text: \\u0000, and \\ud800",
        ),
    ],
)
def test_every_entry_shadan_writes_gives_its_event_again(event: AccessEvent) -> None:
    assert event_from_entry(SEQ, stored(event)) == event
    assert event_from_entry(SEQ, stored(event).encode("utf-8")) == event  # SQLite's bytes


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[1, 2]", id="no object"),
        pytest.param("no JSON", id="no JSON"),
        pytest.param('{"ts": "2025-04-01T00:00:00.000000Z"}', id="fields missing"),
        pytest.param(changed(colour="red"), id="a field too many"),
        pytest.param(changed(v=2), id="another version"),
        pytest.param(changed(v=True), id="version true"),
        pytest.param(changed(seq=41), id="another seq"),
        pytest.param(changed(seq=42.0), id="seq not an integer"),
        pytest.param(changed(ts="no time"), id="ts no time"),
        pytest.param(changed(ts="2025-04-01T00:00:00"), id="ts without zone"),
        pytest.param(changed(ts=5), id="ts a number"),
        pytest.param(changed(action="delete_everything"), id="action unknown"),
        pytest.param(changed(outcome=None), id="outcome null"),
        pytest.param(changed(account_id=7), id="text a number"),
        pytest.param(changed(resource_ids="0600001111222233334444"), id="list a text"),
        pytest.param(changed(categories=[1]), id="list of numbers"),
        pytest.param(changed(extra=[]), id="extra a list"),
        pytest.param(stored().replace('"検索"', '"\\u0000"'), id="NUL escape"),
        pytest.param(stored().replace('"検索"', '"\\ud800"'), id="lone surrogate escape"),
        pytest.param(stored().replace('"検索"', '"\\\\\\ud800"'), id="escaped backslash, then a surrogate"),
        pytest.param(stored().replace('"検索"', '"\\ud83d\\ude00"'), id="surrogate pair escape"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested deeper than the stack"),
    ],
)
def test_any_other_text_gives_none(text: str) -> None:
    assert event_from_entry(SEQ, text) is None


def test_bytes_that_are_no_utf8_give_none_and_are_shown_replaced() -> None:
    stored_bytes = stored().encode("utf-8").replace("検索".encode(), b"\xff")
    assert event_from_entry(SEQ, stored_bytes) is None
    assert '"detail":"\ufffd"' in entry_text(stored_bytes)
    assert entry_text(stored()) == stored()
