"""The canonical entry: the exact bytes of an access event that become a Merkle leaf (docs/access-log.md).

The same row must give the same bytes on SQLite and PostgreSQL, today and in ten years, and an auditor must
be able to rebuild them without shadan. So the form is deliberately plain: one JSON object, UTF-8, keys
sorted by code point, no whitespace, every field of the `access_events` row (including `seq`, which binds
the event to its place) plus the format version `v`. Timestamps are UTC with exactly six fractional digits;
lists keep their stored order; numbers that are not integers are written as strings, so no float formatter
of any language can change the bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

ENTRY_VERSION = 1

# Every column of access_events, in the order the documentation lists them.
FIELDS = (
    "seq",
    "event_id",
    "ts",
    "system",
    "account_id",
    "person_id",
    "company_id",
    "action",
    "resource_type",
    "resource_ids",
    "categories",
    "withheld_categories",
    "terminal_id",
    "source_ip",
    "outcome",
    "purpose",
    "policy_ids",
    "detail",
    "extra",
)
JSON_FIELDS = ("resource_ids", "categories", "withheld_categories", "policy_ids", "extra")
TEXT_FIELDS = tuple(name for name in FIELDS if name not in {"seq", "ts", *JSON_FIELDS})

# Built once: json.dumps and json.loads with options build a new encoder or decoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
# Every non-integer number becomes, while it is parsed, the string `_plain` would make of it afterwards
# (repr of a finite float; 'nan', 'inf', '-inf' otherwise), so a decoded value is already plain.
_PLAIN_DECODER = json.JSONDecoder(
    parse_float=lambda text: repr(float(text)), parse_constant=lambda text: str(float(text))
)


def entry_bytes(row: Mapping[Any, Any]) -> bytes:
    """The canonical entry of one access_events row (a mapping of column name to value)."""
    return _encode(row, {name: _plain(row[name]) for name in JSON_FIELDS})


def entry_around_seq(row: Mapping[Any, Any]) -> tuple[str, str]:
    """The canonical entry of a row not numbered yet, as the text before and after its `seq` value.

    The log stores entries as text, and the database numbers an event only as it inserts it (audit/log.py):
    `before + str(seq) + after` is then the entry, as UTF-8 exactly `entry_bytes` of the numbered row.
    The keys are sorted and `seq` is a top-level key, so the object splits into the keys before it and
    those after it, each encoded alone.
    """
    document = _document(row, {name: _plain(row[name]) for name in JSON_FIELDS})
    before = _ENCODER.encode({k: v for k, v in document.items() if k < "seq"})
    after = _ENCODER.encode({k: v for k, v in document.items() if k > "seq"})
    return _stored_text(before[:-1] + ',"seq":'), _stored_text("," + after[1:])


def entry_bytes_from_json_text(row: Mapping[Any, Any]) -> bytes:
    """The same bytes from a row whose JSON columns are still their stored JSON text: the events that
    were stored as columns before the log stored entries (migration 0008 rewrites them into entries).

    One decode call for the five JSON columns of a row costs a fifth of five driver-side decodes, and
    the stored text is what the driver would have decoded.
    """
    decoded = _PLAIN_DECODER.decode("[" + ",".join([row[name] for name in JSON_FIELDS]) + "]")
    return _encode(row, dict(zip(JSON_FIELDS, decoded, strict=True)))


def _encode(row: Mapping[Any, Any], plain_json_values: dict[str, Any]) -> bytes:
    document = _document(row, plain_json_values)
    document["seq"] = int(row["seq"])
    return _utf8(_ENCODER.encode(document))


def _document(row: Mapping[Any, Any], plain_json_values: dict[str, Any]) -> dict[str, Any]:
    """Every field of the entry but `seq`."""
    document: dict[str, Any] = {name: str(row[name]) for name in TEXT_FIELDS}
    document.update(plain_json_values)
    document["v"] = ENTRY_VERSION
    document["ts"] = format_timestamp(row["ts"])
    return document


def _utf8(text: str) -> bytes:
    # backslashreplace: a lone surrogate (possible only in SQLite text) still gives valid, stable UTF-8.
    return text.encode("utf-8", "backslashreplace")


def _stored_text(text: str) -> str:
    """Text whose UTF-8 is `_utf8(text)`: what a database can store and give back unchanged."""
    return _utf8(text).decode("utf-8")


def format_timestamp(value: dt.datetime) -> str:
    """'YYYY-MM-DDTHH:MM:SS.ffffffZ' in UTC; a naive value is UTC already (SQLite stores it so)."""
    utc = value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat pads the year to four digits and, with this timespec, always writes six fraction digits.
    return utc.isoformat(timespec="microseconds") + "Z"


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time in UTC: SQLite gives it back naive (it is UTC already)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _plain(value: Any) -> Any:
    """JSON values with every non-integer number replaced by its shortest decimal string."""
    if isinstance(value, (list, tuple)):
        # The common case, a list of ids or categories, has nothing to replace.
        return value if all(type(v) is str for v in value) else [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)
