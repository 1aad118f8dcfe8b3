"""`verify` notices when the entries table lost a safeguard of migration 0008 (audit/entry_safeguards.py):
its check that each entry is JSON, or one of the view's three indexes. Tampered the way the table owner
would, with raw SQL; reported under the key constraints' kind (exit code 22)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_support import AUDITOR, append, event
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from shadan.audit.entry_safeguards import lapsed_safeguards
from shadan.audit.event_view import CHECK, INDEXES, TABLE, check_constraint, column_expression, create_indexes
from shadan.audit.log import SqlAccessLog
from shadan.services.audit_log import AuditLogService, LogFailure, LogFailureKind

UNIQUE, BY_ACCOUNT, BY_PERSON = INDEXES


@pytest.fixture
def logged(engine: Engine, service: AuditLogService) -> None:
    """30 events in the tree, with checkpoints."""
    for first in (1, 11, 21):
        append(engine, first, 10)
        service.checkpoint()


@pytest.fixture
def owner(owner_engine: Engine) -> Iterator[Connection]:
    """The table owner's connection, for a tampering the test commits. PostgreSQL's database is shared by
    the session: the safeguards are made again afterwards, on an emptied table."""
    with owner_engine.connect() as connection:
        yield connection
    if owner_engine.dialect.name == "sqlite":
        return  # a file of the test's own
    with owner_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLE} CASCADE"))
        connection.execute(text(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {CHECK}"))
        check = check_constraint("postgresql")
        connection.execute(text(f"ALTER TABLE {TABLE} ADD CONSTRAINT {CHECK} CHECK ({check})"))
        for name, statement in zip(INDEXES, create_indexes("postgresql"), strict=True):
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
            connection.execute(text(statement))


def finding(service: AuditLogService) -> LogFailure:
    """The one failure of a log whose rows are all as logged."""
    report = service.verify(None, run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.KEY_CONSTRAINT]
    assert report.exit_code == 22
    return report.failures[0]


def expression(connection: Connection, field: str) -> str:
    return column_expression(connection.dialect.name, field)


@pytest.mark.usefixtures("logged")
def test_untouched_safeguards_pass(engine: Engine, service: AuditLogService) -> None:
    assert lapsed_safeguards(engine).found == ()
    assert service.verify(None, run_by=AUDITOR).ok


@pytest.mark.usefixtures("logged")
@pytest.mark.parametrize("index", INDEXES)
def test_a_dropped_index(owner: Connection, service: AuditLogService, index: str) -> None:
    owner.execute(text(f"DROP INDEX {index}"))
    owner.commit()
    failure = finding(service)
    assert failure.detail_en == f"the index {index} is gone"
    assert failure.detail_ja == f"索引 {index} がありません"
    assert failure.seq is None


@pytest.mark.usefixtures("logged")
def test_the_unique_index_made_again_not_unique(owner: Connection, service: AuditLogService) -> None:
    owner.execute(text(f"DROP INDEX {UNIQUE}"))
    owner.execute(text(f"CREATE INDEX {UNIQUE} ON {TABLE} ({expression(owner, 'event_id')})"))
    owner.commit()
    assert finding(service).detail_en == f"the index {UNIQUE} is not unique"


@pytest.mark.usefixtures("logged")
@pytest.mark.parametrize(
    ("index", "columns"),
    [
        # still unique and over the event id, but with seq beside it no two rows can ever collide
        (UNIQUE, "{event_id}, seq"),
        (BY_ACCOUNT, "{person_id}, seq"),
        (BY_PERSON, "seq"),  # parses no entry as it is written
    ],
)
def test_an_index_made_again_over_another_expression(
    owner: Connection, service: AuditLogService, index: str, columns: str
) -> None:
    unique = "UNIQUE " if index == UNIQUE else ""
    over = columns.format(event_id=expression(owner, "event_id"), person_id=expression(owner, "person_id"))
    owner.execute(text(f"DROP INDEX {index}"))
    owner.execute(text(f"CREATE {unique}INDEX {index} ON {TABLE} ({over})"))
    owner.commit()
    assert finding(service).detail_en == f"the index {index} is not the one shadan created"


def rebuild_table(owner: Connection, check: str) -> None:
    """SQLite cannot drop a constraint: the owner makes the table again, its key and indexes as before."""
    columns = f"seq INTEGER NOT NULL PRIMARY KEY, entry TEXT NOT NULL{check}"
    owner.execute(text(f"CREATE TABLE {TABLE}_new ({columns})"))
    owner.execute(text(f"INSERT INTO {TABLE}_new SELECT seq, entry FROM {TABLE}"))
    owner.execute(text(f"DROP TABLE {TABLE}"))
    owner.execute(text("PRAGMA legacy_alter_table = ON"))  # the view is not checked on rename
    owner.execute(text(f"ALTER TABLE {TABLE}_new RENAME TO {TABLE}"))
    for statement in create_indexes("sqlite"):
        owner.execute(text(statement))


@pytest.mark.usefixtures("logged")
@pytest.mark.parametrize(
    ("change", "how"), [("dropped", "is gone"), ("weakened", "is not the one shadan created")]
)
def test_the_check_dropped_or_weakened(
    owner: Connection, service: AuditLogService, change: str, how: str
) -> None:
    weaker = "length(entry) > 0"
    if owner.dialect.name == "sqlite":
        rebuild_table(owner, "" if change == "dropped" else f", CONSTRAINT {CHECK} CHECK ({weaker})")
    else:
        owner.execute(text(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CHECK}"))
        if change == "weakened":
            owner.execute(text(f"ALTER TABLE {TABLE} ADD CONSTRAINT {CHECK} CHECK ({weaker})"))
    owner.commit()
    failure = finding(service)
    assert failure.detail_en == f"the check {CHECK} (entries are JSON only) {how}"
    assert failure.detail_ja.startswith(f"検査制約 {CHECK}（記録は JSON のみ）")


@pytest.mark.usefixtures("logged")
def test_an_event_logged_under_an_earlier_events_id(
    engine: Engine, owner: Connection, service: AuditLogService
) -> None:
    """Without the unique index a second event can take a logged event's id: the tree proves it like any
    other, and the pages show two events under the one id."""
    owner.execute(text(f"DROP INDEX {UNIQUE}"))
    SqlAccessLog(owner).append([event(12, purpose="営業活動")])  # seq 31
    owner.commit()
    service.checkpoint()  # in the tree now
    with engine.connect() as connection:
        shown = connection.execute(text("SELECT purpose FROM access_events WHERE event_id = 'ev-000012'"))
        assert sorted(shown.scalars()) == ["営業活動", "託送業務"]
    failure = finding(service)
    assert failure.seq == 31
    assert (
        failure.detail_en
        == f"the index {UNIQUE} is gone (the event with seq 31 repeats an earlier event's id)"
    )
    assert "連番 31 のイベントが前のイベントと同じイベントIDを持っています" in failure.detail_ja


@pytest.mark.usefixtures("logged")
def test_an_unfinished_unique_index(
    owner_engine: Engine, owner: Connection, service: AuditLogService
) -> None:
    """PostgreSQL keeps the index of a CREATE INDEX CONCURRENTLY that failed, invalid: it holds no key."""
    if owner_engine.dialect.name == "sqlite":
        pytest.skip("SQLite builds an index whole or not at all")
    owner.execute(text(f"DROP INDEX {UNIQUE}"))
    SqlAccessLog(owner).append([event(12)])  # seq 31, under a logged event's id
    owner.commit()
    build = f"CREATE UNIQUE INDEX CONCURRENTLY {UNIQUE} ON {TABLE} ({expression(owner, 'event_id')})"
    autocommit = owner_engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection, pytest.raises(DBAPIError, match="could not create unique index"):
        connection.execute(text(build))  # CONCURRENTLY: outside a transaction
    failure = finding(service)
    assert failure.detail_en.startswith(f"the index {UNIQUE} is invalid (its build did not finish)")
    assert failure.seq == 31


@pytest.mark.usefixtures("logged")
def test_every_lapse_and_key_named_in_one_finding(owner: Connection, service: AuditLogService) -> None:
    """The entries' safeguards and the keys' constraints share a kind: one finding names them all."""
    if owner.dialect.name == "sqlite":
        owner.execute(text(f"CREATE TABLE {TABLE}_plain AS SELECT * FROM {TABLE}"))  # no key, no check
        owner.execute(text(f"DROP TABLE {TABLE}"))  # and its indexes
        owner.execute(text("PRAGMA legacy_alter_table = ON"))
        owner.execute(text(f"ALTER TABLE {TABLE}_plain RENAME TO {TABLE}"))
    else:
        owner.execute(text(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CHECK}"))
        for index in INDEXES:
            owner.execute(text(f"DROP INDEX {index}"))
    owner.commit()
    named = finding(service).detail_en
    for part in (f"the check {CHECK}", *(f"the index {index} is gone" for index in INDEXES)):
        assert part in named
    if owner.dialect.name == "sqlite":
        assert named.endswith(f"no unique constraint any more on {TABLE}.seq")
