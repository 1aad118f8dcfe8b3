"""What the table owner can hang on the log's tables: a trigger that drops or rewrites events as the
requests append them, a rule that does the same, row-level security that hides rows. No stored row is
changed afterwards, so no hash shows it; verification names each hook from the catalog (exit code 23),
on SQLite and PostgreSQL. PostgreSQL's database is shared by the session: every hook is removed after."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from audit_support import AUDITOR, append, event
from sqlalchemy import Engine, func, select

from shadan.audit.log import SqlAccessLog, access_events
from shadan.audit.table_hooks import hooks_on_the_log
from shadan.services.audit_log import AuditLogService, LogFailureKind

Hook = Callable[[str, str], None]

DROP_YAMADA_SQLITE = (
    "CREATE TRIGGER hide_yamada BEFORE INSERT ON access_log_entries"
    " WHEN json_extract(NEW.entry, '$.account_id') = 'y.yamada' BEGIN SELECT RAISE(IGNORE); END"
)
DROP_YAMADA_POSTGRESQL = (
    "CREATE FUNCTION hide_yamada() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.entry::jsonb ->> 'account_id' = 'y.yamada' THEN RETURN NULL; END IF; RETURN NEW; END $$;"
    " CREATE TRIGGER hide_yamada BEFORE INSERT ON access_log_entries"
    " FOR EACH ROW EXECUTE FUNCTION hide_yamada()"
)


@pytest.fixture
def hook(owner_engine: Engine) -> Iterator[Hook]:
    """Runs the owner's statement, and its undoing after the test."""
    undo: list[str] = []

    def run(statement: str, undoing: str) -> None:
        with owner_engine.begin() as connection:
            connection.exec_driver_sql(statement)
        undo.append(undoing)

    yield run
    with owner_engine.begin() as connection:
        for undoing in reversed(undo):
            connection.exec_driver_sql(undoing)


@pytest.fixture
def logged(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 10)
    service.checkpoint()


def test_a_migrated_log_has_no_hooks(engine: Engine) -> None:
    with engine.connect() as connection:
        assert hooks_on_the_log(connection) == []  # foreign keys' own triggers are not hooks


def test_a_trigger_that_drops_a_persons_events_as_they_are_appended(
    engine: Engine, hook: Hook, service: AuditLogService, logged: None
) -> None:
    if engine.dialect.name == "sqlite":
        hook(DROP_YAMADA_SQLITE, "DROP TRIGGER hide_yamada")
    else:
        hook(
            DROP_YAMADA_POSTGRESQL,
            "DROP TRIGGER hide_yamada ON access_log_entries; DROP FUNCTION hide_yamada()",
        )
    with engine.begin() as connection:  # the request's append succeeds: the request gets its answer
        SqlAccessLog(connection).append([event(11, account_id="y.yamada"), event(12)])
    with engine.connect() as connection:
        accounts = connection.execute(select(access_events.c.account_id).where(access_events.c.seq > 10))
        assert accounts.scalars().all() == ["k.tanaka"]  # y.yamada's read was never recorded
    report = service.verify(None, run_by=AUDITOR)
    # Nothing else tells: on SQLite the next event took the dropped one's seq, and PostgreSQL's gap in
    # the seqs is what a rolled-back transaction leaves too.
    assert [f.kind for f in report.failures] == [LogFailureKind.TABLE_HOOK]
    assert report.exit_code == 23
    assert report.failures[0].detail_en == "found trigger hide_yamada on access_log_entries"
    assert report.failures[0].detail_ja == "access_log_entries のトリガー hide_yamada があります"


def test_a_rule_and_row_level_security_are_named(
    engine: Engine, hook: Hook, service: AuditLogService, logged: None
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL only: SQLite has neither rules nor row-level security")
    hook(
        "CREATE RULE swallow AS ON INSERT TO access_log_entries DO INSTEAD NOTHING",
        "DROP RULE swallow ON access_log_entries",
    )
    hook(
        "ALTER TABLE log_leaves ENABLE ROW LEVEL SECURITY; CREATE POLICY all_rows ON log_leaves USING (true)",
        "DROP POLICY all_rows ON log_leaves; ALTER TABLE log_leaves DISABLE ROW LEVEL SECURITY",
    )
    report = service.verify(None, run_by=AUDITOR)
    assert [f.kind for f in report.failures] == [LogFailureKind.TABLE_HOOK]
    assert report.exit_code == 23
    detail = report.failures[0].detail_en
    assert "rule swallow on access_log_entries" in detail
    assert "row-level security on log_leaves" in detail
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(access_events)).scalar_one() == 10
