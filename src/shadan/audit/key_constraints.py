"""Whether the log's tables still hold the keys verification relies on (verification.py).

Verification reads rows by their keys and counts them: an event by its seq, a leaf by its index and by
its event's seq, a subtree hash by its node key (a worker places a tier's hashes by their keys' order,
columnar_chunks.py). Each of those columns is declared unique, and only that makes one row a key. The
table owner can drop a constraint (PostgreSQL's `ALTER TABLE … DROP CONSTRAINT`; a rebuilt table on
SQLite) and then store a second row under a key: a forged event beside the logged one under the same seq,
which every page would show while each read by key still finds the logged one. So verification asks the
database, in its own snapshot, whether each key column still has a unique index over it alone.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, func, select, text

from shadan.audit.log import access_log_entries
from shadan.audit.tree_tables import log_leaves, log_nodes

KEYS: tuple[Column[int], ...] = (
    access_log_entries.c.seq,
    log_leaves.c.leaf_index,
    log_leaves.c.seq,
    log_nodes.c.node_key,
)

# A unique index over the column alone that holds for every row: not partial, not over an expression,
# not left invalid by a failed CREATE INDEX CONCURRENTLY. Read through the transaction's snapshot, as
# the rows are.
_POSTGRESQL_UNIQUE = text(
    "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
    " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] AND NOT a.attisdropped"
    " WHERE i.indrelid = to_regclass(:table) AND a.attname = :column AND i.indisunique AND i.indisvalid"
    " AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL)"
)


def keys_without_constraint(connection: Connection) -> list[Column[int]]:
    """The key columns of the log that no unique index covers any more, in the order of KEYS."""
    unique = _sqlite_unique if connection.dialect.name == "sqlite" else _postgresql_unique
    return [column for column in KEYS if not unique(connection, column.table.name, column.name)]


def first_duplicate(connection: Connection, column: Column[int]) -> int | None:
    """The smallest value the column holds more than once (a scan: asked only of a column that lost its
    constraint)."""
    query = select(column).group_by(column).having(func.count() > 1).order_by(column).limit(1)
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def _postgresql_unique(connection: Connection, table: str, column: str) -> bool:
    return bool(connection.execute(_POSTGRESQL_UNIQUE, {"table": table, "column": column}).scalar_one())


def _sqlite_unique(connection: Connection, table: str, column: str) -> bool:
    # The names are the tables' own (KEYS), never input: PRAGMA takes no bound parameters.
    columns = connection.exec_driver_sql(f"PRAGMA table_info({table})").all()
    primary = [row.name for row in columns if row.pk]
    if primary == [column]:
        return True  # the rowid itself (INTEGER PRIMARY KEY) or a key SQLite keeps unique
    for index in connection.exec_driver_sql(f"PRAGMA index_list({table})").all():
        if index.unique and not index.partial:
            covered = connection.exec_driver_sql(f"PRAGMA index_info({index.name})").all()
            if [row.name for row in covered] == [column]:
                return True
    return False
