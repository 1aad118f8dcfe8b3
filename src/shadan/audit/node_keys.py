"""How a Merkle tree node is keyed in `log_nodes` (tree_tables.py): one integer, grouped in tiles.

The nodes are stored in tiles, as in C2SP tlog-tiles: a tile holds eight levels of one subtree, 256 nodes
on its lowest level and the 254 above them. Tier t holds levels 8t+1 to 8t+8 (level 0, the leaf hashes,
is `log_leaves`), and a node's key is

    (t << 58) + tile * 510 + the node's place in its tile

so a tile's 510 nodes are consecutive keys and the tiles of a tier follow each other without a gap. In a
tile, the four upper levels (30 nodes) come first, then its 16 subtrees of the four lower levels (30 nodes
each), each level by level. A path from a leaf to the root crosses one half of each: an inclusion proof's
nodes of levels 1-8 lie on about two neighbouring 4 KiB B-tree pages, those of 9-16 on two more, instead of
a page for every level, which is what a proof costs when the log is larger than memory. A tier's keys are
one range, and so is a run of whole tiles, for verification's reads. Apart from the table so that
verification's worker processes, which read the table through their own drivers, need not import
SQLAlchemy.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from shadan.audit.merkle import NodeId

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # nodes on a tile's lowest level
TILE_NODES = 2 * TILE_WIDTH - 2  # 256 + 128 + ... + 2
TIER_SHIFT = 58
_HALF = TILE_HEIGHT // 2
_HALF_WIDTH = 1 << _HALF
_HALF_NODES = 2 * _HALF_WIDTH - 2  # 16 + 8 + 4 + 2
# Where each level of a half tile starts in it: 0, 16, 24, 28.
_HALF_OFFSETS = tuple(2 * _HALF_WIDTH - (2 * _HALF_WIDTH >> step) for step in range(_HALF))

if TYPE_CHECKING:
    import numpy as np

    Indices = TypeVar("Indices", int, np.ndarray[Any, Any])


def tier_of(level: int) -> int:
    return (level - 1) // TILE_HEIGHT


def tier_start(tier: int) -> int:
    """The first key of a tier."""
    return tier << TIER_SHIFT


def tier_levels(tier: int) -> range:
    return range(tier * TILE_HEIGHT + 1, (tier + 1) * TILE_HEIGHT + 1)


def level_width(level: int) -> int:
    """How many nodes of `level` a tile holds."""
    return TILE_WIDTH >> ((level - 1) % TILE_HEIGHT)


def node_key(node: NodeId) -> int:
    return level_keys(node.level, node.index)


def level_keys(level: int, index: Indices) -> Indices:
    """The key of the node of `level` at `index`, or the keys of an array of indices (numpy's, for the
    verification workers: the same arithmetic, a column at a time)."""
    tier, step = divmod(level - 1, TILE_HEIGHT)
    tile, place = divmod(index, level_width(level))
    if step >= _HALF:  # the tile's upper half
        inner = _HALF_OFFSETS[step - _HALF] + place
    else:
        half, part = divmod(place, _HALF_WIDTH >> step)
        inner = _HALF_NODES * (1 + half) + _HALF_OFFSETS[step] + part
    keys: Indices = tier_start(tier) + tile * TILE_NODES + inner
    return keys


def node_of(key: int) -> NodeId:
    """The node a key stands for (a negative key stands for none: its level is below 1)."""
    tier, rest = divmod(key, 1 << TIER_SHIFT)
    tile, inner = divmod(rest, TILE_NODES)
    half, position = divmod(inner, _HALF_NODES)
    step = bisect_right(_HALF_OFFSETS, position) - 1
    part = position - _HALF_OFFSETS[step]
    if half == 0:
        step, place = step + _HALF, part
    else:
        place = (half - 1) * (_HALF_WIDTH >> step) + part
    return NodeId(tier * TILE_HEIGHT + step + 1, tile * (TILE_WIDTH >> step) + place)


def tier_key_ranges(wanted: Mapping[int, range]) -> dict[int, tuple[int, int]]:
    """The first and last key, in each tier, of the nodes `wanted` (level: its indices, none empty): what
    one range read of the tier returns, with the nodes of other leaves that lie between."""
    ranges: dict[int, tuple[int, int]] = {}
    for level, indices in wanted.items():
        low, high = level_keys(level, indices[0]), level_keys(level, indices[-1])
        known = ranges.get(tier_of(level))
        ranges[tier_of(level)] = (low, high) if known is None else (min(low, known[0]), max(high, known[1]))
    return ranges


def tile_key_range(tier: int, first_tile: int, last_tile: int) -> tuple[int, int]:
    """The first and last key of tiles first_tile..last_tile of a tier."""
    start = tier_start(tier)
    return start + first_tile * TILE_NODES, start + (last_tile + 1) * TILE_NODES - 1
