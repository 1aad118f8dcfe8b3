"""A worker's checks of a chunk's entries in DuckDB — its search index rows (chunk_index.py), its time
spans (chunk_times.py) — run as one statement over `chunk_fields`: each event's seq and the fields of its
entry the checks read, every entry parsed once for all of them.

Parsing the entries is most of what these checks cost a worker: one parse with both paths costs about
what one path alone does, so the checks share it rather than parse each entry once each.

A check may vouch for an event only where DuckDB reads its fields as the database does, which
`fields_sure` says. The names must not be spelled with escapes: DuckDB reads `"t\\u0073"` as the key
`ts`, SQLite 3.40 does not (PostgreSQL does), so an entry holding both could show the search another
value than the workers; every escaped spelling of a character of `ts` or `resource_ids` holds `\\u005`,
`\\u006` or `\\u007`, which no such entry may hold. And DuckDB, like SQLite, takes the first of repeated
keys, PostgreSQL the last: there neither name may appear twice in the entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

_NO_ESCAPED_NAME = " AND ".join(f"NOT contains(entry, '\\u00{digit}')" for digit in "567")
_ONCE = " AND ".join(
    f'NOT regexp_matches(entry, \'(?s)"{name}".*"{name}"\')' for name in ("ts", "resource_ids")
)
_FIELDS_SURE = {"sqlite": _NO_ESCAPED_NAME, "postgresql": f"{_NO_ESCAPED_NAME} AND {_ONCE}"}
# Each event's columns (but its entry), the entry's `resource_ids` as JSON text, its top-level `ts` as
# text (`->>`: a string unescaped, any other value as JSON; NULL where there is none) and whether DuckDB
# reads both as the database does.
_STATEMENT = """
WITH chunk_fields AS MATERIALIZED (
    SELECT * EXCLUDE (entry, parsed),
        CAST(parsed[1] AS VARCHAR) AS resource_ids, parsed[2] ->> '$' AS ts, {sure} AS fields_sure
    FROM (SELECT *, json_extract(entry, ['$.resource_ids', '$.ts']) AS parsed FROM chunk_events)
)
SELECT {all_hold}
"""


@dataclass(frozen=True, slots=True)
class EntryCheck:
    """One check of a chunk's entries: `wrong` is a statement giving the count of what is wrong (0 when
    the check holds), over `chunk_fields` and the check's own `tables`; `columns` are added to each event
    (arrays in the events' order), then columns of `chunk_fields` too."""

    wrong: str
    tables: Mapping[str, pa.Table] = field(default_factory=dict)
    columns: Mapping[str, pa.Array] = field(default_factory=dict)


def checks_hold(
    duck: duckdb.DuckDBPyConnection, dialect: str, events: pa.Table, checks: Sequence[EntryCheck]
) -> bool:
    """Whether every check holds for `events` (rows of seq and entry) stored in a database of `dialect`.
    An entry DuckDB cannot parse raises duckdb.Error."""
    table = events
    for check in checks:
        for name, column in check.columns.items():
            table = table.append_column(name, column)
    statement = _STATEMENT.format(
        sure=_FIELDS_SURE[dialect], all_hold=" AND ".join(f"({check.wrong}) = 0" for check in checks)
    )
    tables = {"chunk_events": table} | {name: t for check in checks for name, t in check.tables.items()}
    for name, registered in tables.items():
        duck.register(name, registered)
    try:
        return duck.execute(statement).fetchall() == [(True,)]
    finally:
        for name in tables:
            duck.unregister(name)
