"""Whether anything runs on the log's rows besides shadan's own statements (verification.py).

shadan puts no trigger, rule or row-level security on the log's tables. The table owner can: a trigger
`BEFORE INSERT` that rewrites an event's entry or drops it (SQLite's `RAISE(IGNORE)`, PostgreSQL's
`RETURN NULL`) as the request appends it, or a rule `DO INSTEAD NOTHING`, makes the log record something
other than what happened, and the tree then faithfully proves the falsified record; row-level security
can hide rows from the pages' role. None of this changes a stored row afterwards, so no hash shows it.
Verification therefore asks the database, in its own snapshot, whether any of the log's tables or its
view carries such a hook, and names each one. It cannot see one that was dropped again before it ran:
the nightly run and the witnesses' cosigned sizes narrow that window, they do not close it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from shadan.audit.event_view import VIEW
from shadan.audit.schema import metadata

_KIND_NAMES = {  # (Japanese, English)
    "trigger": ("トリガー", "trigger"),
    "rule": ("ルール", "rule"),
    "row_security": ("行セキュリティ", "row-level security"),
}


@dataclass(frozen=True, slots=True)
class TableHook:
    kind: str  # a key of _KIND_NAMES
    name: str  # the trigger's or rule's name; for row-level security the relation's
    relation: str

    def ja(self) -> str:
        return f"{self.relation} の{self._what(0)}"

    def en(self) -> str:
        return f"{self._what(1)} on {self.relation}"

    def _what(self, language: int) -> str:
        what = _KIND_NAMES[self.kind][language]
        return what if self.kind == "row_security" else f"{what} {self.name}"


LOG_RELATIONS = tuple(sorted({table.name for table in metadata.sorted_tables} | {VIEW}))

# Triggers a user made (not those PostgreSQL keeps for foreign keys), rules other than a view's own
# `_RETURN`, and row-level security switched on; each relation found through the search path, as the
# statements of the log find it.
_POSTGRESQL_HOOKS = text(
    "WITH log AS (SELECT to_regclass(name) AS oid, name FROM unnest(CAST(:names AS text[])) AS name)"
    " SELECT 'trigger' AS kind, t.tgname AS hook, log.name AS relation"
    " FROM pg_trigger t JOIN log ON t.tgrelid = log.oid WHERE NOT t.tgisinternal"
    " UNION ALL SELECT 'rule', r.rulename, log.name"
    " FROM pg_rewrite r JOIN log ON r.ev_class = log.oid WHERE r.rulename <> '_RETURN'"
    " UNION ALL SELECT 'row_security', c.relname, log.name"
    " FROM pg_class c JOIN log ON c.oid = log.oid WHERE c.relrowsecurity"
    " ORDER BY relation, kind, hook"
)
_SQLITE_HOOKS = text(
    "SELECT 'trigger' AS kind, name AS hook, tbl_name AS relation FROM sqlite_master"
    " WHERE type = 'trigger' AND tbl_name IN :names ORDER BY relation, kind, hook"
).bindparams(bindparam("names", expanding=True))


def hooks_on_the_log(connection: Connection) -> list[TableHook]:
    """Every trigger, rule or row-level security on the log's relations, by relation."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(_SQLITE_HOOKS, {"names": list(LOG_RELATIONS)})
    else:
        rows = connection.execute(_POSTGRESQL_HOOKS, {"names": list(LOG_RELATIONS)})
    return [TableHook(row.kind, row.hook, row.relation) for row in rows]
