"""tamper-evident log: Merkle leaves, subtree hashes, checkpoints, sequencer state

On PostgreSQL the application role may only read and append leaves, subtree hashes and checkpoints; it
updates the one sequencer state row. Rewriting history takes the owner role, and verification finds it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("log_leaves", "log_nodes", "log_checkpoints")
READ_WRITE = ("log_state",)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_state",
        sa.Column("state_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("horizon_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_id", name=op.f("pk_log_state")),
    )
    op.create_table(
        "log_leaves",
        sa.Column("leaf_index", _ID, autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("sequenced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("seq", name=op.f("uq_log_leaves_seq")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("node_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("node_key", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("checkpoint_id", _ID, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("checkpoint_id", name=op.f("pk_log_checkpoints")),
    )
    with op.batch_alter_table("log_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_checkpoints_tree_size"), ["tree_size"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            _grant(app_role)


def _grant(role: str) -> None:
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    for table in APPEND_ONLY:
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {quoted}")
    for table in READ_WRITE:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {quoted}")
    op.execute(f"GRANT USAGE ON SEQUENCE log_checkpoints_checkpoint_id_seq TO {quoted}")


def downgrade() -> None:
    with op.batch_alter_table("log_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_checkpoints_tree_size"))
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_table("log_leaves")
    op.drop_table("log_state")
