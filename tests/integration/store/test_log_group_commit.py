"""Group commit of the access log on the real database (SQLite and PostgreSQL): every acknowledged event
is committed exactly once, a batch is one transaction, and a failed batch fails every waiting request.

No test here measures time. Where a test needs a batch of a known size, the first commit is held at a
gate until the other requests are seen waiting, then released.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from shadan.audit.group_commit import GroupCommit, sql_write
from shadan.audit.log import SqlAccessLog, access_events
from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.store.database import make_engine

NOW = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
PATIENCE_S = 30.0  # how long a test waits for other threads to arrive before it gives up (never hit)


def event(account: str = "k.tanaka") -> AccessEvent:
    return AccessEvent(
        event_id=uuid.uuid4().hex,
        ts=NOW,
        system="shadan-test",
        account_id=account,
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=("0600000000000000000001",),
        outcome=Outcome.ALLOWED,
        purpose="託送業務",
    )


def stored(engine: Engine) -> list[tuple[int, str]]:
    """(seq, event_id) of every committed event, in log order, read on a fresh connection."""
    with engine.connect() as connection:
        rows = connection.execute(select(access_events.c.seq, access_events.c.event_id).order_by("seq"))
        return [(int(seq), event_id) for seq, event_id in rows]


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the other requests never arrived")
        time.sleep(0.001)


class HeldWriter:
    """Wraps the real write: records each batch, holds the first one until released, can fail one."""

    def __init__(self, engine: Engine, fail_batch: int | None = None) -> None:
        self._write = sql_write(engine)
        self._engine = engine
        self.release = threading.Event()
        self.batches: list[list[str]] = []
        self._fail_batch = fail_batch

    def __call__(self, events: Sequence[AccessEvent]) -> None:
        self.batches.append([e.event_id for e in events])
        if len(self.batches) == 1:
            self.release.wait(PATIENCE_S)
        if len(self.batches) == self._fail_batch:
            self._insert_then_fail(events)
        self._write(events)

    def _insert_then_fail(self, events: Sequence[AccessEvent]) -> None:
        # The worst moment: the rows are in the transaction, the commit never happens.
        with self._engine.connect() as connection:
            SqlAccessLog(connection).append(events)
            raise OSError("disk full")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=12) as executor:
        yield executor


def test_concurrent_requests_are_all_committed_once_and_visible_on_return(
    engine: Engine, pool: ThreadPoolExecutor
) -> None:
    log = GroupCommit.on(engine)
    visible_on_return: list[bool] = []

    def request(n: int) -> str:
        one = event(f"user-{n % 7}")
        log.record([one])
        # Committed before record returned: another connection (another server) sees it at once.
        with engine.connect() as other:
            found = other.execute(select(access_events.c.seq).where(access_events.c.event_id == one.event_id))
            visible_on_return.append(found.first() is not None)
        return one.event_id

    acknowledged = list(pool.map(request, range(400)))
    rows = stored(engine)
    assert all(visible_on_return)
    assert sorted(e for _, e in rows) == sorted(acknowledged)  # none lost, none duplicated
    seqs = [s for s, _ in rows]
    assert seqs == list(range(seqs[0], seqs[0] + len(acknowledged)))  # no gaps


def test_events_of_one_request_stay_together_and_in_order(engine: Engine, pool: ThreadPoolExecutor) -> None:
    log = GroupCommit.on(engine)
    requests = [[event(f"user-{n}") for _ in range(3)] for n in range(40)]
    list(pool.map(log.record, requests))
    order = [e for _, e in stored(engine)]
    for events in requests:
        first = order.index(events[0].event_id)
        assert order[first : first + 3] == [e.event_id for e in events]


def test_requests_arriving_during_a_commit_share_the_next_one(
    engine: Engine, pool: ThreadPoolExecutor
) -> None:
    writer = HeldWriter(engine)
    log = GroupCommit(writer)
    first = pool.submit(log.record, [event()])
    wait_until(lambda: len(writer.batches) == 1)
    waiting = [pool.submit(log.record, [event()]) for _ in range(10)]
    wait_until(lambda: log.waiting == 10)
    writer.release.set()
    for future in [first, *waiting]:
        future.result(PATIENCE_S)
    assert [len(b) for b in writer.batches] == [1, 10]  # ten requests, one transaction
    assert len(stored(engine)) == 11


def test_a_failed_batch_fails_every_waiting_request_and_commits_none_of_it(
    engine: Engine, pool: ThreadPoolExecutor
) -> None:
    writer = HeldWriter(engine, fail_batch=2)
    log = GroupCommit(writer)
    first = pool.submit(log.record, [event()])
    wait_until(lambda: len(writer.batches) == 1)
    doomed = [pool.submit(log.record, [event()]) for _ in range(8)]
    wait_until(lambda: log.waiting == 8)
    writer.release.set()
    first.result(PATIENCE_S)
    for future in doomed:
        with pytest.raises(AuditUnavailable):
            future.result(PATIENCE_S)
    assert [e for _, e in stored(engine)] == writer.batches[0]

    # The failure is not sticky: the next request commits normally.
    later = event()
    log.record([later])
    assert [e for _, e in stored(engine)] == [*writer.batches[0], later.event_id]


def test_an_unwritable_log_fails_the_request(engine: Engine) -> None:
    def broken(events: Sequence[AccessEvent]) -> None:
        with engine.connect() as connection:
            SqlAccessLog(connection).append([*events, events[0]])  # a duplicate event id: refused

    with pytest.raises(AuditUnavailable):
        GroupCommit(broken).record([event()])
    assert stored(engine) == []


def test_two_app_servers_commit_concurrently_on_one_database(db_url: str, pool: ThreadPoolExecutor) -> None:
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        servers = [GroupCommit.on(e) for e in engines]

        def request(n: int) -> str:
            one = event()
            servers[n % 2].record([one])
            return one.event_id

        acknowledged = list(pool.map(request, range(200)))
        with engines[0].connect() as connection:
            count = connection.execute(select(func.count()).select_from(access_events)).scalar_one()
        assert count == 200
        assert sorted(e for _, e in stored(engines[1])) == sorted(acknowledged)
    finally:
        for e in engines:
            e.dispose()


def test_nothing_to_record_touches_nothing(engine: Engine) -> None:
    def never(events: Sequence[AccessEvent]) -> None:
        raise AssertionError("no write expected")

    GroupCommit(never).record([])
