"""The canonical entry (entry.py) built by DuckDB for a whole batch of events at once: from the columns
of access_events (verification) and from the decoded columns of an archive segment (verify-archive).

Verification must rebuild the entry of every event; in Python that costs about 10 µs an event, in one
vectorised DuckDB expression about one. The expression is a fast path, not a second definition of the
format: its bytes are only ever trusted when they equal a canonical entry (the stored leaf hash's, or the
segment's `entry` column), and any row it cannot build exactly (NULL, or bytes that differ from
entry.py's) goes to the exact Python code.

Why equal bytes prove the columns: the expression joins, between the fixed key literals, one complete
JSON value per field — a string encoded by DuckDB's `to_json`, stored JSON as it is once `json_valid`
holds it to be one JSON value (NULL otherwise), the decimal `seq`, a timestamp only in the stored shape; a
NULL leaves its key without a value, which no canonical entry has. A JSON value ends where it ends, so
in an entry that equals these bytes each field's value is exactly the text spliced in: if the bytes equal
a canonical entry E, every field decodes to the value E holds, and entry.py's encoding of the row — a
function of those decoded values — is E itself. For an archive the columns must be E's very values, so
there a list with a NULL item is refused. Bytes in another escaping style (DuckDB writes `\\u001F` where
Python writes `\\u001f`), keys out of order or numbers that are not integers never equal a canonical
entry: such rows only take the slow path.
tests/integration/audit/test_entry_sql.py holds this against generated rows, tampered texts included.
"""

from __future__ import annotations

from collections.abc import Callable

from shadan.audit.entry import FIELDS, JSON_FIELDS

# The stored shape of a timestamp (SQLite's text; PostgreSQL's is formatted to it by the query). Digits
# need no check: only digits can make the entry's timestamp; the space keeps a 'T' form out, which the
# exact path would read differently.
_TS_SHAPE = "____-__-__ __:__:__.______"


def _stored_value(name: str) -> str:
    """A field from access_events as the database gives it (JSON and timestamps as their stored text)."""
    if name == "seq":
        return "CAST(seq AS VARCHAR)"
    if name == "ts":
        return f"to_json(CASE WHEN ts LIKE '{_TS_SHAPE}' THEN replace(ts, ' ', 'T') || 'Z' END)"
    if name in JSON_FIELDS:
        return f"CASE WHEN json_valid({name}) THEN {name} END"
    return f"to_json({name})"


def _archived_value(name: str) -> str:
    """A decoded column of an archive segment (segment_file.py), which must say exactly what the entry
    says: lists of strings without NULLs, `extra` as the very JSON text (only checked to be one value)."""
    if name == "seq":
        return "CAST(seq AS VARCHAR)"
    if name == "ts":
        # UTC from the instant itself: formatting a TIMESTAMPTZ goes through the session's time zone
        # (ICU), at three times the cost.
        return "strftime(make_timestamp(epoch_us(ts)), '\"%Y-%m-%dT%H:%M:%S.%fZ\"')"
    if name == "extra":
        return "CASE WHEN json_valid(extra) THEN extra END"
    if name in JSON_FIELDS:
        return f"CASE WHEN list_count({name}) = len({name}) THEN to_json({name}) END"
    return f"to_json({name})"


def _entry_expression(value: Callable[[str], str]) -> str:
    keys = sorted([*FIELDS, "v"])
    parts: list[str] = []
    for position, name in enumerate(keys):
        literal = ("{" if position == 0 else ",") + f'"{name}":'
        parts += [f"'{literal}1'"] if name == "v" else [f"'{literal}'", value(name)]
    # One concat call (a chain of `||` costs twice as much). concat leaves a NULL value out: the key
    # is then followed by ',' or '}', which no canonical entry has, so such a row can never match.
    return "encode(concat(" + ", ".join(parts) + ", '}'))"


# The entry of an access_events row (SQLite's columns; PostgreSQL's as columnar_chunks selects them).
STORED_ENTRY = _entry_expression(_stored_value)
# The entry an archive segment's decoded columns stand for.
ARCHIVED_ENTRY = _entry_expression(_archived_value)
