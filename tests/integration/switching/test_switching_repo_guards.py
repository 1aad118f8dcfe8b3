"""What the store refuses by itself: a state changed twice, an id claimed twice, rewritten records."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError
from switching_registry import application_line, applications_csv, point_id

from shadan.domain.switching_case import CaseState, SwitchingConflict
from shadan.services.switching_cases import SwitchingCaseService
from shadan.services.switching_events import SwitchingActor
from shadan.store.unit_of_work import SqlUnitOfWorkFactory

OPERATOR = SwitchingActor("system:switching-test")
NOW = dt.datetime(2025, 4, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def stored(cases: SwitchingCaseService) -> int:
    """The row id of one pending cancellation."""
    report = cases.submit(applications_csv([application_line("AP01", 1)]).encode(), OPERATOR)
    return report.rows[0].row_id


def test_a_row_that_is_no_longer_pending_is_not_changed_again(stored: int, uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        work.switching.change_state([stored], CaseState.WITHDRAWN, NOW)
        with pytest.raises(SwitchingConflict):
            work.switching.change_state([stored], CaseState.MATCHED, NOW, {stored: stored})


def test_an_application_id_cannot_be_claimed_twice(stored: int, uow: SqlUnitOfWorkFactory) -> None:
    with uow() as work:
        (row,) = work.switching.rows_on(point_id(1))
        with pytest.raises(SwitchingConflict):
            work.switching.add_rows(row.submission_id, [row.record], NOW)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE switching_history SET reason = 'rewritten'",
        "DELETE FROM switching_history",
        "DELETE FROM switching_applications",
        "UPDATE switching_applications SET message = 'rewritten'",
        "UPDATE switching_submissions SET accepted_count = 0",
    ],
)
def test_the_application_role_cannot_rewrite_switching_records(
    stored: int, engine: Engine, statement: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("grants are PostgreSQL's")
    with pytest.raises(ProgrammingError, match="permission denied"), engine.begin() as connection:
        connection.execute(text(statement))
