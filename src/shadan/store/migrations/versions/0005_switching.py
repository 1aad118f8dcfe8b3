"""switching: submissions, application rows, per-supply-point history

On PostgreSQL the application role reads and appends all three and updates only an application's state
and pairing; the history is append-only.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = ("switching_submissions", "switching_history")
SEQUENCES = (
    "switching_submissions_submission_id_seq",
    "switching_applications_row_id_seq",
    "switching_history_history_id_seq",
)


def upgrade() -> None:
    op.create_table(
        "switching_submissions",
        sa.Column("submission_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("half", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("strict", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=2), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("invalid_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_switching_submissions")),
        sa.UniqueConstraint("file_sha256", name=op.f("uq_switching_submissions_file_sha256")),
    )
    op.create_table(
        "switching_applications",
        sa.Column("row_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("half", sa.String(length=8), nullable=False),
        sa.Column("application_id", sa.Text(), nullable=False),
        sa.Column("claimed_id", sa.Text(), nullable=True),
        sa.Column("supply_point_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_retailer_code", sa.Text(), nullable=False),
        sa.Column("new_retailer_code", sa.Text(), nullable=False),
        sa.Column("new_retailer_staff", sa.Text(), nullable=False),
        sa.Column("building", sa.Text(), nullable=False),
        sa.Column("switch_date", sa.Date(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("error_codes", sa.String(length=64), nullable=False),
        sa.Column("strict_error_codes", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_row_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_row_id"],
            ["switching_applications.row_id"],
            name=op.f("fk_switching_applications_partner_row_id_switching_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["switching_submissions.submission_id"],
            name=op.f("fk_switching_applications_submission_id_switching_submissions"),
        ),
        sa.PrimaryKeyConstraint("row_id", name=op.f("pk_switching_applications")),
        sa.UniqueConstraint(
            "claimed_id",
            "new_retailer_code",
            name=op.f("uq_switching_applications_claimed_id_new_retailer_code"),
        ),
    )
    with op.batch_alter_table("switching_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_switching_applications_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_switching_applications_state_received_at"), ["state", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_switching_applications_submission_id_line"),
            ["submission_id", "line"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_switching_applications_supply_point_id_state"),
            ["supply_point_id", "state"],
            unique=False,
        )

    op.create_table(
        "switching_history",
        sa.Column("history_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("supply_point_id", sa.String(length=22), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registry_status", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"],
            ["switching_applications.row_id"],
            name=op.f("fk_switching_history_row_id_switching_applications"),
        ),
        sa.PrimaryKeyConstraint("history_id", name=op.f("pk_switching_history")),
    )
    with op.batch_alter_table("switching_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_switching_history_supply_point_id_history_id"),
            ["supply_point_id", "history_id"],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            _grant(app_role)


def _grant(role: str) -> None:
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    for table in APPEND_ONLY:
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {quoted}")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE (state, state_changed_at, partner_row_id) "
        f"ON switching_applications TO {quoted}"
    )
    for sequence in SEQUENCES:
        op.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {quoted}")


def downgrade() -> None:
    with op.batch_alter_table("switching_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_switching_history_supply_point_id_history_id"))
    op.drop_table("switching_history")
    with op.batch_alter_table("switching_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_switching_applications_supply_point_id_state"))
        batch_op.drop_index(batch_op.f("ix_switching_applications_submission_id_line"))
        batch_op.drop_index(batch_op.f("ix_switching_applications_state_received_at"))
        batch_op.drop_index(batch_op.f("ix_switching_applications_received_at"))
    op.drop_table("switching_applications")
    op.drop_table("switching_submissions")
