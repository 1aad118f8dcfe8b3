"""Range maths of archive segments: a segment's own compact range, and left edge + segment + right range
folding into the RFC 6962 tree head — checked against the published 8-leaf vectors and a naive MTH."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from merkle_support import LEAVES, ROOTS, naive_root

from shadan.audit.merkle import ProofError, leaf_hash
from shadan.audit.segment_hashes import Subtree, SubtreeStack, has_shape, segment_subtrees, tree_head


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def split(hashes: list[bytes], first: int, end: int) -> bytes:
    return tree_head(
        segment_subtrees(0, hashes[:first]),
        segment_subtrees(first, hashes[first:end]),
        segment_subtrees(end, hashes[end:]),
    )


@pytest.mark.parametrize(("first", "end"), [(0, 8), (0, 3), (3, 5), (5, 8), (1, 7), (4, 4)])
def test_reference_tree_from_three_parts(first: int, end: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES]
    assert split(hashes, first, end).hex() == ROOTS[-1]


@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(0, n))))
def test_any_split_gives_the_naive_root(case: tuple[int, int, int]) -> None:
    size, a, b = case
    first, end = min(a, b), max(a, b)
    hashes = leaves(size)
    assert split(hashes, first, end) == naive_root(hashes)


@given(st.integers(0, 300), st.integers(0, 300))
def test_a_segment_has_the_shape_of_its_range(first: int, count: int) -> None:
    subtrees = segment_subtrees(first, leaves(count))
    assert has_shape(subtrees, first, first + count)


def test_the_segment_subtrees_are_the_complete_subtrees() -> None:
    hashes = leaves(11)
    subtrees = segment_subtrees(5, hashes[5:11])
    # [5, 11) = [5, 6) + [6, 8) + [8, 10) + [10, 11)
    assert [(s.first, s.end) for s in subtrees] == [(5, 6), (6, 8), (8, 10), (10, 11)]
    assert subtrees[1].hash == naive_root(hashes[6:8])
    assert subtrees[2].hash == naive_root(hashes[8:10])


def test_a_changed_leaf_or_hash_changes_the_head() -> None:
    hashes = leaves(20)
    good = split(hashes, 6, 13)
    edited = list(hashes)
    edited[9] = leaf_hash(b"edited")
    assert split(edited, 6, 13) != good
    left = segment_subtrees(0, hashes[:6])
    forged = (Subtree(left[0].first, left[0].end, bytes(32)), *left[1:])
    assert tree_head(forged, segment_subtrees(6, hashes[6:13]), segment_subtrees(13, hashes[13:])) != good


def test_parts_must_be_aligned_and_adjacent() -> None:
    stack = SubtreeStack()
    with pytest.raises(ProofError, match="not a complete subtree"):
        stack.push(Subtree(1, 3, bytes(32)))  # two leaves, not aligned on two
    stack.push(Subtree(0, 2, bytes(32)))
    with pytest.raises(ProofError, match="does not follow"):
        stack.push(Subtree(3, 4, bytes(32)))


def test_a_head_needs_leaf_zero() -> None:
    hashes = leaves(8)
    with pytest.raises(ProofError, match="leaf 0"):
        tree_head(segment_subtrees(2, hashes[2:]))
