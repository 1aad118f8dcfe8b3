"""Reading and writing the stored tree: leaf hashes, complete-subtree hashes, the sequencing lock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, insert, or_, select, text

from shadan.audit.merkle import NodeId, NodeReader
from shadan.audit.node_keys import node_key, node_of, tier_key_ranges
from shadan.audit.tree_tables import log_leaves, log_nodes

# One application-wide key for pg_advisory_xact_lock: "shadan log" in ASCII.
SEQUENCER_LOCK_KEY = 0x7368_6164_616E_6C67 & 0x7FFF_FFFF_FFFF_FFFF
# `IN` lists this long stay well under every driver's parameter limit.
_READ_CHUNK = 400


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the log's write lock, committed on success.

    PostgreSQL: a transaction-scoped advisory lock, shared by every app server on the database.
    SQLite: BEGIN IMMEDIATE takes the single write lock up front, so the transaction never has to upgrade
    a read lock later (which is where `database is locked` comes from); busy_timeout waits for it.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY})
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


# Built once: SQLAlchemy then reuses the compiled statements, whatever the number of ids.
_LEAVES_BY_INDEX = select(log_leaves.c.leaf_index, log_leaves.c.leaf_hash).where(
    log_leaves.c.leaf_index.in_(bindparam("ids", expanding=True))
)
_NODES_BY_KEY = select(log_nodes.c.node_key, log_nodes.c.hash).where(
    log_nodes.c.node_key.in_(bindparam("ids", expanding=True))
)


def node_reader(connection: Connection) -> NodeReader:
    def read(nodes: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for start in range(0, len(nodes), _READ_CHUNK):
            found.update(_read_chunk(connection, nodes[start : start + _READ_CHUNK]))
        return found

    return read


def _read_chunk(connection: Connection, nodes: Sequence[NodeId]) -> dict[NodeId, bytes]:
    found: dict[NodeId, bytes] = {}
    leaves = [n.index for n in nodes if n.level == 0]
    if leaves:
        rows = connection.execute(_LEAVES_BY_INDEX, {"ids": leaves})
        found.update({NodeId(0, int(i)): bytes(h) for i, h in rows})
    inner = [node_key(n) for n in nodes if n.level > 0]
    if inner:
        rows = connection.execute(_NODES_BY_KEY, {"ids": inner})
        found.update({node_of(int(k)): bytes(h) for k, h in rows})
    return found


def read_level_ranges(connection: Connection, begin: int, end: int) -> dict[NodeId, bytes]:
    """Every stored inner node that was completed by a leaf in [begin, end): its last leaf is in there.

    A tier's nodes of those leaves lie in one key range (node_keys.py), with nodes of neighbouring leaves
    around them in the first and last tile: read the range, keep the nodes asked for."""
    wanted: dict[int, range] = {}  # level: the indices of its nodes completed in [begin, end)
    level = 1
    while (1 << level) <= end:
        if begin >> level <= (end >> level) - 1:
            wanted[level] = range(begin >> level, end >> level)
        level += 1
    ranges = [log_nodes.c.node_key.between(low, high) for low, high in tier_key_ranges(wanted).values()]
    if not ranges:
        return {}
    rows = connection.execute(select(log_nodes.c.node_key, log_nodes.c.hash).where(or_(*ranges)))
    found = {node_of(int(k)): bytes(h) for k, h in rows}
    return {n: h for n, h in found.items() if n.index in wanted.get(n.level, ())}


def insert_nodes(connection: Connection, nodes: Mapping[NodeId, bytes]) -> None:
    insert_rows(connection, log_nodes, [{"node_key": node_key(n), "hash": h} for n, h in nodes.items()])


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Many rows of one shape in the connection's transaction. PostgreSQL takes them with COPY: an
    executemany sends a statement for each row, which made two thirds of the sequencer's time there."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = ", ".join(table.c[name].name for name in names)  # the table's own column names only
    driver: Any = connection.connection.driver_connection  # psycopg's, in this transaction
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
