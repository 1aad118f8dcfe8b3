"""log records: verifications, cosignatures, archive segments, deletion records, legal holds

On PostgreSQL the application role reads and appends these records and updates only a segment's
deletion time and a hold's release; deleting expired events takes the owner role.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_cosignatures",
        sa.Column(
            "cosignature_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("witness_name", sa.String(length=200), nullable=False),
        sa.Column("witness_key", sa.Text(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cosignature_id", name=op.f("pk_log_cosignatures")),
    )
    with op.batch_alter_table("log_cosignatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_cosignatures_tree_size"), ["tree_size"], unique=False)

    op.create_table(
        "log_deletions",
        sa.Column(
            "deletion_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("segment_id", sa.String(length=7), nullable=False),
        sa.Column("first_leaf", sa.BigInteger(), nullable=False),
        sa.Column("end_leaf", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deletion_id", name=op.f("pk_log_deletions")),
        sa.UniqueConstraint("segment_id", name=op.f("uq_log_deletions_segment_id")),
    )
    op.create_table(
        "log_legal_holds",
        sa.Column(
            "hold_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("hold_id", name=op.f("pk_log_legal_holds")),
    )
    op.create_table(
        "log_segments",
        sa.Column("segment_id", sa.String(length=7), nullable=False),
        sa.Column("first_leaf", sa.BigInteger(), nullable=False),
        sa.Column("end_leaf", sa.BigInteger(), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_log_segments")),
        sa.UniqueConstraint("first_leaf", name=op.f("uq_log_segments_first_leaf")),
    )
    op.create_table(
        "log_verifications",
        sa.Column(
            "verification_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("events_checked", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints_checked", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("first_bad_seq", sa.BigInteger(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("trusted_size", sa.BigInteger(), nullable=True),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("verification_id", name=op.f("pk_log_verifications")),
    )
    if op.get_bind().dialect.name == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            _grant(app_role)


APPEND_ONLY = ("log_verifications", "log_cosignatures", "log_deletions")
SEQUENCES = (
    "log_verifications_verification_id_seq",
    "log_cosignatures_cosignature_id_seq",
    "log_deletions_deletion_id_seq",
    "log_legal_holds_hold_id_seq",
)


def _grant(role: str) -> None:
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    for table in APPEND_ONLY:
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {quoted}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE (deleted_at) ON log_segments TO {quoted}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE (released_by, released_at) ON log_legal_holds TO {quoted}")
    for sequence in SEQUENCES:
        op.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {quoted}")


def downgrade() -> None:
    op.drop_table("log_verifications")
    op.drop_table("log_segments")
    op.drop_table("log_legal_holds")
    op.drop_table("log_deletions")
    with op.batch_alter_table("log_cosignatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_cosignatures_tree_size"))

    op.drop_table("log_cosignatures")
