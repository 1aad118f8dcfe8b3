"""the access log stores each event's canonical entry; access_events becomes a view of it

`access_log_entries (seq, entry)` holds the exact text each Merkle leaf covers, and `access_events` is now
a view deriving every column from it (audit/event_view.py), with the searches' indexes on the same
expressions. The rows already logged are rewritten into entries here, with the numbers they had; on
PostgreSQL the new table's sequence continues where the old one stopped, so a number handed out before
(even to a transaction that rolled back) is never given again. The application may read and add
entries, as it could events.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from shadan.audit.entry import FIELDS, JSON_FIELDS, entry_bytes_from_json_text
from shadan.audit.event_view import (
    INDEXES,
    check_constraint,
    column_expression,
    create_indexes,
    create_view,
)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ROWS_A_BATCH = 10_000


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    entries = op.create_table(
        "access_log_entries",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_log_entries")),
        sa.CheckConstraint(check_constraint(dialect), name="ck_access_log_entries_json"),
    )
    for batch in _old_entries(connection):
        connection.execute(sa.insert(entries), batch)
    if dialect == "postgresql":
        _continue_numbering(connection, "access_events", "access_log_entries")
    op.drop_table("access_events")
    op.execute(create_view(dialect))
    for statement in create_indexes(dialect):
        op.execute(statement)
    if dialect == "postgresql":
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            _grant(app_role)


def _old_table() -> sa.TableClause:
    types: dict[str, Any] = {"seq": sa.BigInteger(), "ts": sa.DateTime(timezone=True)}
    return sa.table("access_events", *(sa.column(name, types.get(name, sa.Text())) for name in FIELDS))


def _old_entries(connection: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The entry of every stored event, in batches, from the columns as the log hashed them."""
    old = _old_table()
    # PostgreSQL's json columns as their stored text (a CAST the declared Text type does not make).
    columns = [sa.cast(old.c[n], sa.Text).label(n) if n in JSON_FIELDS else old.c[n] for n in FIELDS]
    after = 0
    while True:
        query = sa.select(*columns).where(old.c.seq > after).order_by(old.c.seq).limit(_ROWS_A_BATCH)
        rows = connection.execute(query).mappings().all()
        if not rows:
            return
        yield [{"seq": r["seq"], "entry": entry_bytes_from_json_text(r).decode("utf-8")} for r in rows]
        after = rows[-1]["seq"]


def _continue_numbering(connection: sa.Connection, old_table: str, new_table: str) -> None:
    old = connection.execute(
        sa.text("SELECT pg_get_serial_sequence(:table, 'seq')"), {"table": old_table}
    ).scalar_one()
    connection.execute(
        sa.text(f"SELECT setval(pg_get_serial_sequence(:table, 'seq'), last_value, is_called) FROM {old}"),  # noqa: S608 -- the server's own name of the sequence
        {"table": new_table},
    )


def _grant(role: str) -> None:
    quoted = op.get_bind().dialect.identifier_preparer.quote(role)
    op.execute(f"GRANT SELECT, INSERT ON access_log_entries TO {quoted}")
    op.execute(f"GRANT SELECT ON access_events TO {quoted}")
    op.execute(f"GRANT USAGE ON SEQUENCE access_log_entries_seq_seq TO {quoted}")


def downgrade() -> None:
    """The table of columns again, filled from the view (the entries' values, as the log proves them)."""
    connection = op.get_bind()
    dialect = connection.dialect.name
    op.execute("DROP VIEW access_events")
    for index in INDEXES:  # the table's indexes take these names again
        op.execute(f"DROP INDEX {index}")
    op.create_table(
        "access_events",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        *(
            sa.Column(
                name,
                sa.JSON() if name in JSON_FIELDS else _OLD_TYPES.get(name, sa.String(64)),
                nullable=False,
            )
            for name in FIELDS[1:]
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_access_events_event_id")),
    )
    op.create_index(op.f("ix_access_events_account_id_seq"), "access_events", ["account_id", "seq"])
    derived = ", ".join("seq" if n == "seq" else column_expression(dialect, n) for n in FIELDS)
    op.execute(
        f"INSERT INTO access_events ({', '.join(FIELDS)}) SELECT {derived} FROM access_log_entries"  # noqa: S608 -- fixed text
    )
    if dialect == "postgresql":
        _continue_numbering(connection, "access_log_entries", "access_events")
        app_role = context.config.get_main_option("shadan_app_role")
        if app_role:
            quoted = connection.dialect.identifier_preparer.quote(app_role)
            op.execute(f"GRANT SELECT, INSERT ON access_events TO {quoted}")
            op.execute(f"GRANT USAGE ON SEQUENCE access_events_seq_seq TO {quoted}")
    op.drop_table("access_log_entries")


# The columns of the table before this revision (0001) that were not String(64).
_OLD_TYPES: dict[str, Any] = {
    "ts": sa.DateTime(timezone=True),
    "action": sa.String(32),
    "terminal_id": sa.String(128),
    "outcome": sa.String(16),
    "detail": sa.Text(),
}
