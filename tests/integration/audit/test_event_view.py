"""`access_events` is a view of the stored entries (audit/event_view.py): its columns are the entries',
its searches use the indexes on the entries, and verification notices when it is not the view shadan
created."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from audit_support import AUDITOR, append, event
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from shadan.audit.entry import as_utc
from shadan.audit.event_view import create_view, definition_differs
from shadan.audit.log import SqlAccessLog, access_events, access_log_entries, event_to_row
from shadan.services.audit_log import AuditLogService, LogFailureKind

HOSTILE = [
    event(1, detail='say "x" \\ y', extra={"n": 1, "a": ["東京", None, True]}),
    event(
        2,
        # U+001E separates the entries of a batch on their way to PostgreSQL (audit/log.py)
        detail="line\x01\x1e\t\u2028end",
        purpose="託送業務（緊急）",
        resource_ids=('x"y', "0600000000000000000001", "\x1e"),
    ),
    event(3, terminal_id="端末 ' OR 1=1 --", categories=(), extra={"ratio": 0.25, "deep": {"z": [1.5]}}),
]


def viewed(row: Any) -> dict[str, Any]:
    """A row of the view as the row the append path builds of an event (log.event_to_row)."""
    fields = {name: value for name, value in row._mapping.items() if name != "seq"}
    return fields | {"ts": as_utc(fields["ts"])}


def test_the_columns_are_the_events_as_appended(engine: Engine) -> None:
    with engine.begin() as connection:
        SqlAccessLog(connection).append(HOSTILE)
    with engine.connect() as connection:
        rows = connection.execute(select(access_events).order_by(access_events.c.seq)).all()
    expected = [
        *HOSTILE[:2],
        # a number that is not an integer is a string in the entry (entry.py), and so in the column
        dataclasses.replace(HOSTILE[2], extra={"ratio": "0.25", "deep": {"z": ["1.5"]}}),
    ]
    assert [viewed(r) for r in rows] == [event_to_row(e) for e in expected]
    assert [r.seq for r in rows] == [1, 2, 3]


def test_an_untouched_view_is_the_one_created(engine: Engine) -> None:
    assert not definition_differs(engine)


@pytest.fixture
def restored_view(engine: Engine, owner_engine: Engine) -> Iterator[None]:
    """The test may change the view: PostgreSQL's database is shared by the session, so put it back."""
    yield
    dialect = engine.dialect.name
    with owner_engine.begin() as connection:
        connection.execute(text("DROP VIEW IF EXISTS access_events"))
        connection.execute(text(create_view(dialect)))
        if dialect == "postgresql":
            connection.execute(text(f'GRANT SELECT ON access_events TO "{engine.url.username}"'))


@pytest.mark.parametrize("change", ["hides rows", "shows another column", "is gone"])
@pytest.mark.usefixtures("restored_view")
def test_a_changed_view_is_reported(
    engine: Engine, owner_engine: Engine, service: AuditLogService, change: str
) -> None:
    append(engine, 1, 5)
    service.checkpoint()
    dialect = engine.dialect.name
    column = (
        "json_extract(entry, '$.account_id')" if dialect == "sqlite" else "(entry::jsonb ->> 'account_id')"
    )
    replaced = {
        "hides rows": f"{create_view(dialect)} WHERE seq <> 3",
        "shows another column": create_view(dialect).replace(
            f"{column} AS account_id", "'nobody' AS account_id"
        ),
        "is gone": "",
    }[change]
    with owner_engine.begin() as connection:
        connection.execute(text("DROP VIEW access_events"))
        if replaced:
            connection.execute(text(replaced))
    report = service.verify(run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.EVENT_VIEW]
    assert report.exit_code == 21
    assert report.events_checked == 5  # the entries themselves still verify


@pytest.mark.postgres
@pytest.mark.usefixtures("restored_view")
def test_a_view_read_with_its_owners_rights_is_reported(
    engine: Engine, owner_engine: Engine, db_url: str
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("security_invoker is PostgreSQL's")
    with owner_engine.begin() as connection:
        connection.execute(text("ALTER VIEW access_events RESET (security_invoker)"))
    assert definition_differs(engine)


@pytest.mark.parametrize(
    ("column", "index"),
    [
        ("account_id", "ix_access_events_account_id_seq"),
        ("person_id", "ix_access_events_person_id_seq"),
        ("event_id", "uq_access_events_event_id"),
    ],
)
def test_searches_through_the_view_use_the_indexes_on_the_entries(
    engine: Engine, column: str, index: str
) -> None:
    append(engine, 1, 50)
    query = select(access_events.c.seq).where(access_events.c[column] == "x").order_by(access_events.c.seq)
    compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        else:
            connection.execute(text("SET LOCAL enable_seqscan = off"))  # 50 rows: a scan would be cheaper
            plan = " ".join(r[0] for r in connection.execute(text(f"EXPLAIN {compiled}")))
    assert index in plan


def test_only_json_can_be_stored_as_an_entry(owner_engine: Engine) -> None:
    with pytest.raises(DBAPIError), owner_engine.begin() as connection:
        connection.execute(access_log_entries.insert().values(seq=1, entry="not json"))


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"detail": "a\x00b"}, {"detail": "a\ufffdb"}),
        ({"resource_ids": ("x", "\x00")}, {"resource_ids": ("x", "\ufffd")}),
        ({"extra": {"k\x00": ["\x00"]}}, {"extra": {"k\ufffd": ["\ufffd"]}}),
    ],
)
def test_a_nul_character_is_stored_as_the_replacement_character(
    engine: Engine, changes: dict[str, Any], stored: dict[str, Any]
) -> None:
    """Neither database's view can give a NUL character back (SQLite's JSON functions cut the text
    there, PostgreSQL's text cannot hold it); the event is still logged, with U+FFFD in its place."""
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(1, **changes)])
    with engine.connect() as connection:
        assert viewed(connection.execute(select(access_events)).one()) == event_to_row(event(1, **stored))
