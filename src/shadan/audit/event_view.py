"""`access_events`: the columns of every logged event, derived by the database from its stored entry.

The log stores what it proves: each event's canonical entry (entry.py) in `access_log_entries`. Every
column of this view is computed from that text, so a column can never disagree with the entry its leaf
hash covers, and verification needs to read and hash the entries only (docs/access-log.md). shadan's
searches select entries by these same column expressions (log.stated), which the indexes below cover, and
read each event from its entry (entry_events.py); the view serves lookups by event id and whoever reads
the log with SQL. What verification must check besides is that the view is still this one
(`definition_differs`): a changed view could show other columns than the entries; and that the table
still has the check and the indexes below (entry_safeguards.py).

Migration 0008 creates the view and its indexes from these texts; changing them needs a new migration.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from shadan.audit.entry import FIELDS, JSON_FIELDS

VIEW = "access_events"
TABLE = "access_log_entries"


def _sqlite_column(name: str) -> str:
    if name == "ts":  # the stored shape SQLAlchemy reads ('YYYY-MM-DD HH:MM:SS.ffffff', UTC)
        return "replace(substr(json_extract(entry, '$.ts'), 1, 26), 'T', ' ')"
    return f"json_extract(entry, '$.{name}')"  # JSON lists and objects come back as JSON text


def _postgresql_column(name: str) -> str:
    if name == "ts":
        return "((entry::jsonb ->> 'ts')::timestamp with time zone)"
    if name in JSON_FIELDS:
        return f"((entry::jsonb -> '{name}')::json)"
    return f"(entry::jsonb ->> '{name}')"


_COLUMN = {"sqlite": _sqlite_column, "postgresql": _postgresql_column}


def column_expression(dialect: str, name: str) -> str:
    return _COLUMN[dialect](name)


def create_view(dialect: str) -> str:
    # security_invoker: the caller's own grants on the table apply, not the view owner's.
    options = " WITH (security_invoker = true)" if dialect == "postgresql" else ""
    return f"CREATE VIEW {VIEW}{options} AS {_select(dialect)}"


def _select(dialect: str) -> str:
    column = _COLUMN[dialect]
    columns = ", ".join("seq" if name == "seq" else f"{column(name)} AS {name}" for name in FIELDS)
    return f"SELECT {columns} FROM {TABLE}"  # noqa: S608 -- fixed text


# The searches' indexes: event ids unique, "what did account / person Y view" newest first. The first two
# are named as they were on the table the view replaced.
INDEXES = ("uq_access_events_event_id", "ix_access_events_account_id_seq", "ix_access_events_person_id_seq")


def create_indexes(dialect: str, table: str = TABLE) -> tuple[str, ...]:
    """`table`: another table to print them on, for verification to compare (entry_safeguards.py)."""
    column = _COLUMN[dialect]
    unique, by_account, by_person = INDEXES
    return (
        f"CREATE UNIQUE INDEX {unique} ON {table} ({column('event_id')})",
        f"CREATE INDEX {by_account} ON {table} ({column('account_id')}, seq)",
        f"CREATE INDEX {by_person} ON {table} ({column('person_id')}, seq)",
    )


CHECK = "ck_access_log_entries_json"  # the name migration 0008 gives `check_constraint`


def check_constraint(dialect: str) -> str:
    """Only a JSON text can be stored as an entry, so every read of the view can parse every row."""
    return "json_valid(entry)" if dialect == "sqlite" else "(entry::jsonb IS NOT NULL)"


def definition_differs(engine: Engine) -> bool:
    """True if the view is not the one `create_view` makes (or is gone).

    SQLite keeps the statement's text as it was given. PostgreSQL keeps a parsed view and prints it back
    in a form of its own that depends on the server's version, so the expected text is made into a
    temporary view of this session, printed by the same server and dropped again. That needs a
    transaction that may write (temporary objects only), which verification's read-only one is not:
    the check runs in a short transaction of its own.
    """
    with engine.connect() as connection:
        try:
            if connection.dialect.name == "sqlite":
                return _stored_sql(connection) != create_view("sqlite")
            return _printed(connection, VIEW) != _expected_printed(connection) or not _invoker(connection)
        finally:
            connection.rollback()


def _stored_sql(connection: Connection) -> str | None:
    query = text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :name")
    return connection.execute(query, {"name": VIEW}).scalar_one_or_none()


def _printed(connection: Connection, name: str) -> str | None:
    query = text("SELECT pg_get_viewdef(to_regclass(:name), false)")
    return connection.execute(query, {"name": name}).scalar_one_or_none()


def _expected_printed(connection: Connection) -> str | None:
    connection.execute(text(f"CREATE TEMPORARY VIEW {_EXPECTED} AS {_select('postgresql')}"))
    return _printed(connection, _EXPECTED)


def _invoker(connection: Connection) -> bool:
    query = text(
        "SELECT coalesce('security_invoker=true' = ANY(reloptions), false) FROM pg_class"
        " WHERE oid = to_regclass(:name)"
    )
    return bool(connection.execute(query, {"name": VIEW}).scalar_one_or_none())


_EXPECTED = "shadan_expected_access_events"
