"""sealed TOTP secrets

TOTP secrets are now stored sealed with AES-256-GCM (services/totp_sealing.py), which needs a wider column.
Secrets stored before in plain text are removed rather than kept: they would no longer open, and they
must not stay readable in the database. Those accounts are re-enrolled by an administrator
(`shadan account enroll-totp`); the demo re-issues its logins by itself.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.VARCHAR(length=64),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
    op.execute("UPDATE accounts SET totp_secret = NULL WHERE totp_secret NOT LIKE 'v1.%'")


def downgrade() -> None:
    op.execute("UPDATE accounts SET totp_secret = NULL")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=128),
            type_=sa.VARCHAR(length=64),
            existing_nullable=True,
        )
