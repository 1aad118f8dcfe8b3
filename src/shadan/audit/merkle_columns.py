"""RFC 6962 hashes of whole columns (Arrow in, Arrow out), for verification's millions of hashes.

`hashlib` pays a call and an OpenSSL context for every hash: about 0.5 µs for an entry's leaf and 0.28 µs
for a node on the reference machine, most of it the call, and verification makes two such hashes an
event. Here Apache DataFusion's `sha256` hashes a whole Arrow column in one call (Rust's `sha2`, which
uses the CPU's SHA instructions where it has them: 0.3 and 0.08 µs), and numpy lays out the prefixed
pairs of a level. The hashes are the very ones of merkle.leaf_hash and merkle.node_hash (tested against
them and the RFC 6962 vectors); only the way to call SHA-256 differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import uuid4

import numpy as np
import pyarrow as pa

from shadan.audit.merkle import HASH_SIZE, LEAF_PREFIX, NODE_PREFIX

_NODE_INPUT = 1 + 2 * HASH_SIZE


def leaf_hash_column(entries: pa.Array) -> pa.Array:
    """SHA-256(0x00 || entry) of every entry of a column of text (its UTF-8 bytes) or of bytes, as
    32-byte binary values."""
    if entries.null_count:
        raise ValueError("an entry is missing")  # concat would hash it as no bytes at all
    return _hashes(datafusion().leaf_hash, _as_bytes(entries))


def node_hash_column(below: pa.Array) -> pa.Array:
    """SHA-256(0x01 || left || right) of every pair (0-1, 2-3, ...) of a column of 32-byte hashes; an
    odd last hash has no sibling yet and no parent."""
    hashes = _hash_matrix(below)
    pairs = len(hashes) // 2
    inputs = np.empty((pairs, _NODE_INPUT), dtype=np.uint8)
    inputs[:, 0] = NODE_PREFIX[0]
    inputs[:, 1 : 1 + HASH_SIZE] = hashes[0 : 2 * pairs : 2]
    inputs[:, 1 + HASH_SIZE :] = hashes[1 : 2 * pairs : 2]
    offsets = np.arange(0, (pairs + 1) * _NODE_INPUT, _NODE_INPUT, dtype=np.int32)
    column = pa.Array.from_buffers(pa.binary(), pairs, [None, pa.py_buffer(offsets), pa.py_buffer(inputs)])
    return _hashes(datafusion().node_hash, column)


def subtree_level_columns(leaves: pa.Array, top: int) -> list[pa.Array]:
    """levels[l][i]: the hash of the complete subtree over leaves [i·2**l, (i+1)·2**l), for every l ≤ top
    that has one (merkle.subtree_levels, a column a level)."""
    levels = [leaves]
    while len(levels) <= top and len(levels[-1]) > 1:
        levels.append(node_hash_column(levels[-1]))
    return levels


def subtree_root_column(leaves: pa.Array, level: int) -> bytes:
    """The hash of the complete subtree of 2**level leaves (merkle.subtree_root)."""
    root: bytes = subtree_level_columns(leaves, level)[level][0].as_py()
    return root


def _as_bytes(column: pa.Array) -> pa.Array:
    """Text as its UTF-8 bytes (Arrow's cast copies nothing); bytes as they are."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.large_binary() if pa.types.is_large_string(kind) else pa.binary())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return column
    raise TypeError(f"entries must be text or bytes, not {kind}")


def _hash_matrix(hashes: pa.Array) -> Any:
    """A column of 32-byte values as an (n, 32) array of bytes, without copying them."""
    fixed = hashes.cast(pa.binary(HASH_SIZE))  # refuses a value of another length
    if fixed.null_count:
        raise ValueError("a hash is missing")
    data = fixed.buffers()[1]
    start = fixed.offset * HASH_SIZE
    matrix = np.frombuffer(data, dtype=np.uint8, count=len(fixed) * HASH_SIZE, offset=start)
    return matrix.reshape(-1, HASH_SIZE)


def _hashes(expression: Any, column: pa.Array) -> pa.Array:
    """`expression` (a SHA-256 of `value`) of every value of `column`."""
    session = datafusion().session
    name = f"column_{uuid4().hex}"
    # from_arrow registers the column under a name in the session: dropped again, or the session would
    # keep every column it was given (a worker's memory growing chunk by chunk).
    frame = session.from_arrow(pa.table({"value": column}), name=name)
    try:
        result = frame.select(expression.alias("hash")).to_arrow_table()
    finally:
        session.deregister_table(name)
    return result.column("hash").combine_chunks().cast(pa.binary())


@dataclass(frozen=True, slots=True)
class DataFusion:
    session: Any
    leaf_hash: Any  # SHA-256(0x00 || value)
    node_hash: Any  # SHA-256(value), of the prefixed pairs node_hash_column lays out


@cache
def datafusion() -> DataFusion:
    """The process's DataFusion session and hash expressions, made at the first hash: the servers and
    the CLI import this module at start-up (through the archive checker and verification) and most never
    hash a column, so DataFusion is not loaded for them (about 55 ms). One partition: the callers already
    keep every core busy (a worker process per core)."""
    from datafusion import SessionConfig, SessionContext, col, lit  # deferred on purpose, see above
    from datafusion import functions as df

    return DataFusion(
        SessionContext(SessionConfig().with_target_partitions(1)),
        df.sha256(df.concat(lit(LEAF_PREFIX), col("value"))),
        df.sha256(col("value")),
    )
