"""The canonical entry (entry.py) built by DuckDB for a whole segment of the archive at once, from its
decoded columns (verify-archive).

An archive segment holds each event's entry and, beside it, its fields decoded into columns for
analysis (segment_file.py); the columns must say exactly what the entry says. Built in Python that
check costs about 10 µs an event, in one vectorised DuckDB expression well under one. The expression is a
fast path, not a second definition of the format: its bytes are only ever trusted when they equal the
segment's `entry` column, and any row it cannot build exactly (NULL, or bytes that differ) fails the
check.

Why equal bytes prove the columns: the expression joins, between the fixed key literals, one complete
JSON value per field — a string encoded by DuckDB's `to_json`, a list of strings without NULLs, `extra` as
its JSON text once `json_valid` holds it to be one value (NULL otherwise), the decimal `seq`, the
timestamp formatted from the instant; a NULL leaves its key without a value, which no canonical entry
has. A JSON value ends where it ends, so in an entry that equals these bytes each field's value is exactly
the text spliced in, and the columns are the entry's very values. Bytes in another escaping style (DuckDB
writes `\\u001F` where Python writes `\\u001f`), keys out of order or numbers that are not integers never
equal a canonical entry. tests/integration/audit/test_entry_sql.py holds this against generated rows,
tampered columns included.
"""

from __future__ import annotations

from shadan.audit.entry import FIELDS, JSON_FIELDS


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


def _entry_expression() -> str:
    keys = sorted([*FIELDS, "v"])
    parts: list[str] = []
    for position, name in enumerate(keys):
        literal = ("{" if position == 0 else ",") + f'"{name}":'
        parts += [f"'{literal}1'"] if name == "v" else [f"'{literal}'", _archived_value(name)]
    # One concat call (a chain of `||` costs twice as much). concat leaves a NULL value out: the key
    # is then followed by ',' or '}', which no canonical entry has, so such a row can never match.
    return "encode(concat(" + ", ".join(parts) + ", '}'))"


# The entry an archive segment's decoded columns stand for.
ARCHIVED_ENTRY = _entry_expression()
