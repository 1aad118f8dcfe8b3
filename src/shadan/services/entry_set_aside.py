"""Setting aside an entry the sequencer cannot read: the owner's recorded remedy (docs/access-log.md).

The sequencer leaves such an entry out of the tree, and verification reports it as an event not in the
tree (exit code 12) for as long as its row is there. Only the table owner can remove a row, and a removal
nobody recorded would be the very tampering the log exists to show. So setting an entry aside is an act of
its own: the caller gets the entry's bytes first, to keep as evidence; then, in one transaction on the
owner's connection, the row goes and an access event comes in naming its seq, the SHA-256 of its bytes
and the reason. Only an entry without a leaf that the sequencer cannot read is ever set aside: a
readable event, waiting or in the tree, is refused, and so is an entry changed since it was read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.identity import Actor, EventFactory


@dataclass(frozen=True, slots=True)
class LeftOutEntry:
    seq: int
    stored: bytes  # as the database holds it (UTF-8 or not)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.stored).hexdigest()


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
        event = self._events.admin(
            self._clock(),
            actor,
            AuditTag.LOG_ENTRY_SET_ASIDE,
            ResourceType.ACCESS_LOG,
            (str(entry.seq),),
            extra={"sha256": entry.sha256, "bytes": len(entry.stored), "reason": reason},
        )
        self._entries.remove(entry, event)
        return event
