"""PostgreSQL only: grants for the application role, row-level security on the registry.

The application role owns no table and has no BYPASSRLS, so these policies bind it. They back up the
application's decisions (defence in depth); they are never the only line.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

READ_WRITE = (
    "retailers",
    "supply_points",
    "reading_calendar",
    "companies",
    "persons",
    "employments",
    "accounts",
    "account_roles",
    "sessions",
    "login_throttle",
)
APPEND_ONLY = ("access_events",)
REALM = "current_setting('shadan.realm', true)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    app_role = context.config.get_main_option("shadan_app_role")
    if app_role:
        _grant(app_role)
    op.execute("ALTER TABLE supply_points ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY td_realm_all ON supply_points USING ({REALM} IN ('td', 'system'))")
    # A retail realm sees only rows of its own retailer code, and only when the application sets it
    # (the own-contracts setting); unset means no rows at all.
    op.execute(
        "CREATE POLICY retail_realm_own ON supply_points FOR SELECT USING ("
        f"{REALM} = 'retail' AND retailer_code = current_setting('shadan.retailer_code', true))"
    )


def _grant(role: str) -> None:
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
    op.execute(f"GRANT SELECT ON alembic_version TO {quoted}")
    for table in READ_WRITE:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {quoted}")
    for table in APPEND_ONLY:
        op.execute(f"GRANT SELECT, INSERT ON {table} TO {quoted}")
    op.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS retail_realm_own ON supply_points")
    op.execute("DROP POLICY IF EXISTS td_realm_all ON supply_points")
    op.execute("ALTER TABLE supply_points DISABLE ROW LEVEL SECURITY")
