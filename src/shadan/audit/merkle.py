"""RFC 6962 / RFC 9162 Merkle tree hashing, tree heads, inclusion and consistency proofs.

Storage model (why it scales to 10M+ leaves): every *complete* subtree is hashed exactly once, when its last
leaf arrives, and stored under its `NodeId` (level, index) — level 0 are the leaf hashes. Any RFC 6962
subtree hash MTH(D[a:b]) that a tree head or a proof needs is then the right fold of the few complete
subtrees that tile [a, b) (`range_nodes`), so a root costs at most log2(n) stored hashes and a proof at most
2·log2(n): one point lookup each, never a rehash of the leaves. Appending keeps a *compact range* (the
complete subtrees on the right edge, one per set bit of the size), which yields the new complete subtrees
as a by-product. This is the layout of tiled logs without the tiles; packing levels into tiles is a later
space optimisation, not a change of hashes.

Functions that need stored hashes take a `NodeReader`: given node ids, return their hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
_Hash = TypeVar("_Hash")  # bytes, or a column's value (merkle_columns.py)


class ProofError(ValueError):
    """A proof, size or hash that cannot be right."""


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The complete subtree of 2**level leaves starting at leaf index << level."""

    level: int
    index: int

    @property
    def begin(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


NodeReader = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (RFC 6962 `k`), for size >= 2."""
    return 1 << ((size - 1).bit_length() - 1)


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The maximal aligned complete subtrees that tile [begin, end), left to right."""
    if not 0 <= begin <= end:
        raise ProofError(f"bad range [{begin}, {end})")
    nodes: list[NodeId] = []
    while begin < end:
        # The largest block aligned at `begin` that still fits before `end`.
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length() - 1
        while (1 << level) > end - begin:
            level -= 1
        nodes.append(NodeId(level, begin >> level))
        begin += 1 << level
    return nodes


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of a subtree from its tiling complete subtrees: H(h0, H(h1, ... H(hk-1, hk)))."""
    if not hashes:
        raise ProofError("no hashes to fold")
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


def root_at(size: int, read: NodeReader) -> bytes:
    """The tree head hash MTH(D[0:size]) from stored complete subtrees."""
    if size == 0:
        return EMPTY_ROOT
    return _subtree_hashes([(0, size)], read)[0]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1), in proof order."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, whole = 0, new_size, True
    while old_size != hi:
        k = split_point(hi - lo)
        if old_size <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            whole = False
    if not whole:
        # The old tree's last subtree is not itself a subtree head of the old root: the proof carries it.
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    return _subtree_hashes(inclusion_ranges(index, size), read)


def consistency_proof(old_size: int, new_size: int, read: NodeReader) -> list[bytes]:
    return _subtree_hashes(consistency_ranges(old_size, new_size), read)


def _subtree_hashes(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    plans = [range_nodes(a, b) for a, b in ranges]
    wanted = sorted({node for plan in plans for node in plan})
    found = read(wanted)
    missing = [node for node in wanted if node not in found]
    if missing:
        raise ProofError(f"stored tree lacks subtree hashes {missing[:3]}")
    return [fold_right([found[node] for node in plan]) for plan in plans]


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `leaf` is at `index` of the tree with `root`."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    _check_hashes([leaf, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    return r


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the old tree is a prefix of the new one."""
    _check_hashes([old_root, new_root, *proof])
    if not 0 <= old_size <= new_size:
        raise ProofError(f"size went back from {old_size} to {new_size}")
    if old_size in (0, new_size):
        if proof:
            raise ProofError("consistency proof must be empty here")
        if old_size == new_size and old_root != new_root:
            raise ProofError("same size, different root hashes")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not match the root hashes")


def _check_hashes(hashes: Iterable[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError("a hash is not 32 bytes long")


class CompactRange:
    """The right edge of a growing tree: one complete-subtree hash per set bit of the size.

    `append` reports every complete subtree it finishes (level >= 1) to `on_node`, so the caller can
    store it; the root of the current size is the right fold of the edge.
    """

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != size.bit_count():
            raise ProofError(f"a tree of size {size} has {size.bit_count()} edge hashes, not {len(edge)}")
        self.size = size
        self._edge = list(edge)

    @property
    def edge(self) -> tuple[bytes, ...]:
        return tuple(self._edge)

    def append(self, leaf: bytes, on_node: Callable[[NodeId, bytes], None] | None = None) -> None:
        index, h, level = self.size, leaf, 0
        while (index >> level) & 1:
            h = node_hash(self._edge.pop(), h)
            level += 1
            if on_node is not None:
                on_node(NodeId(level, index >> level), h)
        self._edge.append(h)
        self.size += 1

    def root(self) -> bytes:
        return fold_right(self._edge) if self._edge else EMPTY_ROOT


def subtree_levels(leaves: Sequence[bytes], top: int) -> list[list[bytes]]:
    """levels[l][i]: the hash of the complete subtree over leaves [i·2**l, (i+1)·2**l) of `leaves`, for
    every l ≤ top that has one. Built a level at a time (one comprehension per level, no per-node calls):
    verification hashes millions of nodes this way."""
    sha256 = hashlib.sha256
    levels = [list(leaves)]
    while len(levels) <= top and len(levels[-1]) > 1:
        below = levels[-1]
        pairs = zip(below[0::2], below[1::2], strict=False)  # an odd last hash has no sibling yet
        levels.append([sha256(NODE_PREFIX + a + b).digest() for a, b in pairs])
    return levels


def subtree_root(leaves: Sequence[bytes], level: int) -> bytes:
    """The hash of the complete subtree of 2**level leaves."""
    return subtree_levels(leaves, level)[level][0]


def edge_of(levels: Sequence[Sequence[_Hash]], count: int) -> tuple[_Hash, ...]:
    """The compact range of the first `count` leaves, from `subtree_levels` (count < 2**len(levels))."""
    edge, start = [], 0
    for level in reversed(range(len(levels))):
        if count >> level & 1:
            edge.append(levels[level][start >> level])
            start += 1 << level
    return tuple(edge)
