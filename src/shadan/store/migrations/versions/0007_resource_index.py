"""search index of the access log by resource id

`log_resource_ids` holds one row per resource id of every sequenced event (audit/tree_tables.py); the
sequencer writes it with the leaves from now on, and this migration fills it for the events sequenced
before. The application may only read and add rows, as for the leaves.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The string ids of each event that has a leaf, from its JSON list (each database's JSON functions), as
# the sequencer indexes them (audit/search_index.py).
_BACKFILL = {
    "sqlite": (
        "INSERT INTO log_resource_ids (resource_id, seq)"
        " SELECT DISTINCT ids.value, e.seq FROM access_events e JOIN log_leaves l ON l.seq = e.seq,"
        " json_each(e.resource_ids) ids WHERE ids.type = 'text'"
    ),
    "postgresql": (
        "INSERT INTO log_resource_ids (resource_id, seq)"
        " SELECT DISTINCT ids.value #>> '{}', e.seq FROM access_events e JOIN log_leaves l ON l.seq = e.seq,"
        " json_array_elements(CASE WHEN json_typeof(e.resource_ids) = 'array' THEN e.resource_ids"
        " ELSE '[]'::json END) ids(value) WHERE json_typeof(ids.value) = 'string'"
    ),
}


def upgrade() -> None:
    op.create_table(
        "log_resource_ids",
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "seq", name=op.f("pk_log_resource_ids")),
    )
    op.create_index(op.f("ix_log_resource_ids_seq"), "log_resource_ids", ["seq"])
    dialect = op.get_bind().dialect
    op.execute(_BACKFILL[dialect.name])
    if dialect.name == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            role = dialect.identifier_preparer.quote(app_role)
            op.execute(f"GRANT SELECT, INSERT ON log_resource_ids TO {role}")


def downgrade() -> None:
    op.drop_table("log_resource_ids")
