"""Setting aside an entry the sequencer cannot read: the owner's recorded remedy (docs/access-log.md).

The sequencer leaves such an entry out of the tree, and verification reports it as an event not in the
tree (exit code 12) for as long as its row is there. Only the table owner can remove a row, and a removal
nobody recorded would be the very tampering the log exists to show. So setting an entry aside is an act of
its own: the caller gets the entry's bytes first, to keep as evidence; then, in one transaction on the
owner's connection, the row goes and an access event comes in naming its seq, the SHA-256 of its bytes
and the reason. Only an entry without a leaf that the sequencer cannot read is ever set aside: a
readable event, waiting or in the tree, is refused, and so is an entry changed since it was read.

The sequencer records each entry it leaves out the same way, as an access event of its own
(`log:entry_left_out`, seq and SHA-256) that gets a leaf: verification then holds every entry left out
against its row or its `log:entry_set_aside` event, so a row removed by hand, or changed, is reported
(left_out_records.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, AuditTag, ResourceType
from shadan.services.identity import Actor, EventFactory

# Who records an entry the sequencer left out (the account of its `log:entry_left_out` events).
SEQUENCER = Actor(account_id="system:sequencer")


@dataclass(frozen=True, slots=True)
class LeftOutEntry:
    seq: int
    stored: bytes  # as the database holds it (UTF-8 or not)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.stored).hexdigest()

    def event(
        self, events: EventFactory, now: dt.datetime, actor: Actor, tag: AuditTag, **extra: str
    ) -> AccessEvent:
        """The access event that records something done to this entry: its seq, SHA-256 and size."""
        facts = {"sha256": self.sha256, "bytes": len(self.stored), **extra}
        return events.admin(now, actor, tag, ResourceType.ACCESS_LOG, (str(self.seq),), extra=facts)


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    """What an event of `tag` (left out, set aside) says of an entry."""

    seq: int
    sha256: str


def recorded_entry(event: AccessEvent | None, tag: AuditTag) -> RecordedEntry | None:
    """The entry an event of `tag` names; None for any other event."""
    if event is None or event.action is not Action.ADMIN or event.detail != str(tag):
        return None
    named, digest = event.resource_ids, event.extra.get("sha256")
    if len(named) != 1 or not named[0].isascii() or not named[0].isdigit() or type(digest) is not str:
        return None
    return RecordedEntry(int(named[0]), digest)


class LeftOutEntries(Protocol):
    def read(self, seq: int) -> LeftOutEntry:
        """The entry of `seq`, if it has no leaf and the sequencer cannot read it; NotFound for no such row,
        InvalidInput for a leaf or a readable entry."""
        ...

    def remove(self, entry: LeftOutEntry, event: AccessEvent) -> None:
        """In one transaction on the owner's connection: the row out, if it still holds these bytes and has
        no leaf (InvalidInput otherwise), and the event appended."""
        ...


class EntrySetAsideService:
    def __init__(self, entries: LeftOutEntries, clock: Callable[[], dt.datetime], system_name: str) -> None:
        self._entries = entries
        self._clock = clock
        self._events = EventFactory(system_name)

    def entry(self, seq: int) -> LeftOutEntry:
        return self._entries.read(seq)

    def set_aside(self, entry: LeftOutEntry, reason: str, actor: Actor) -> AccessEvent:
        """Remove the entry's row, recorded; returns the access event that records it."""
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidInput("エントリを外す理由を入力してください。")
        event = entry.event(self._events, self._clock(), actor, AuditTag.LOG_ENTRY_SET_ASIDE, reason=reason)
        self._entries.remove(entry, event)
        return event
