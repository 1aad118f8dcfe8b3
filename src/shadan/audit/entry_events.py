"""An access event read back from its stored entry, for the pages, the exports and a person's own history.

shadan's append path writes only canonical entries (entry.py). Whoever can write the table can store any
JSON text beside them, and the sequencer gives it a leaf like any other entry: the log proves what was
stored, not that it is an event. So readers take each event from its entry's text here, in Python, and
an entry that is no event shadan writes comes back as None, for the page to show as unreadable. Reading
the view's typed columns instead would let one crafted value stop the whole query (a `ts` PostgreSQL
cannot cast) or the page (a value the domain refuses).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from shadan.audit.entry import ENTRY_VERSION, FIELDS, JSON_FIELDS, TEXT_FIELDS
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType

_LISTS = tuple(name for name in JSON_FIELDS if name != "extra")
# Escapes shadan never writes (its entries are UTF-8 text, and NULs are replaced before they are written):
# a NUL, and a surrogate, which a page could not encode were it a lone one. An escape is a backslash
# that no other backslash escapes.
_NEVER_WRITTEN = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F])")


def entry_text(stored: str | bytes) -> str:
    """The stored entry as text to show, whatever it holds."""
    return stored.decode("utf-8", "replace") if isinstance(stored, bytes) else stored


def event_from_entry(seq: int, stored: str | bytes) -> AccessEvent | None:
    """The event the entry of row `seq` holds; None if it is no entry shadan writes: no UTF-8 JSON object
    of this version with every field of its type, a `ts` with its zone, and this `seq`."""
    try:
        text = stored.decode("utf-8") if isinstance(stored, bytes) else stored
        if "\\u" in text and _NEVER_WRITTEN.search(text):  # the pattern is slow; the text test is not
            return None
        fields = json.loads(text)
        if type(fields) is not dict or fields.keys() != {*FIELDS, "v"}:
            return None
        numbers = (fields["v"], fields["seq"])
        if numbers != (ENTRY_VERSION, seq) or {type(n) for n in numbers} != {int}:
            return None  # the types too: JSON's `true` and `1.0` equal 1 in Python
        return _event(fields)
    except (ValueError, TypeError, RecursionError):  # ValueError: UTF-8's, JSON's, the vocabularies'
        return None  # RecursionError: JSON nested deeper than Python's stack


def _event(fields: dict[str, Any]) -> AccessEvent:
    text = {name: _text(fields[name]) for name in TEXT_FIELDS}
    lists = {name: _texts(fields[name]) for name in _LISTS}
    if type(fields["extra"]) is not dict:
        raise TypeError("extra")
    return AccessEvent(
        event_id=text["event_id"],
        ts=dt.datetime.fromisoformat(_text(fields["ts"])),  # its zone: AccessEvent refuses a naive time
        system=text["system"],
        account_id=text["account_id"],
        person_id=text["person_id"],
        company_id=text["company_id"],
        action=Action(text["action"]),
        resource_type=_resource_type(text["resource_type"]),
        resource_ids=lists["resource_ids"],
        categories=lists["categories"],
        withheld_categories=lists["withheld_categories"],
        terminal_id=text["terminal_id"],
        source_ip=text["source_ip"],
        outcome=Outcome(text["outcome"]),
        purpose=text["purpose"],
        policy_ids=lists["policy_ids"],
        detail=text["detail"],
        extra=fields["extra"],
    )


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("not a text")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not set(map(type, value)) <= {str}:
        raise TypeError("not a list of texts")
    return tuple(value)


def _resource_type(value: str) -> ResourceType | str:
    try:
        return ResourceType(value)
    except ValueError:
        return value  # ingested events from other systems keep their own types
