"""The tiled node keys: one key per node and back, tiles of consecutive keys, a proof in few tiles."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from shadan.audit.merkle import NodeId, inclusion_proof
from shadan.audit.node_keys import (
    TILE_NODES,
    level_width,
    node_key,
    node_of,
    tier_key_ranges,
    tier_levels,
    tier_of,
    tier_start,
    tile_key_range,
)

nodes = st.builds(NodeId, st.integers(1, 48), st.integers(0, (1 << 40) - 1))


@given(nodes)
def test_a_key_stands_for_its_node(node: NodeId) -> None:
    key = node_key(node)
    assert key >= 0
    assert node_of(key) == node


@given(nodes, nodes)
def test_two_nodes_never_share_a_key(one: NodeId, other: NodeId) -> None:
    assert (node_key(one) == node_key(other)) == (one == other)


def test_a_tile_is_its_510_nodes_and_tiles_follow_without_gaps() -> None:
    tile = [
        NodeId(level, 3 * level_width(level) + i)
        for level in tier_levels(1)
        for i in range(level_width(level))
    ]
    first, last = tile_key_range(1, 3, 3)
    assert sorted(node_key(n) for n in tile) == list(range(first, last + 1))
    assert last - first + 1 == TILE_NODES
    assert tile_key_range(1, 4, 4)[0] == last + 1
    assert node_key(NodeId(13, 0)) == tier_start(1) == tile_key_range(1, 0, 0)[0]  # the upper half first


@given(st.integers(0, (1 << 40) - 1), st.integers(0, 5))
def test_a_path_crosses_two_runs_of_30_keys_in_a_tile(leaf: int, tier: int) -> None:
    """The nodes above a leaf in a tile: four levels in one of its lower halves, four in its upper half."""
    path = sorted(node_key(NodeId(level, leaf >> level)) for level in tier_levels(tier))
    lower, upper = path[4:], path[:4]
    assert lower[-1] - lower[0] < 30
    assert upper[-1] - upper[0] < 30


def test_levels_are_grouped_in_tiers_of_eight() -> None:
    assert [tier_of(level) for level in (1, 8, 9, 16, 17)] == [0, 0, 1, 1, 2]
    assert list(tier_levels(0)) == list(range(1, 9))
    assert [level_width(level) for level in tier_levels(2)] == [256, 128, 64, 32, 16, 8, 4, 2]


def test_a_negative_key_is_no_node_of_a_tree() -> None:
    assert node_of(-1).level < 1


@given(st.integers(1, 40).map(lambda height: 1 << height), st.data())
def test_a_proofs_stored_nodes_lie_in_one_tile_a_tier(size: int, data: st.DataObject) -> None:
    """In a complete tree a proof is the path's siblings: what the layout is for."""
    index = data.draw(st.integers(0, size - 1))
    asked: list[NodeId] = []

    def read(wanted: Sequence[NodeId]) -> dict[NodeId, bytes]:
        asked.extend(wanted)
        return dict.fromkeys(wanted, bytes(32))

    inclusion_proof(index, size, read)
    tiles = {(tier_of(n.level), n.index // level_width(n.level)) for n in asked if n.level >= 1}
    assert len(tiles) == len({tier for tier, _ in tiles})


@given(st.integers(0, 1 << 20), st.integers(1, 1 << 12))
def test_a_tiers_key_range_spans_exactly_the_nodes_wanted_in_it(begin: int, count: int) -> None:
    """What verification reads for leaves [begin, begin + count): one range a tier, from the smallest key
    of the nodes completed there to the largest."""
    end = begin + count
    wanted = {
        level: range(begin >> level, end >> level)
        for level in range(1, end.bit_length())
        if begin >> level < end >> level
    }
    expected: dict[int, list[int]] = {}
    for level, indices in wanted.items():
        expected.setdefault(tier_of(level), []).extend(node_key(NodeId(level, i)) for i in indices)
    assert tier_key_ranges(wanted) == {tier: (min(keys), max(keys)) for tier, keys in expected.items()}
