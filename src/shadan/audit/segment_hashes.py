"""Range maths of archive segments: tie a segment's leaves to a signed tree head without the rest of the log.

A leaf range [a, b) is tiled by the maximal aligned complete subtrees inside it (`merkle.range_nodes`);
their hashes are the range's *compact range*. Three compact ranges side by side — the left edge [0, first),
the segment [first, end), the right range [end, size) — merge into the compact range of [0, size): two
neighbours of equal size whose left one starts at a multiple of twice that size are siblings, and become
their parent. The right fold of what is left is the RFC 6962 tree head. So a segment's leaves, with the
left edge and right range hashes beside them, lead to the signed root, and any changed leaf or hash does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shadan.audit.merkle import NodeReader, ProofError, fold_right, node_hash, range_nodes, subtree_root

_Hash = TypeVar("_Hash")  # bytes, or a column's value


@dataclass(frozen=True, slots=True)
class Subtree:
    """The hash of the complete subtree over the leaves [first, end)."""

    first: int
    end: int
    hash: bytes


class SubtreeStack:
    """A compact range built left to right from leaves or from complete subtrees."""

    def __init__(self) -> None:
        self._stack: list[Subtree] = []

    @property
    def subtrees(self) -> tuple[Subtree, ...]:
        return tuple(self._stack)

    def push_leaves(
        self,
        first: int,
        leaves: Sequence[_Hash],
        root: Callable[[Sequence[_Hash], int], bytes],
    ) -> None:
        """Leaves [first, first + len(leaves)): pushed as the complete subtrees that tile them, each
        built a level at a time by `root` (merkle.subtree_root for a list, merkle_columns for a column):
        the same stack as pushing them one by one, at a fraction of the cost."""
        for node in range_nodes(first, first + len(leaves)):
            piece = leaves[node.begin - first : node.end - first]
            self.push(Subtree(node.begin, node.end, root(piece, node.level)))

    def push(self, subtree: Subtree) -> None:
        size = subtree.end - subtree.first
        if size <= 0 or size & (size - 1) or subtree.first % size:
            raise ProofError(f"[{subtree.first}, {subtree.end}) is not a complete subtree")
        if self._stack and self._stack[-1].end != subtree.first:
            raise ProofError(f"[{subtree.first}, {subtree.end}) does not follow leaf {self._stack[-1].end}")
        self._stack.append(subtree)
        while len(self._stack) > 1:
            left, right = self._stack[-2], self._stack[-1]
            width = right.end - right.first
            if left.end - left.first != width or left.first % (2 * width):
                return
            self._stack[-2:] = [Subtree(left.first, right.end, node_hash(left.hash, right.hash))]


def segment_subtrees(first: int, leaves: Iterable[bytes]) -> tuple[Subtree, ...]:
    """The compact range of the leaves [first, first + len(leaves))."""
    stack = SubtreeStack()
    stack.push_leaves(first, list(leaves), subtree_root)
    return stack.subtrees


def stored_subtrees(read: NodeReader, first: int, end: int) -> tuple[Subtree, ...]:
    """The compact range of [first, end) from stored subtree hashes (ProofError if one is missing)."""
    nodes = range_nodes(first, end)
    found = read(nodes)
    missing = next((n for n in nodes if n not in found), None)
    if missing is not None:
        raise ProofError(f"the stored tree lacks the subtree over leaves [{missing.begin}, {missing.end})")
    return tuple(Subtree(n.begin, n.end, found[n]) for n in nodes)


def has_shape(subtrees: Sequence[Subtree], first: int, end: int) -> bool:
    """Whether these are exactly the maximal complete subtrees that tile [first, end)."""
    return [(s.first, s.end) for s in subtrees] == [(n.begin, n.end) for n in range_nodes(first, end)]


def tree_head(*parts: Sequence[Subtree]) -> bytes:
    """MTH(D[0:size]) from compact ranges that tile [0, size) left to right (ProofError if they do not)."""
    stack = SubtreeStack()
    for part in parts:
        for subtree in part:
            stack.push(subtree)
    merged = stack.subtrees
    if not merged or merged[0].first != 0:
        raise ProofError("the ranges do not start at leaf 0")
    if not has_shape(merged, 0, merged[-1].end):
        raise ProofError("the ranges do not merge into a tree head")
    return fold_right([s.hash for s in merged])
