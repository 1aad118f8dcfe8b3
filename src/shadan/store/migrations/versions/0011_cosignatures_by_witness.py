"""Each witness's cosignatures found by its name

The auditors' status page shows every witness's newest cosignature. `log_cosignatures` was indexed by
tree size only, so finding one witness's newest meant reading the cosignatures of all witnesses from the
newest down — years of them for a witness that stopped cosigning, the very one the page must show. An
index on the witness's name, the tree size and the row's id (which settles a tie) makes it one lookup a
witness (audit/log_search.py).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_INDEX = "ix_log_cosignatures_witness_name_tree_size_cosignature_id"


def upgrade() -> None:
    op.create_index(_INDEX, "log_cosignatures", ["witness_name", "tree_size", "cosignature_id"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="log_cosignatures")
