"""The log's subtree hashes keyed in tiles

`log_nodes.node_key` was `level << 48 | index`: each level a key range of its own, so an inclusion proof's
nodes lay on a different B-tree page for every level, each a read from the disk for a log larger than
memory. The key now groups the nodes in tiles of eight levels (audit/node_keys.py), so a proof's nodes of
levels 1-8 lie on about two neighbouring pages, and those of 9-16 too.

A row whose key was no node of a tree (level below 1 or above 48, as only an edit of the table makes
one) gets a negative key, which verification reports as outside the tree as before; downgrading gives the
nodes their old keys, and such rows one of their own.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_OLD_INDEX = (1 << 48) - 1
_TIER = 1 << 58
# node_keys.level_keys in SQL: the old key's level and index; the level's step in its tile of eight,
# the node's tile and place on its level there; its place in the tile (upper half first, then the 16
# lower halves, each level by level: a half's levels start at 0, 16, 24 and 28).
_LEVEL, _INDEX = "(node_key >> 48)", f"(node_key & {_OLD_INDEX})"
_STEP = f"CAST(({_LEVEL} - 1) % 8 AS INTEGER)"
_WIDTH = f"(256 >> {_STEP})"
_PLACE = f"({_INDEX} % {_WIDTH})"
_INNER = (
    f"CASE WHEN {_STEP} >= 4 THEN 32 - (32 >> ({_STEP} - 4)) + {_PLACE}"
    f" ELSE 30 * (1 + {_PLACE} / (16 >> {_STEP})) + 32 - (32 >> {_STEP}) + {_PLACE} % (16 >> {_STEP}) END"
)
_NEW_KEY = (
    f"CASE WHEN node_key >= {1 << 48} AND node_key < {49 << 48}"
    f" THEN (({_LEVEL} - 1) / 8) * {_TIER} + ({_INDEX} / {_WIDTH}) * 510 + {_INNER}"
    " WHEN node_key < 0 THEN node_key ELSE -1 - node_key END"
)
# Back: the tile and place in it; the half and the place in the half give the step and the place on the
# level (node_keys.node_of).
_TILE_PLACE = f"((node_key % {_TIER}) % 510)"
_HALF, _IN_HALF = f"({_TILE_PLACE} / 30)", f"({_TILE_PLACE} % 30)"
_HALF_STEP = (
    f"CAST(CASE WHEN {_IN_HALF} < 16 THEN 0 WHEN {_IN_HALF} < 24 THEN 1"
    f" WHEN {_IN_HALF} < 28 THEN 2 ELSE 3 END AS INTEGER)"
)
_PART = f"({_IN_HALF} - 32 + (32 >> {_HALF_STEP}))"
_BACK_STEP = f"CAST(CASE WHEN {_HALF} = 0 THEN {_HALF_STEP} + 4 ELSE {_HALF_STEP} END AS INTEGER)"
_BACK_PLACE = f"(CASE WHEN {_HALF} = 0 THEN {_PART} ELSE ({_HALF} - 1) * (16 >> {_HALF_STEP}) + {_PART} END)"
_OLD_KEY = (
    f"CASE WHEN node_key < 0 THEN -1 - node_key ELSE"
    f" ((node_key / {_TIER}) * 8 + {_BACK_STEP} + 1) * {1 << 48}"
    f" + ((node_key % {_TIER}) / 510) * (256 >> {_BACK_STEP}) + {_BACK_PLACE} END"
)


def upgrade() -> None:
    _rekey(_NEW_KEY)


def downgrade() -> None:
    _rekey(_OLD_KEY)


def _rekey(new_key: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A new table filled in key order: SQLite stores the rows by key, and moving the rowid of every
        # row in place would leave the pages half empty.
        op.execute(
            "CREATE TABLE log_nodes_rekeyed (node_key INTEGER NOT NULL, hash BLOB NOT NULL,"
            " CONSTRAINT pk_log_nodes PRIMARY KEY (node_key))"
        )
        op.execute(f"INSERT INTO log_nodes_rekeyed SELECT {new_key}, hash FROM log_nodes ORDER BY 1")  # noqa: S608
        op.execute("DROP TABLE log_nodes")
        op.execute("ALTER TABLE log_nodes_rekeyed RENAME TO log_nodes")
        return
    # PostgreSQL keeps the table (its grants and row security) and rebuilds the key's index once, after one
    # pass over the rows: with the index in place every row's new key would be checked against the old keys
    # still there. Two rows given one key (only an edit of the table can make them) fail the constraint,
    # and the migration's transaction with it.
    op.execute("ALTER TABLE log_nodes DROP CONSTRAINT pk_log_nodes")
    op.execute(f"UPDATE log_nodes SET node_key = {new_key}")  # noqa: S608 -- fixed text
    op.execute("ALTER TABLE log_nodes ADD CONSTRAINT pk_log_nodes PRIMARY KEY (node_key)")
