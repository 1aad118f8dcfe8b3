"""A worker's check of the stored subtree hashes (columnar_chunks.ChunkChecker) in their tiles
(node_keys.py): chunks of whole tiles, where a node's place in the key range follows from its key, and
chunks smaller than a tile or at the tree's end, where the range has places the tree has not filled.

As in test_columnar_index.py the worker's own answer is asked for: a worker that wrongly calls a chunk
dirty still gives the right report, only far slower, and one that vouches for a wrong node hides it.
"""

from __future__ import annotations

import pytest
from audit_support import event
from sqlalchemy import Engine, text

from shadan.audit.columnar_chunks import ChunkChecker
from shadan.audit.log import SqlAccessLog
from shadan.audit.merkle import NodeId
from shadan.audit.node_keys import node_key
from shadan.audit.verify_chunks import adbc_database
from shadan.services.audit_log import AuditLogService

SIZE = 1100  # two whole tiles of levels 1-8 and part of a third; the tier of levels 9-16 begun


@pytest.fixture
def sequenced(engine: Engine, service: AuditLogService) -> None:
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(i + 1) for i in range(SIZE)])
    service.checkpoint()


def vouched(engine: Engine, begin: int, end: int, level: int) -> bool:
    checker = ChunkChecker(adbc_database(engine.url), None)
    try:
        return checker.check(begin, end, level) is not None
    finally:
        checker.close()


@pytest.mark.usefixtures("sequenced")
@pytest.mark.parametrize(
    ("begin", "end", "level"),
    [(0, 1024, 10), (512, 1024, 9), (1024, SIZE, 10), (256, 512, 8), (1096, SIZE, 2)],
    ids=["whole tiles", "one tile", "the tree's end", "half a tile", "a small chunk at the end"],
)
def test_an_intact_chunk_is_vouched_for(engine: Engine, begin: int, end: int, level: int) -> None:
    assert vouched(engine, begin, end, level)


@pytest.mark.usefixtures("sequenced")
@pytest.mark.parametrize(
    "node",
    [NodeId(1, 0), NodeId(3, 70), NodeId(8, 1), NodeId(9, 0), NodeId(10, 0)],
    ids=["first of a tile", "inside a tile", "a tile's top", "levels 9-16", "the chunk's root"],
)
@pytest.mark.parametrize("tampering", ["changed", "deleted"])
def test_a_wrong_or_missing_node_makes_its_chunk_dirty(
    engine: Engine, owner_engine: Engine, node: NodeId, tampering: str
) -> None:
    statement = {
        "changed": "UPDATE log_nodes SET hash = :bad WHERE node_key = :key",
        "deleted": "DELETE FROM log_nodes WHERE node_key = :key",
    }[tampering]
    with owner_engine.begin() as connection:
        connection.execute(text(statement), {"key": node_key(node), "bad": b"\x00" * 32})
    assert not vouched(engine, 0, 1024, 10)
    assert vouched(engine, 1024, SIZE, 10)  # not its nodes


@pytest.mark.usefixtures("sequenced")
def test_a_neighbours_node_in_the_range_is_not_the_chunks_business(
    engine: Engine, owner_engine: Engine
) -> None:
    """Leaves 256-511 are half of the first tile: their chunk's key range holds nodes of leaves 0-255
    too, whose loss is that chunk's finding."""
    with owner_engine.begin() as connection:
        connection.execute(
            text("DELETE FROM log_nodes WHERE node_key = :key"), {"key": node_key(NodeId(8, 0))}
        )
    assert vouched(engine, 256, 512, 8)
    assert not vouched(engine, 0, 256, 8)
