"""Whether the entries table still has the safeguards migration 0008 gave it (verification.py).

The view `access_events` parses every column out of the stored entry (event_view.py), and two things keep
that sound: the check `ck_access_log_entries_json`, so that only JSON text is stored, and the view's
indexes, of which `uq_access_events_event_id` keeps event ids unique and all three parse each entry as
it is written. The table owner can drop them (`DROP INDEX`, `ALTER TABLE … DROP CONSTRAINT`; on SQLite
a rebuilt table) and then store a second event under a logged event's id, or an entry that is no JSON,
which no read of the view's columns can parse. Once sequenced, a second event under an id is proved by
the tree like any other: only the missing safeguard tells.

No entry is read to look for one that is no JSON: while the three indexes stand as created, every stored
entry was parsed by their expressions when it was written or the index was built (SQLite's
`PRAGMA ignore_check_constraints` skips the check, not an index). The table is scanned only when the
unique index is not as created, for an event id held twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, text

from shadan.audit.event_view import CHECK, INDEXES, TABLE, check_constraint, column_expression, create_indexes

_WHAT = {  # (Japanese, English)
    "check": ("検査制約 {}（記録は JSON のみ）", "the check {} (entries are JSON only)"),
    "index": ("索引 {} ", "the index {}"),
}
_HOW = {
    "gone": ("がありません", "is gone"),
    "changed": ("が shadan の作成したものと異なります", "is not the one shadan created"),
    "not_unique": ("が一意ではありません", "is not unique"),
    "invalid": ("が無効です（作成が完了していません）", "is invalid (its build did not finish)"),
}


@dataclass(frozen=True, slots=True)
class Lapse:
    what: str  # a key of _WHAT
    name: str
    how: str  # a key of _HOW

    def ja(self) -> str:
        return _WHAT[self.what][0].format(self.name) + _HOW[self.how][0]

    def en(self) -> str:
        return f"{_WHAT[self.what][1].format(self.name)} {_HOW[self.how][1]}"


@dataclass(frozen=True, slots=True)
class Lapses:
    found: tuple[Lapse, ...]
    repeated_event_id: int | None  # the first seq whose event id an earlier event holds, if looked for


class _Index(NamedTuple):
    unique: bool
    valid: bool
    definition: str  # the statement as the database keeps it (PostgreSQL: printed, without the table)


def lapsed_safeguards(engine: Engine) -> Lapses:
    """The check and the indexes that are not as migration 0008 made them, in a short transaction of its
    own: PostgreSQL prints the expected ones from temporary objects, which verification's read-only
    snapshot may not create (as event_view.definition_differs does for the view)."""
    with engine.connect() as connection:
        try:
            sqlite = connection.dialect.name == "sqlite"
            check, indexes = (_sqlite_lapses if sqlite else _postgresql_lapses)(connection)
            # On PostgreSQL only while the check holds: a cast of an entry that is no JSON stops the scan.
            scan = (sqlite or check is None) and any(lapse.name == INDEXES[0] for lapse in indexes)
            found = tuple(indexes) if check is None else (check, *indexes)
            return Lapses(found, _first_repeated_event_id(connection) if scan else None)
        finally:
            connection.rollback()


def _index_lapses(actual: Mapping[str, _Index], expected: Mapping[str, _Index]) -> list[Lapse]:
    lapses = []
    for name in INDEXES:
        want, have = expected[name], actual.get(name)
        if have == want:
            continue
        if have is None:
            how = "gone"
        elif not have.valid:
            how = "invalid"
        else:
            how = "not_unique" if want.unique and not have.unique else "changed"
        lapses.append(Lapse("index", name, how))
    return lapses


def _first_repeated_event_id(connection: Connection) -> int | None:
    """A scan of every entry (only while the unique index is not as created)."""
    event_id = column_expression(connection.dialect.name, "event_id")
    if connection.dialect.name == "sqlite":  # an entry stored without the check is skipped, not an error
        event_id = f"CASE WHEN json_valid(entry) THEN {event_id} END"
    query = text(
        "SELECT min(seq) FROM (SELECT seq, row_number() OVER (PARTITION BY event_id ORDER BY seq) AS n"  # noqa: S608 -- fixed text
        f" FROM (SELECT seq, {event_id} AS event_id FROM {TABLE}) AS entries"
        " WHERE event_id IS NOT NULL) AS numbered WHERE n > 1"
    )
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


# SQLite keeps a table's constraints only in its statement: the one migration 0008 made (SQLAlchemy's),
# compared regardless of whitespace, since it is the only place that says the check is still there.
_SQLITE_TABLE = (
    f"CREATE TABLE {TABLE} (seq INTEGER NOT NULL, entry TEXT NOT NULL,"
    f" CONSTRAINT pk_{TABLE} PRIMARY KEY (seq), CONSTRAINT {CHECK} CHECK ({check_constraint('sqlite')}))"
)
_SQLITE_INDEXES = {
    name: _Index(statement.startswith("CREATE UNIQUE"), True, statement)
    for name, statement in zip(INDEXES, create_indexes("sqlite"), strict=True)
}


def _sqlite_lapses(connection: Connection) -> tuple[Lapse | None, list[Lapse]]:
    query = text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :table AND sql IS NOT NULL")
    stored = connection.execute(query, {"table": TABLE}).all()
    table = _tokens(next((row.sql for row in stored if row.type == "table"), ""))
    check = None
    if table != _tokens(_SQLITE_TABLE):
        # Its name or its expression is still there: the check, or the table elsewhere, was changed.
        kept = CHECK in table or _tokens(f"CHECK ({check_constraint('sqlite')})") in table
        check = Lapse("check", CHECK, "changed" if kept else "gone")
    # The name is the table's own, never input: PRAGMA takes no bound parameters.
    unique = {row.name: bool(row.unique) for row in connection.exec_driver_sql(f"PRAGMA index_list({TABLE})")}
    indexes = {row.name: _Index(unique[row.name], True, row.sql) for row in stored if row.type == "index"}
    return check, _index_lapses(indexes, _SQLITE_INDEXES)


def _tokens(sql: str) -> str:
    # Whitespace matters only between two words, and within quotes (which the expected text has none of).
    return re.sub(r"\s*([(),])\s*", r"\1", re.sub(r"\s+", " ", sql.strip()))


_EXPECTED = "shadan_expected_entries"  # a temporary table, where the indexes' names are free again

_POSTGRESQL_INDEXES = text(
    "SELECT c.relname AS name, i.indisunique AS is_unique, i.indisvalid AS valid,"
    " pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
    " WHERE i.indrelid = to_regclass(:table) AND c.relname = ANY(CAST(:names AS text[]))"
)
_POSTGRESQL_CHECKS = text(
    "SELECT conname, pg_get_constraintdef(oid) AS definition, convalidated FROM pg_constraint"
    " WHERE conrelid = to_regclass(:table) AND contype = 'c'"
)


def _postgresql_lapses(connection: Connection) -> tuple[Lapse | None, list[Lapse]]:
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {_EXPECTED} (seq bigint NOT NULL, entry text NOT NULL,"
            f" CHECK ({check_constraint('postgresql')}))"
        )
    )
    for statement in create_indexes("postgresql", _EXPECTED):
        connection.execute(text(statement))
    expected = f"pg_temp.{_EXPECTED}"
    check = _postgresql_check(connection, connection.execute(_POSTGRESQL_CHECKS, {"table": expected}).one())
    indexes = _index_lapses(_printed_indexes(connection, TABLE), _printed_indexes(connection, expected))
    return check, indexes


def _postgresql_check(connection: Connection, expected: Row[Any]) -> Lapse | None:
    """Held by any validated check printed as the expected one (NOT VALID leaves stored rows unchecked)."""
    checks = connection.execute(_POSTGRESQL_CHECKS, {"table": TABLE}).all()
    if any(row.definition == expected.definition and row.convalidated for row in checks):
        return None
    return Lapse("check", CHECK, "changed" if any(row.conname == CHECK for row in checks) else "gone")


def _printed_indexes(connection: Connection, table: str) -> dict[str, _Index]:
    rows = connection.execute(_POSTGRESQL_INDEXES, {"table": table, "names": list(INDEXES)})
    return {row.name: _Index(row.is_unique, row.valid, _without_table(row.definition)) for row in rows}


def _without_table(definition: str) -> str:
    """`CREATE … INDEX name ON table USING …` without its table, the one part in which the temporary
    table's differs (a quote would remain of a schema's name made to hold " USING ")."""
    head, _, rest = definition.partition(" ON ")
    return f"{head} USING {rest.partition(' USING ')[2]}"
