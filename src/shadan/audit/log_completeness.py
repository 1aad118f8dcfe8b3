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
from shadan.audit.node_keys import (
    TILE_NODES,
    TILE_WIDTH,
    node_of,
    tier_levels,
    tier_of,
    tier_start,
    tile_key_range,
)
from shadan.audit.seq_span import SeqSpan
from shadan.audit.tree_tables import log_leaves, log_nodes


def nodes_outside(connection: Connection, size: int) -> int | None:
    """The number of stored subtree hashes if some lie outside a tree of `size` leaves, else None.

    Called once the stream compared every position inside the tree: then a node can only be wrong by
    being outside, and the key layout (node_keys.py) shows that without counting the table. A tier's
    tiles before its last are whole (each key in them is a node of the tree), so a stored key is outside
    only if it lies below the first tier, in a tier the tree does not reach, or from a tier's last tile on
    at a place the tree has not filled: the key's ends and the keys from each last tile to its tier's end
    (at most a tile's 510 keys a tier, read by primary key) show it.
    """
    key = log_nodes.c.node_key
    # Two statements: SQLite answers min() or max() alone from the key's ends, both at once by a scan.
    low = connection.execute(select(func.min(key))).scalar_one()
    high = connection.execute(select(func.max(key))).scalar_one()
    tiers = tier_of(size.bit_length() - 1) + 1 if size > 1 else 0
    inside = low is None if tiers == 0 else low is not None and low >= 0 and high < tier_start(tiers)
    for tier in range(tiers):
        if not inside:
            break
        last_tile = ((size >> tier_levels(tier)[0]) - 1) // TILE_WIDTH
        first, _ = tile_key_range(tier, last_tile, last_tile)
        tail = (
            select(key)
            .where(key.between(first, tier_start(tier + 1) - 1))
            .order_by(key)
            .limit(TILE_NODES + 1)
        )
        keys = connection.execute(tail).scalars().all()
        inside = len(keys) <= TILE_NODES and all(_in_tree(node_of(int(k)), size) for k in keys)
    if inside:
        return None
    return int(connection.execute(select(func.count()).select_from(log_nodes)).scalar_one())


def _in_tree(node: NodeId, size: int) -> bool:
    return node.level >= 1 and node.end <= size


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


def unsequenced(horizon: int | ColumnElement[int], *columns: ColumnElement[Any]) -> Select[Any]:
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
