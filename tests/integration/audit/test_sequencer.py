"""The sequencer: gapless leaf indices over committed events, whatever gaps `seq` has, with several
sequencers (app servers) at once."""

from __future__ import annotations

import logging
import threading

import pytest
from audit_support import SETTLE, Clock, append, append_at, event, naive_root
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from shadan.audit.entry import entry_bytes
from shadan.audit.log import SqlAccessLog, access_events, access_log_entries
from shadan.audit.merkle import EMPTY_ROOT, leaf_hash, root_at
from shadan.audit.sequencer import Sequencer, read_state
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_store import node_reader
from shadan.audit.tree_tables import log_leaves
from shadan.store.database import make_engine


def leaves(engine: Engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(select(log_leaves.c.leaf_index, log_leaves.c.seq).order_by("leaf_index"))
        return [(int(i), int(s)) for i, s in rows]


def horizon(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_state(connection).horizon_seq


def events_root(engine: Engine) -> bytes:
    """The root computed from the events in leaf order, without the stored subtree hashes."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(access_events)
            .join(log_leaves, log_leaves.c.seq == access_events.c.seq)
            .order_by(log_leaves.c.leaf_index)
        ).mappings()
        return naive_root([leaf_hash(entry_bytes(r)) for r in rows])


def test_an_empty_log_has_the_empty_root(engine: Engine, clock: Clock) -> None:
    assert Sequencer(engine, clock).sequence() == 0
    with engine.connect() as connection:
        assert root_at(0, node_reader(connection)) == EMPTY_ROOT


def test_leaves_are_gapless_where_seq_has_gaps(engine: Engine, clock: Clock) -> None:
    append(engine, 1, 3)
    with engine.connect() as connection:  # a rolled-back request: PostgreSQL burns its seq numbers
        connection.begin()
        SqlAccessLog(connection).append([event(90)])
        connection.rollback()
    append_at(engine, 10)
    append(engine, 11, 2)
    sequencer = Sequencer(engine, clock, SETTLE, batch=2)
    assert sequencer.sequence() == 6
    got = leaves(engine)
    assert [i for i, _ in got] == list(range(6))
    assert [s for _, s in got] == sorted(s for _, s in got)
    assert horizon(engine) == 3  # the gap 4..9 may still fill: its numbers could be in flight
    clock.advance(SETTLE.total_seconds() + 1)
    sequencer.sequence()
    assert horizon(engine) == got[-1][1]
    with engine.connect() as connection:
        assert root_at(6, node_reader(connection)) == events_root(engine)


def test_a_late_commit_within_the_settle_window_is_logged(engine: Engine, clock: Clock) -> None:
    append_at(engine, 1)
    append_at(engine, 3)  # seq 2 is still in flight
    sequencer = Sequencer(engine, clock, SETTLE)
    sequencer.sequence()
    clock.advance(10)
    append_at(engine, 2)  # ... and commits now
    assert sequencer.sequence() == 3
    assert leaves(engine) == [(0, 1), (1, 3), (2, 2)]
    assert horizon(engine) == 3


def test_a_commit_later_than_the_settle_window_is_not_sequenced(engine: Engine, clock: Clock) -> None:
    append_at(engine, 1)
    append_at(engine, 3)
    sequencer = Sequencer(engine, clock, SETTLE)
    sequencer.sequence()
    clock.advance(SETTLE.total_seconds() + 1)
    sequencer.sequence()
    append_at(engine, 2)
    assert sequencer.sequence() == 2
    assert leaves(engine) == [(0, 1), (1, 3)]


def test_an_entry_the_index_cannot_hold_is_left_out_with_nothing_of_it_written(
    engine: Engine, owner_engine: Engine, clock: Clock
) -> None:
    """A lone surrogate escape in a list written straight into the table (docs/access-log.md, time
    spans). PostgreSQL's jsonb check refuses the entry. SQLite stores it, and its reading is no valid
    UTF-8 and Python's cannot be stored: the event is left out, no row of it in the index, and the
    events before and after it get their leaves, as does the record of it (seq 5)."""
    append(engine, 1, 2)
    crafted = {"entry": '{"resource_ids":["\\ud800"],"seq":3}'}
    insert = text("INSERT INTO access_log_entries (seq, entry) VALUES (3, :entry)")
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError), owner_engine.begin() as connection:
            connection.execute(insert, crafted)
        return
    with owner_engine.begin() as connection:
        connection.execute(insert, crafted)
    append(engine, 4, 1)
    assert Sequencer(engine, clock).sequence() == 4
    assert leaves(engine) == [(0, 1), (1, 2), (2, 4), (3, 5)]
    with engine.connect() as connection:
        indexed = connection.execute(text("SELECT DISTINCT seq FROM log_resource_ids ORDER BY seq")).scalars()
        assert list(indexed) == [1, 2, 4, 5]


def test_an_entry_the_sequencer_cannot_read_is_left_out_named_and_passed(
    engine: Engine, owner_engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries written straight into the table whose `ts` the database cannot read: on SQLite a lone
    surrogate escape (SQLite hands Python text that is no UTF-8), on PostgreSQL no time (the cast fails).
    Each is found, named once and left out, and recorded (seq 11 and 12: test_left_out_records.py);
    every other event gets its leaf, across batches and ticks; once settled, the horizon passes them
    (verification then reports them: test_verify_tampering.py)."""
    append(engine, 1, 10)
    ts = '"\\ud800"' if engine.dialect.name == "sqlite" else '"no time"'
    with owner_engine.begin() as connection:
        for seq in (6, 8):
            connection.execute(
                text("UPDATE access_log_entries SET entry = :entry WHERE seq = :seq"),
                {"entry": f'{{"seq":{seq},"ts":{ts}}}', "seq": seq},
            )
    sequencer = Sequencer(engine, clock, SETTLE, batch=4)
    with caplog.at_level(logging.CRITICAL, logger="shadan.audit.sequencer"):
        assert sequencer.sequence() == 10
        append(engine, 13, 1)
        assert sequencer.sequence() == 11  # the next tick reads past them without looking again
    assert [seq for _, seq in leaves(engine)] == [1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13]
    named = [r.getMessage() for r in caplog.records if r.name == "shadan.audit.sequencer"]
    assert [m.split(" ")[1] for m in named] == ["6", "8"]
    assert horizon(engine) == 5
    clock.advance(SETTLE.total_seconds() + 1)
    assert Sequencer(engine, clock, SETTLE, batch=4).sequence() == 11  # another server: settled, passed
    assert horizon(engine) == 13


@pytest.mark.postgres
def test_postgres_out_of_order_commits_are_all_logged(engine: Engine, clock: Clock, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite commits in seq order")
    slow = engine.connect()
    slow.begin()
    SqlAccessLog(slow).append([event(1)])  # takes seq 1, commits last
    append(engine, 2, 2)
    sequencer = Sequencer(engine, clock, SETTLE)
    assert sequencer.sequence() == 2
    slow.commit()
    slow.close()
    assert sequencer.sequence() == 3
    assert [s for _, s in leaves(engine)] == [2, 3, 1]


def test_concurrent_sequencers_on_separate_servers_log_every_event_once(
    engine: Engine, clock: Clock, db_url: str
) -> None:
    servers = [make_engine(db_url) for _ in range(3)]
    errors: list[BaseException] = []

    def work(server: Engine, offset: int) -> None:
        try:
            sequencer = Sequencer(server, clock, SETTLE, batch=7)
            for round_ in range(8):
                append(server, 1000 * offset + 10 * round_, 5)
                sequencer.sequence()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(servers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for server in servers:
        server.dispose()
    assert errors == []
    Sequencer(engine, clock, SETTLE).sequence()
    got = leaves(engine)
    assert [i for i, _ in got] == list(range(120))
    assert len({s for _, s in got}) == 120
    with engine.connect() as connection:
        assert root_at(120, node_reader(connection)) == events_root(engine)


def test_the_entry_bytes_are_the_same_on_every_database(engine: Engine) -> None:
    """The stored entry, and the entry of the columns the view derives from it."""
    append(engine, 7, 1)
    with engine.connect() as connection:
        stored = connection.execute(select(access_log_entries.c.entry)).scalar_one()
        row = connection.execute(select(access_events)).mappings().one()
    assert (
        stored.encode("utf-8")
        == entry_bytes(row)
        == (
            '{"account_id":"k.tanaka","action":"view","categories":["supply_point","location"],'
            '"company_id":"td06","detail":"","event_id":"ev-000007","extra":{"n":7},"outcome":"allowed",'
            '"person_id":"p001","policy_ids":[],"purpose":"託送業務","resource_ids":["0600001111222233300007"],'
            '"resource_type":"supply_point","seq":1,"source_ip":"10.0.0.7","system":"shadan",'
            '"terminal_id":"OSK-TD-0612","ts":"2025-04-01T00:00:07.000000Z","v":1,"withheld_categories":[]}'
        ).encode()
    )


@pytest.mark.postgres
def test_postgres_app_role_cannot_rewrite_the_tree(
    engine: Engine, tlog: SqlTransparencyLog, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL grants")
    append(engine, 1, 3)
    tlog.sequence()
    tlog.sign_checkpoint()
    app = create_engine(db_url)
    for statement in (
        "UPDATE log_leaves SET leaf_hash = leaf_hash",
        "DELETE FROM log_nodes",
        "UPDATE log_checkpoints SET note = note",
        "DELETE FROM log_checkpoints",
        "DELETE FROM log_state",
        "DELETE FROM log_time_spans",  # it may widen a span (UPDATE): verification reports a narrowed one
    ):
        with app.connect() as connection, pytest.raises(Exception, match="permission denied"):
            connection.execute(text(statement))
    app.dispose()
