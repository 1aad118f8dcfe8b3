"""The time spans of the access log (`log_time_spans`): period searches without an index on `ts`.

An expression index on the entries' `ts` would cost every durable append (docs/web.md). The sequencer
reads each event it gives a leaf anyway, so with the leaves it writes, for each block of `BLOCK` seqs, the
earliest and latest `ts` of the block's sequenced events, computed by the database with the view's own
expression (event_view.py): a span cannot disagree with what a search filters on. A search for a period
reads only the blocks whose span meets the period, and the events above the sequencer's horizon, which
may have no span yet (log_search.py).

Sound whatever an event's clock says: a stray time only widens its block's span. Derived data an
attacker could narrow to hide events from a period search, so verification holds it against the entries
(`first_uncovered`; columnar_chunks.py in the workers): every sequenced event's time must lie within its
block's span. Covering, not equal: a span is never narrowed again (retention deletes events and leaves
the spans; PostgreSQL commits seqs out of order, so a block's events may come in several batches).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Label,
    bindparam,
    literal_column,
    select,
    text,
    type_coerce,
    update,
)

from shadan.audit.event_view import column_expression
from shadan.audit.span_blocks import BLOCK, block_of
from shadan.audit.tree_store import insert_rows
from shadan.audit.tree_tables import SPAN_TIME, log_time_spans

MOST_RANGES = 8  # seq ranges a period search reads at most (the closest are merged: reading more is sound)

Time = TypeVar("Time", str, dt.datetime)  # SQLite's text of `ts`, PostgreSQL's timestamptz
Span = tuple[Time, Time]


def event_time(dialect: str) -> Label[Any]:
    """The view's `ts` of the entry (the `entry` column of a select's FROM), as the database computes it."""
    return literal_column(column_expression(dialect, "ts"), SPAN_TIME).label("ts")


def widened(
    stored: Mapping[int, Span[Time]], times: Iterable[tuple[int, Time | None]]
) -> dict[int, Span[Time]]:
    """The spans that must change so that each (seq, ts) lies within its block's span: the stored ones
    widened and those of blocks without a span yet. An event without a time (the view's `ts` is NULL)
    matches no period and needs none."""
    spans: dict[int, Span[Time]] = {}
    for seq, ts in times:
        if ts is None:
            continue
        block = block_of(seq)
        earliest, latest = spans.get(block) or stored.get(block) or (ts, ts)
        spans[block] = (min(earliest, ts), max(latest, ts))
    return {block: span for block, span in spans.items() if stored.get(block) != span}


def stored_spans(connection: Connection, blocks: Iterable[int]) -> dict[int, Span[Any]]:
    """The stored spans of these blocks (none read when there are none: the sequencer's idle runs)."""
    wanted = sorted(blocks)
    if not wanted:
        return {}
    s = log_time_spans.c
    rows = connection.execute(select(s.block, s.earliest, s.latest).where(s.block.in_(wanted)))
    return {int(row.block): (row.earliest, row.latest) for row in rows}


def write_spans(
    connection: Connection, stored: Mapping[int, Span[Any]], spans: Mapping[int, Span[Any]]
) -> None:
    """Store the spans `widened` made: blocks in `stored` are updated, the others inserted."""
    new = [{"block": b, "earliest": e, "latest": last} for b, (e, last) in spans.items() if b not in stored]
    insert_rows(connection, log_time_spans, new)
    wider = [{"b": b, "e": e, "l": last} for b, (e, last) in spans.items() if b in stored]
    if wider:
        statement = update(log_time_spans).where(log_time_spans.c.block == bindparam("b"))
        connection.execute(statement.values(earliest=bindparam("e"), latest=bindparam("l")), wider)


def blocks_meeting(connection: Connection, since: dt.datetime | None, until: dt.datetime | None) -> list[int]:
    """The blocks whose span meets [since, until), in order, each once (also if the table's key was
    dropped). The period's bounds are compared as the view's `ts` is (its DateTime type), so a span and a
    search agree on what lies in a period."""
    s, view_time = log_time_spans.c, DateTime(timezone=True)
    query = select(s.block).distinct().order_by(s.block)
    if since is not None:
        query = query.where(type_coerce(s.latest, view_time) >= since)
    if until is not None:
        query = query.where(type_coerce(s.earliest, view_time) < until)
    return [int(block) for block in connection.execute(query).scalars()]


def seq_ranges(blocks: Sequence[int], tail: int) -> list[tuple[int, int | None]]:
    """The seq ranges [first, last] of these blocks (in order) and of every seq from `tail` up (last
    None): a run of blocks is one range, and at most MOST_RANGES are left, the smallest gaps closed."""
    runs: list[tuple[int, int]] = []
    for block in blocks:
        first, last = block * BLOCK, block * BLOCK + BLOCK - 1
        if runs and runs[-1][1] >= first - 1:  # adjacent, or the same block twice
            first, last = runs[-1][0], max(last, runs.pop()[1])
        runs.append((first, last))
    while runs and runs[-1][1] >= tail - 1:  # a run that reaches the tail joins it
        tail = min(tail, runs.pop()[0])
    return [*_fewest(runs, MOST_RANGES - 1), (tail, None)]


def _fewest(runs: list[tuple[int, int]], most: int) -> list[tuple[int, int]]:
    """At most `most` runs: the widest gaps between them stay, the others are closed."""
    if len(runs) <= most:
        return runs
    by_width = sorted(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])
    kept = set(by_width[len(runs) - most :])
    merged = [runs[0]]
    for gap, run in enumerate(runs[1:]):
        merged.append(run if gap in kept else (merged.pop()[0], run[1]))
    return merged


# Each sequenced event of leaves [first, end) whose time does not lie within its block's span: no span,
# a span NULL or narrower (as the database compares them, which is how a search does). Never through the
# view, which verification checks apart. The leaves' events are taken first, behind a fence on PostgreSQL
# (OFFSET 0: no condition is moved into the subquery), so that only they are read for their time: PostgreSQL
# otherwise tests `ts` while it scans the entries, the waiting ones too, and an entry that no one sequenced
# with a `ts` that is no time (written straight into the table) would stop the run instead of the report.
_UNCOVERED = (
    "SELECT min(x.seq) FROM (SELECT e.seq, e.entry FROM log_leaves l"
    " JOIN access_log_entries e ON e.seq = l.seq"
    " WHERE l.leaf_index >= :first AND l.leaf_index < :end{fence}) x"
    " LEFT JOIN log_time_spans z ON z.block = x.seq / {block}"
    " WHERE {ts} IS NOT NULL AND NOT coalesce(z.earliest <= {ts} AND z.latest >= {ts}, false)"
)
_FENCE = {"sqlite": "", "postgresql": " OFFSET 0"}  # SQLite takes OFFSET only after a LIMIT


def first_uncovered(connection: Connection, first: int, end: int) -> int | None:
    """The seq of the first event of leaves [first, end) whose time its block's span does not cover."""
    dialect = connection.dialect.name
    ts = column_expression(dialect, "ts")
    statement = text(_UNCOVERED.format(ts=ts, block=BLOCK, fence=_FENCE[dialect]))
    seq = connection.execute(statement, {"first": first, "end": end}).scalar_one()
    return None if seq is None else int(seq)
