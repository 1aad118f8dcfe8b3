"""How a Merkle tree node is keyed in `log_nodes` (tree_tables.py): one integer, (level << 48) | index.

A proof's 2·log2(n) nodes are then one `IN` list on the primary key (a statement compiled once), and each
level is a contiguous key range for verification. Apart from the table so that verification's worker
processes, which read the table through their own drivers, need not import SQLAlchemy.
"""

from __future__ import annotations

from shadan.audit.merkle import NodeId

NODE_KEY_SHIFT = 48


def node_key(node: NodeId) -> int:
    return (node.level << NODE_KEY_SHIFT) | node.index


def node_of(key: int) -> NodeId:
    return NodeId(key >> NODE_KEY_SHIFT, key & ((1 << NODE_KEY_SHIFT) - 1))
