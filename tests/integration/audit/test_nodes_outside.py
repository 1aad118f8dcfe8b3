"""Verification's last tree check (log_completeness.nodes_outside): every stored subtree hash of a tree, in
its tiles (node_keys.py), is inside; one more key anywhere a tree of that size has no node is reported.

The tables hold every node of the tree (hashes do not matter here: the stream compares them), and the
strays are the places an attacker would pick: just past each level's last node, a level too high, the tile
after a tier's last, the tier above, and keys that name no node at all.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert

from shadan.audit.log_completeness import nodes_outside
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import TILE_NODES, node_key, node_of, tier_of, tier_start, tile_key_range
from shadan.audit.tree_tables import log_nodes

# Sizes around the tiles' edges: one tier and two, a last tile just begun or just full.
SIZES = (1, 2, 3, 30, 511, 512, 513, 1100, 2048, 4097)


def tree_nodes(size: int) -> list[NodeId]:
    return [NodeId(level, i) for level in range(1, size.bit_length()) for i in range(size >> level)]


def strays(size: int) -> list[int]:
    top = size.bit_length() - 1
    keys = {node_key(NodeId(level, size >> level)) for level in range(1, top + 2)}  # past each level's last
    for tier in range(tier_of(max(top, 1)) + 2):
        keys.add(tier_start(tier))  # the first key of a tier
        last_tile = ((size >> (tier * 8 + 1)) - 1) // 256 if size >> (tier * 8 + 1) else -1
        keys.add(tile_key_range(tier, last_tile + 1, last_tile + 1)[0])  # the tile after the last
        keys.add(tile_key_range(tier, max(last_tile, 0), max(last_tile, 0))[1])  # a last tile's last place
    keys.update({-1, tier_start(6), TILE_NODES * 3})
    inside = {node_key(n) for n in tree_nodes(size)}
    return sorted(k for k in keys if k not in inside)


def store(engine: Engine, keys: list[int]) -> None:
    with engine.begin() as connection:
        connection.execute(log_nodes.delete())
        if keys:
            connection.execute(insert(log_nodes), [{"node_key": k, "hash": bytes(32)} for k in keys])


@pytest.mark.parametrize("size", SIZES)
def test_the_nodes_of_a_tree_are_inside_and_every_stray_is_found(
    engine: Engine, owner_engine: Engine, size: int
) -> None:
    tree = [node_key(n) for n in tree_nodes(size)]
    store(owner_engine, tree)
    with engine.connect() as connection:
        assert nodes_outside(connection, size) is None
    for stray in strays(size):
        assert node_of(stray).level < 1 or node_of(stray).end > size  # a real stray, by the definition
        with owner_engine.begin() as connection:  # the app's role cannot delete the stray again
            connection.execute(insert(log_nodes).values(node_key=stray, hash=bytes(32)))
        with engine.connect() as connection:
            found = nodes_outside(connection, size)
        with owner_engine.begin() as connection:
            connection.execute(log_nodes.delete().where(log_nodes.c.node_key == stray))
        assert found == len(tree) + 1, (size, stray, node_of(stray))


def test_a_tree_with_a_node_missing_is_not_this_checks_finding(engine: Engine, owner_engine: Engine) -> None:
    """A missing node is the stream's finding (it compares every place inside the tree); here only what
    lies outside counts."""
    tree = [node_key(n) for n in tree_nodes(1100)]
    store(owner_engine, tree[:-1])
    with engine.connect() as connection:
        assert nodes_outside(connection, 1100) is None
