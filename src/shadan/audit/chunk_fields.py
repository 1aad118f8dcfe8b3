"""A worker's checks of a chunk's entries in DuckDB — its search index rows (chunk_index.py), its time
spans (chunk_times.py) — run as one statement over `chunk_fields`: each event's seq and the fields of its
entry the checks read, every entry parsed once for all of them.

Parsing the entries is most of what these checks cost a worker: one parse with both paths costs about
what one path alone does, so the checks share it rather than parse each entry once each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

# Each event's columns (but its entry), the entry's `resource_ids` as JSON text, its top-level `ts` as
# text (`->>`: a string unescaped, any other value as JSON; NULL where there is none) and the checks'
# facts about the whole entry. DuckDB, like SQLite, takes the first of repeated keys.
_STATEMENT = """
WITH chunk_fields AS MATERIALIZED (
    SELECT * EXCLUDE (entry, parsed),
        CAST(parsed[1] AS VARCHAR) AS resource_ids, parsed[2] ->> '$' AS ts{facts}
    FROM (SELECT *, json_extract(entry, ['$.resource_ids', '$.ts']) AS parsed FROM chunk_events)
)
SELECT {all_hold}
"""


@dataclass(frozen=True, slots=True)
class EntryCheck:
    """One check of a chunk's entries: `wrong` is a statement giving the count of what is wrong (0 when
    the check holds), over `chunk_fields` and the check's own `tables`; `columns` are added to each event
    (arrays in the events' order) and `facts` (name: an expression over the event's `entry`) are computed
    beside its fields, both then columns of `chunk_fields`."""

    wrong: str
    tables: Mapping[str, pa.Table] = field(default_factory=dict)
    columns: Mapping[str, pa.Array] = field(default_factory=dict)
    facts: Mapping[str, str] = field(default_factory=dict)


def checks_hold(duck: duckdb.DuckDBPyConnection, events: pa.Table, checks: Sequence[EntryCheck]) -> bool:
    """Whether every check holds for `events` (rows of seq and entry). An entry DuckDB cannot parse raises
    duckdb.Error."""
    table = events
    for check in checks:
        for name, column in check.columns.items():
            table = table.append_column(name, column)
    statement = _STATEMENT.format(
        facts="".join(f", {expression} AS {name}" for c in checks for name, expression in c.facts.items()),
        all_hold=" AND ".join(f"({check.wrong}) = 0" for check in checks),
    )
    tables = {"chunk_events": table} | {name: t for check in checks for name, t in check.tables.items()}
    for name, registered in tables.items():
        duck.register(name, registered)
    try:
        return duck.execute(statement).fetchall() == [(True,)]
    finally:
        for name in tables:
            duck.unregister(name)
