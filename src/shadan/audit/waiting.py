"""Events that have waited too long for their leaf: a stalled sequencer.

An event without a leaf is in no tree yet: no checkpoint covers it, and whoever can write the table can
change or drop it unnoticed. The periodic job gives events their leaves within seconds, so that window is
short, unless the job no longer runs (an entry the sequencer cannot read is left out and the events after
it are sequenced: sequencer.py). Then every later event stays out of the tree while the requests still
append them. So the status page and
verification report an event that has waited longer than the maximum wait
(SHADAN_LOG_SEQUENCING_MAX_WAIT_MINUTES).

An event's time here is the `ts` its entry states, compared as text: canonical times sort as their text,
and a text comparison never fails (a cast of a crafted `ts` would stop the query on PostgreSQL). Such an
entry may state any time, but the events appended after it state theirs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnClause, Connection, String, literal_column, select

from shadan.audit.entry import format_timestamp
from shadan.audit.log import STATED_TIME, access_log_entries
from shadan.audit.log_completeness import unsequenced

# The setting's default, for a log built without settings (tests, benchmarks); a test holds them equal.
MAX_WAIT = dt.timedelta(hours=1)

# The `ts` an entry states, as text; none for an entry that is no JSON, which SQLite stores once a writer
# dropped the view's indexes and switched its checks off (PRAGMA ignore_check_constraints). PostgreSQL's
# owner would have to drop the check, and then this cast stops the query as it stops every read of the view.
_STATED_TIME = {
    "sqlite": f"CASE WHEN json_valid(entry) THEN {STATED_TIME['sqlite']} END",
    "postgresql": STATED_TIME["postgresql"],
}
# Read into Python: SQLite's as bytes, since json_extract makes text that is no UTF-8 of a lone surrogate
# escape, which Python cannot be handed as text.
_READ = {"sqlite": f"CAST({_STATED_TIME['sqlite']} AS BLOB)", "postgresql": _STATED_TIME["postgresql"]}


def first_waiting_since(connection: Connection, horizon: int, before: dt.datetime) -> int | None:
    """The first event above the horizon without a leaf whose stated time is earlier than `before`."""
    stated = literal_column(_STATED_TIME[connection.dialect.name], String)
    seq = access_log_entries.c.seq
    query = unsequenced(horizon, seq).where(stated < format_timestamp(before)).order_by(seq).limit(1)
    found = connection.execute(query).scalar()
    return None if found is None else int(found)


def newest_stated_time(connection: Connection) -> dt.datetime | None:
    """The time the newest event (the highest seq) states, if it states one: the log's own present, so
    that a copy verifies alike whenever it is verified."""
    stated: ColumnClause[Any] = literal_column(_READ[connection.dialect.name])
    newest = select(stated).select_from(access_log_entries).order_by(access_log_entries.c.seq.desc()).limit(1)
    value = connection.execute(newest).scalar()
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    try:
        time = None if text is None else dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if time is None or time.tzinfo is None else time.astimezone(dt.UTC)
