"""What a left-out or set-aside event says of an entry (services/entry_set_aside.py): only an event of
that kind naming one seq in ASCII digits and a SHA-256 is taken as such."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, AuditTag
from shadan.services.entry_set_aside import SEQUENCER, LeftOutEntry, RecordedEntry, recorded_entry
from shadan.services.identity import EventFactory

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
STORED = b'{"ts":"no time"}'


def left_out(seq: int = 11) -> AccessEvent:
    entry = LeftOutEntry(seq, STORED)
    return entry.event(EventFactory("shadan", lambda: "id-1"), NOW, SEQUENCER, AuditTag.LOG_ENTRY_LEFT_OUT)


def test_the_record_names_the_seq_digest_and_size() -> None:
    event = left_out()
    assert (event.account_id, event.action, event.detail, event.resource_ids) == (
        "system:sequencer",
        Action.ADMIN,
        "log:entry_left_out",
        ("11",),
    )
    assert event.extra == {"sha256": hashlib.sha256(STORED).hexdigest(), "bytes": len(STORED)}
    assert recorded_entry(event, AuditTag.LOG_ENTRY_LEFT_OUT) == RecordedEntry(11, event.extra["sha256"])


@pytest.mark.parametrize(
    "changes",
    [
        {"detail": "log:entry_set_aside"},
        {"action": Action.VIEW},
        {"resource_ids": ("11", "12")},
        {"resource_ids": ()},
        {"resource_ids": ("１１",)},  # full-width digits: `str.isdigit` alone would take them
        {"resource_ids": ("-11",)},
        {"extra": {"bytes": 16}},
        {"extra": {"sha256": 42}},
    ],
)
def test_no_other_event_is_taken_for_a_record(changes: dict[str, object]) -> None:
    assert recorded_entry(dataclasses.replace(left_out(), **changes), AuditTag.LOG_ENTRY_LEFT_OUT) is None  # type: ignore[arg-type]


def test_no_event_is_no_record() -> None:
    assert recorded_entry(None, AuditTag.LOG_ENTRY_LEFT_OUT) is None
    assert recorded_entry(left_out(), AuditTag.LOG_ENTRY_SET_ASIDE) is None
