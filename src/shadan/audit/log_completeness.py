"""Which events are in the tree, and what else is stored beside it.

Verification's checks after the leaves (verification.py) — nothing stored outside the tree, no event
left out of it — ask about every row, so both first ask the cheap question the index answers, and only
when its answer is not the expected one the exact, scanning one that names the first bad row. The events
still waiting for a leaf (above the horizon) are the sequencer's work and the log status's count.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select

from shadan.audit.log import access_log_entries
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import NODE_KEY_SHIFT, node_key
from shadan.audit.seq_span import SeqSpan
from shadan.audit.tree_tables import log_leaves, log_nodes


def nodes_outside(connection: Connection, size: int) -> int | None:
    """The number of stored subtree hashes if some lie outside a tree of `size` leaves, else None.

    Called once the stream compared every position inside the tree: then a node can only be wrong by
    being outside, past the last index of its level or at a level the tree does not have, and the ends of
    each level's key range (primary-key lookups) show that without counting the table.
    """
    key = log_nodes.c.node_key
    # Two statements: SQLite answers min() or max() alone from the key's ends, both at once by a scan.
    low = connection.execute(select(func.min(key))).scalar_one()
    high = connection.execute(select(func.max(key))).scalar_one()
    top = size.bit_length() - 1  # the highest level with a complete subtree
    inside = low is None if top < 1 else low is not None and low >= node_key(NodeId(1, 0))
    for level in range(1, top + 1):
        if not inside:
            break
        first, last = node_key(NodeId(level, 0)), node_key(NodeId(level + 1, 0)) - 1
        end = connection.execute(select(func.max(key)).where(key.between(first, last))).scalar_one()
        inside = end == node_key(NodeId(level, (size >> level) - 1))
    if inside and (high is None or high >> NODE_KEY_SHIFT <= top):
        return None
    return int(connection.execute(select(func.count()).select_from(log_nodes)).scalar_one())


def first_unlogged(
    connection: Connection, horizon: int, leaf_count: int | None, spans: Sequence[SeqSpan] = ()
) -> int | None:
    """The first event at or below the horizon that is not a leaf.

    `leaf_count` is the number of leaves when verification found each of them with its event (and no
    deletion excused any), None otherwise. Then equal counts of events and leaves up to the horizon mean
    none is unlogged: counts instead of joining every event. The events up to the horizon are counted
    from the `spans` of the worker processes' chunks when they cover the tree (`events_up_to`), or as all
    of them less the few above it (a count of all rows reads the smallest index: 0.3 s at 10M; one of
    rows up to a seq would read the entries themselves); the leaves likewise, their count being known."""
    if leaf_count is not None:
        events = events_up_to(connection, horizon, spans)
        if events is None:
            count = select(func.count()).select_from(access_log_entries)
            events = (
                connection.execute(count).scalar_one()
                - connection.execute(count.where(access_log_entries.c.seq > horizon)).scalar_one()
            )
        above = select(func.count()).select_from(log_leaves).where(log_leaves.c.seq > horizon)
        if events == leaf_count - connection.execute(above).scalar_one():
            return None
    below = _without_leaf(access_log_entries.c.seq <= horizon, log_leaves.c.seq <= horizon)
    first = connection.execute(below.order_by(access_log_entries.c.seq).limit(1)).scalar_one_or_none()
    return None if first is None else int(first)


def events_up_to(connection: Connection, horizon: int, spans: Sequence[SeqSpan]) -> int | None:
    """The number of events at or below the horizon, from the chunks' spans in leaf order: what each
    counted between its lowest and highest seq, and the events outside every span, counted here by key
    range (below the first, in the gaps between spans, above the last up to the horizon: usually none).
    None unless the spans rise one after another and end at or below the horizon."""
    if not spans or spans[-1].highest > horizon:
        return None
    if any(later.lowest <= earlier.highest for earlier, later in pairwise(spans)):
        return None
    seq = access_log_entries.c.seq
    outside = [seq < spans[0].lowest, and_(seq > spans[-1].highest, seq <= horizon)]
    outside += [
        and_(seq > earlier.highest, seq < later.lowest)
        for earlier, later in pairwise(spans)
        if later.lowest - earlier.highest > 1
    ]
    count = select(func.count()).select_from(access_log_entries)
    return sum(span.events for span in spans) + sum(
        connection.execute(count.where(where)).scalar_one() for where in outside
    )


def pending_events(connection: Connection, horizon: int) -> int:
    """Events above the horizon without a leaf: committed, not sequenced yet."""
    pending = unsequenced(horizon, access_log_entries.c.seq).subquery()
    return int(connection.execute(select(func.count()).select_from(pending)).scalar_one())


def unsequenced(horizon: int, *columns: ColumnElement[Any]) -> Select[Any]:
    """These columns of the events above the horizon that have no leaf yet. The leaves are bounded by
    the horizon too: PostgreSQL otherwise merges the events with every leaf from the first, at every
    sequencer batch and every status page (a cost that grows with the log)."""
    return _without_leaf(access_log_entries.c.seq > horizon, log_leaves.c.seq > horizon, *columns)


def _without_leaf(
    events: ColumnElement[bool], leaves: ColumnElement[bool], *columns: ColumnElement[Any]
) -> Select[Any]:
    """Events matching `events` that no leaf matching `leaves` names."""
    leaf = and_(log_leaves.c.seq == access_log_entries.c.seq, leaves)
    return (
        select(*(columns or (access_log_entries.c.seq,)))
        .select_from(access_log_entries)
        .outerjoin(log_leaves, leaf)
        .where(events, log_leaves.c.seq.is_(None))
    )
