"""The search index of the access log: which sequenced events name a resource id (`log_resource_ids`).

"Who viewed supply point X" must not read every event's JSON list: over five years of events that is a
scan of hundreds of millions of rows. The sequencer writes, with each leaf and in the same transaction,
one row per distinct string id in the event's `resource_ids` as the database reads the entry; a search
reads the index for sequenced events and scans only the few events not sequenced yet (log_search.py).

An index is derived data an attacker could edit to hide an access from the auditors' search, so
verification holds it against the events (`first_index_difference`): every id of every sequenced event
must be in it, and nothing else of any event that exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Label,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)

from shadan.audit.log import access_log_entries
from shadan.audit.log_completeness import unsequenced
from shadan.audit.tree_tables import log_resource_ids, log_state

# An event's `resource_ids` list as the database reads the `entry` column of a select's FROM (under the
# view's key: the first of repeated keys on SQLite, the last on PostgreSQL): the one reading of the list
# that the sequencer indexes and verification holds the index to. On SQLite the list as JSON text, NULL for
# any other value (json_extract gives a string as bare text); on PostgreSQL the list's strings as a jsonb
# array, empty for any other value, from one parse of the entry (the view's column and a test of its type
# would parse it twice: verification's reading took 1.8 times as long).
_LISTED = {
    "sqlite": (
        "CASE WHEN json_type(entry, '$.resource_ids') = 'array'"
        " THEN json_extract(entry, '$.resource_ids') END"
    ),
    "postgresql": (
        "jsonb_path_query_array(entry::jsonb,"
        " 'strict $.resource_ids[*] ? (@.type() == \"string\")', '{}', true)"
    ),
}
# The list's strings, a row each (`ids.value`): the FROM item and its condition. Both tables check that
# each entry is JSON; text stored after an owner dropped the check lists nothing on SQLite rather than
# stopping the query (on PostgreSQL the cast stops it, as it stops every read of the view).
_STRINGS = {
    "sqlite": (
        f"json_each(CASE WHEN json_valid(entry) THEN coalesce({_LISTED['sqlite']}, '[]') ELSE '[]' END) ids",
        "ids.type = 'text'",
    ),
    "postgresql": (f"jsonb_array_elements_text({_LISTED['postgresql']}) ids(value)", "true"),
}


def listed_ids(dialect: str) -> Label[Any]:
    """An event's `resource_ids` as the database reads it (`_LISTED`), not as Python would read the entry."""
    return literal_column(_LISTED[dialect], JSON).label("resource_ids")


def naming(dialect: str, resource_id: str) -> ColumnElement[bool]:
    """Whether an event's list names `resource_id`, an id its JSON text holds as itself (ASCII digits: a
    canonical supply point id, a seq). Sequenced events through the index; the few above the sequencer's
    horizon that have no leaf yet by a LIKE that narrows cheaply, then by their list read as the sequencer
    will index it (`_STRINGS`). The horizon is read in the statement, from the same snapshot."""
    if not (resource_id.isascii() and resource_id.isdigit()):
        # Any other id may be escaped in the JSON text, where the LIKE would miss it.
        raise ValueError(f"not an id of ASCII digits: {resource_id!r}")
    seq = access_log_entries.c.seq
    indexed = select(log_resource_ids.c.seq).where(log_resource_ids.c.resource_id == resource_id)
    horizon = select(func.coalesce(func.max(log_state.c.horizon_seq), 0)).scalar_subquery()
    strings, condition = _STRINGS[dialect]
    listed = (
        select(literal(1))
        .select_from(text(strings))
        .where(text(condition), literal_column("ids.value") == resource_id)
        .exists()
    )
    waiting = unsequenced(horizon).where(access_log_entries.c.entry.like(f'%"{resource_id}"%'), listed)
    return seq.in_(union_all(indexed, waiting))


def index_rows(events: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """The index rows of events read with `listed_ids` (rows of `seq` and `resource_ids`): one for each
    distinct string of a list; anything else indexes nothing."""
    return [
        {"resource_id": _storable(resource_id), "seq": row["seq"]}
        for row in events
        if isinstance(row["resource_ids"], list)
        for resource_id in dict.fromkeys(i for i in row["resource_ids"] if isinstance(i, str))
    ]


def _storable(resource_id: str) -> str:
    """The id, if a database can store it. A lone surrogate escape (`"\\ud800"`, only in an entry written
    straight into SQLite's table) cannot be: UnicodeEncodeError here, before the sequencer takes its lock,
    where it can still name the event."""
    resource_id.encode("utf-8")
    return resource_id


def _expected(dialect: str) -> str:
    """What the index must hold for the leaves [:first, :end), from the stored entries themselves, read
    with `_LISTED` as the sequencer reads them; never through the view of the events, which verification
    checks apart."""
    strings, condition = _STRINGS[dialect]
    return (
        "SELECT ids.value AS resource_id, e.seq AS seq FROM log_leaves l"  # noqa: S608 -- fixed text
        f" JOIN access_log_entries e ON e.seq = l.seq, {strings}"
        f" WHERE l.leaf_index >= :first AND l.leaf_index < :end AND {condition}"
    )


# What it holds for the seqs of those leaves. Rows of events that are gone are left out: the missing
# event is verification's finding already (or excused by a deletion record), and such a row shows nothing.
_STORED = (
    "SELECT r.resource_id, r.seq FROM log_resource_ids r JOIN access_log_entries e ON e.seq = r.seq"
    " WHERE r.seq BETWEEN (SELECT min(seq) FROM log_leaves WHERE leaf_index >= :first AND leaf_index < :end)"
    " AND (SELECT max(seq) FROM log_leaves WHERE leaf_index >= :first AND leaf_index < :end)"
)
# Rows for events above the last leaf: the sequencer indexes an event only with its leaf.
_AHEAD = (
    "SELECT r.seq FROM log_resource_ids r JOIN access_log_entries e ON e.seq = r.seq"
    " WHERE r.seq > (SELECT coalesce(max(seq), 0) FROM log_leaves) ORDER BY r.seq LIMIT 1"
)


def first_index_difference(connection: Connection, first: int, end: int) -> tuple[int, bool] | None:
    """The first (seq, missing) where the index differs from the events of leaves [first, end): `missing`
    when an id of the event is not indexed, otherwise the index names an id the event does not hold."""
    expected = _expected(connection.dialect.name)
    for missing, query in ((True, f"{expected} EXCEPT {_STORED}"), (False, f"{_STORED} EXCEPT {expected}")):
        row = connection.execute(
            text(f"SELECT seq FROM ({query}) AS differing ORDER BY seq LIMIT 1"),  # noqa: S608 -- fixed text
            {"first": first, "end": end},
        ).first()
        if row is not None:
            return int(row.seq), missing
    return None


def first_indexed_ahead(connection: Connection) -> int | None:
    """The seq of the first event indexed although it has no leaf yet, if any."""
    row = connection.execute(text(_AHEAD)).first()
    return None if row is None else int(row.seq)
