"""time spans of the access log for period searches

`log_time_spans` holds, for each block of 4,096 seqs, the earliest and latest `ts` of its sequenced
events (audit/time_spans.py); the sequencer writes it with the leaves from now on, and this migration
fills it for the events sequenced before, with the view's own expression of `ts`. The application may
read, add and widen spans (UPDATE): a span narrowed by anyone is what verification reports.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from shadan.audit.event_view import column_expression

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BLOCK = 4096
_BACKFILL = (
    "INSERT INTO log_time_spans (block, earliest, latest)"
    " SELECT e.seq / {block}, min({ts}), max({ts})"
    " FROM access_log_entries e JOIN log_leaves l ON l.seq = e.seq"
    " WHERE {ts} IS NOT NULL GROUP BY e.seq / {block}"
)


def upgrade() -> None:
    time = sa.DateTime(timezone=True).with_variant(sa.String(), "sqlite")
    op.create_table(
        "log_time_spans",
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("earliest", time, nullable=False),
        sa.Column("latest", time, nullable=False),
        sa.PrimaryKeyConstraint("block", name=op.f("pk_log_time_spans")),
    )
    dialect = op.get_bind().dialect
    op.execute(_BACKFILL.format(block=_BLOCK, ts=column_expression(dialect.name, "ts")))
    if dialect.name == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            role = dialect.identifier_preparer.quote(app_role)
            op.execute(f"GRANT SELECT, INSERT, UPDATE ON log_time_spans TO {role}")


def downgrade() -> None:
    op.drop_table("log_time_spans")
