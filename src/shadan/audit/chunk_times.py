"""A worker's check of a chunk's time spans (time_spans.py), in DuckDB: every event's time lies within its
block's span.

The time must be the one the database's view computes, which DuckDB cannot always say: it vouches only
for an entry whose top-level `ts` it is sure to read as the database does, and a chunk holding any other
entry is left to the parent, which asks the database itself (`time_spans.first_uncovered`).

Sure means: DuckDB reads the entry's fields as the database does (`fields_sure`, chunk_fields.py), and
the `ts` is a string of the canonical shape (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). On SQLite the view's `ts`
is that string's first 26 characters with a space for the `T`; on PostgreSQL its timestamptz, which
DuckDB casts alike for a valid time in UTC (a time that is none, like 30 February, is NULL here and the
chunk goes to the parent).
"""

from __future__ import annotations

import pyarrow as pa

from shadan.audit.chunk_fields import EntryCheck
from shadan.audit.span_blocks import BLOCK

_CANONICAL = "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][.][0-9]{6}Z"
_VIEW_TIME = {"sqlite": "replace(substr({0}, 1, 26), 'T', ' ')", "postgresql": "try_cast({0} AS TIMESTAMPTZ)"}
# The blocks of the chunk's events whose times DuckDB cannot vouch for or their span does not cover. Times
# of the canonical shape sort as their text (fixed width, the largest unit first), so only each block's
# earliest and latest are converted to the view's `ts`.
_UNCOVERED = {
    dialect: (  # noqa: S608 -- fixed text
        "SELECT count(*) FROM (SELECT seq // {block} AS block, min(ts) AS low, max(ts) AS high,"
        " bool_and(coalesce(fields_sure AND regexp_full_match(ts, '{canonical}'), false)) AS sure"
        " FROM chunk_fields GROUP BY block)"
        " b LEFT JOIN chunk_spans s ON s.block = b.block"
        " WHERE NOT coalesce(b.sure AND s.earliest <= {low} AND s.latest >= {high}, false)"
    ).format(
        block=BLOCK,
        canonical=_CANONICAL,
        low=_VIEW_TIME[dialect].format("b.low"),
        high=_VIEW_TIME[dialect].format("b.high"),
    )
    for dialect in _VIEW_TIME
}
# A chunk's spans, each time as the database holds it. On SQLite a value that is not text compares
# otherwise (a BLOB is greater than any text): such a span is left out, and its events then go to the
# parent.
SPANS = {
    "sqlite": "SELECT block, earliest, latest FROM log_time_spans WHERE block BETWEEN {low} AND {high}"
    " AND typeof(earliest) = 'text' AND typeof(latest) = 'text' ORDER BY block",
    "postgresql": "SELECT block, earliest, latest FROM log_time_spans WHERE block BETWEEN {low} AND {high}"
    " ORDER BY block",
}
_TIME = {"sqlite": pa.string(), "postgresql": pa.timestamp("us", tz="UTC")}


def span_rows(dialect: str) -> pa.Schema:
    """The columns of a chunk's spans as read (the driver infers types; an empty result has none)."""
    return pa.schema([("block", pa.int64()), ("earliest", _TIME[dialect]), ("latest", _TIME[dialect])])


def times_check(dialect: str, spans: pa.Table) -> EntryCheck:
    """The check that DuckDB vouches for each event's time lying within its block's span (`spans`: rows
    of block, earliest and latest)."""
    return EntryCheck(_UNCOVERED[dialect], tables={"chunk_spans": spans})
