"""The auditors' queries on SQLite and PostgreSQL: exact supply-point match inside the JSON list, person
and period filters on Japan-time day boundaries, paging by seq, capped counts, the log's counts and the
witnesses' cosignatures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from audit_support import event, listening, sqlite_plans, statements_of
from sqlalchemy import Engine, delete, func, insert, select, text

from shadan.audit.entry import entry_around_seq
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog, access_events, event_to_row
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.record_tables import log_cosignatures
from shadan.audit.sequencer import Sequencer
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_tables import log_checkpoints, log_resource_ids
from shadan.domain.vocabulary import Action, Outcome
from shadan.services.audit_filters import EventFilters, FilterInput
from shadan.services.audit_review import SearchTimedOut

POINT = "0600001111222233334444"
OTHER = "0600001111222233335555"


def _append(engine: Engine, *changes: dict[str, Any]) -> None:
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(i, **c) for i, c in enumerate(changes, start=1)])


def _count(search: SqlLogSearch, filters: EventFilters, cap: int) -> int | None:
    return search.page(filters, None, 1, cap)[1]


def _seqs(search: SqlLogSearch, before: int | None = None, limit: int = 100, **raw: str) -> list[int]:
    return [e.seq for e in search.search(EventFilters.parse(FilterInput(**raw)), before, limit)]


def test_supply_point_search_is_exact(engine: Engine) -> None:
    _append(
        engine,
        {"resource_ids": (POINT,)},  # 1
        {"resource_ids": (OTHER, POINT)},  # 2: one of several
        {"resource_ids": (OTHER,)},  # 3
        {"resource_ids": (POINT + "9",)},  # 4: a longer id that contains it
        {"resource_ids": ("9" + POINT,)},  # 5
        {"resource_ids": (f'x"{POINT}',)},  # 6: its JSON text holds "<POINT>" after an escaped quote
        {"resource_ids": (), "extra": {"term": POINT}},  # 7: named in the extras only
        {"resource_ids": (), "detail": f'"{POINT}"'},  # 8
    )
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert _seqs(search, supply_point_id=POINT) == [2, 1]
    assert _seqs(search, supply_point_id="０６００-0011-1122-2233-3355-55") == [3, 2]
    assert _seqs(search, supply_point_id="0600001111222233339999") == []


def test_sequenced_events_are_found_through_the_search_index(engine: Engine, owner_engine: Engine) -> None:
    _append(
        engine,
        {"resource_ids": (POINT,)},  # 1
        {"resource_ids": (OTHER, POINT, POINT)},  # 2: twice in its list, indexed once
        {"resource_ids": (POINT + "9",)},  # 3
        {"resource_ids": (), "extra": {"term": POINT}},  # 4
    )
    Sequencer(engine, lambda: dt.datetime(2025, 4, 1, tzinfo=dt.UTC)).sequence()
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(5, resource_ids=(POINT,))])  # not sequenced yet
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert _seqs(search, supply_point_id=POINT) == [5, 2, 1]
    with engine.connect() as connection:
        indexed = connection.execute(select(log_resource_ids.c.resource_id, log_resource_ids.c.seq)).all()
    assert sorted(indexed) == sorted([(POINT, 1), (OTHER, 2), (POINT, 2), (POINT + "9", 3)])
    # The index alone answers for sequenced events (an edited index is verification's finding).
    with owner_engine.begin() as connection:
        connection.execute(delete(log_resource_ids).where(log_resource_ids.c.seq == 2))
    assert _seqs(search, supply_point_id=POINT) == [5, 1]


# How an entry written straight into the table may hold the id under `resource_ids` (the JSON text).
_LISTS = {
    "in a list": f'["{POINT}"]',
    "in an object": f'{{"a":"{POINT}"}}',
    "in a list in the list": f'[["{POINT}"]]',
    "as the value itself": f'"{POINT}"',
    "after a number": f'[1,"{POINT}"]',
    "under a repeated key": f'["{OTHER}"],"resource_ids":["{POINT}"]',  # PostgreSQL reads the last
}


def test_events_waiting_for_a_leaf_are_found_as_they_will_be_indexed(
    engine: Engine, owner_engine: Engine
) -> None:
    """Before the sequencer indexes an event, a search reads its list as the sequencer will index it
    (search_index.naming): whatever the list's shape, the same events are found before and after."""
    _append(engine, *({"resource_ids": (POINT,)} for _ in _LISTS))
    with owner_engine.begin() as connection:
        for seq, listed in enumerate(_LISTS.values(), start=1):
            connection.execute(
                text("UPDATE access_log_entries SET entry = replace(entry, :old, :new) WHERE seq = :seq"),
                {"old": f'"resource_ids":["{POINT}"]', "new": f'"resource_ids":{listed}', "seq": seq},
            )
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    waiting = _seqs(search, supply_point_id=POINT)
    Sequencer(engine, lambda: dt.datetime(2025, 4, 1, tzinfo=dt.UTC)).sequence()
    assert _seqs(search, supply_point_id=POINT) == waiting
    assert waiting == ([6, 5, 1] if engine.dialect.name == "postgresql" else [5, 1])


def test_person_account_action_outcome_and_purpose_filters(engine: Engine) -> None:
    _append(
        engine,
        {"person_id": "p001"},
        {"person_id": "p002", "account_id": "y.ito"},
        {"person_id": "p001", "action": Action.SEARCH, "purpose": "問合せ対応"},
        {"person_id": "p001", "outcome": Outcome.DENIED},
    )
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert _seqs(search, person_id="p001") == [4, 3, 1]
    assert _seqs(search, person_id="p00") == []  # exact, not a prefix
    assert _seqs(search, account_id="y.ito") == [2]
    assert _seqs(search, person_id="p001", action="search") == [3]
    assert _seqs(search, outcome="denied") == [4]
    assert _seqs(search, purpose="問合せ対応") == [3]


def test_period_is_whole_days_in_japan_time(engine: Engine) -> None:
    utc = dt.UTC
    _append(
        engine,
        {"ts": dt.datetime(2025, 3, 31, 14, 59, 59, 999999, tzinfo=utc)},  # 03-31 23:59:59.999999 JST
        {"ts": dt.datetime(2025, 3, 31, 15, 0, tzinfo=utc)},  # 04-01 00:00 JST
        {"ts": dt.datetime(2025, 4, 1, 14, 59, 59, tzinfo=utc)},  # 04-01 23:59:59 JST
        {"ts": dt.datetime(2025, 4, 1, 15, 0, tzinfo=utc)},  # 04-02 00:00 JST
    )
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert _seqs(search, date_from="2025-04-01", date_to="2025-04-01") == [3, 2]
    assert _seqs(search, date_from="2025-04-02") == [4]
    assert _seqs(search, date_to="2025-03-31") == [1]


def test_paging_by_seq_and_capped_count(engine: Engine) -> None:
    _append(engine, *({} for _ in range(7)))
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert _seqs(search, limit=3) == [7, 6, 5]
    assert _seqs(search, before=5, limit=3) == [4, 3, 2]
    assert _seqs(search, before=2, limit=3) == [1]
    everything = EventFilters()
    assert _count(search, everything, 100) == 7
    assert _count(search, everything, 4) == 4
    assert _count(search, EventFilters(person_id="nobody"), 100) == 0


def test_injection_attempts_are_plain_values(engine: Engine) -> None:
    _append(engine, {}, {"account_id": "k.tanaka' OR '1'='1"})
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    for hostile in ("' OR '1'='1", "%", "_", "k.tanaka'; DELETE FROM access_events; --", '") OR ("1"="1'):
        assert _seqs(search, account_id=hostile) == []
        assert _seqs(search, purpose=hostile) == []
    assert _seqs(search, account_id="k.tanaka' OR '1'='1") == [2]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(access_events)).scalar_one() == 2


def test_counts_show_events_in_the_tree_and_those_waiting(engine: Engine) -> None:
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert search.counts().events_total == 0
    clock = lambda: dt.datetime(2025, 4, 1, tzinfo=dt.UTC)  # noqa: E731
    _append(engine, {}, {}, {})
    Sequencer(engine, clock).sequence()
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(10), event(11)])
    counts = search.counts()
    assert (counts.events_total, counts.tree_size, counts.pending_events, counts.deleted_events) == (
        5,
        3,
        2,
        0,
    )


def test_an_entry_that_is_no_event_is_shown_as_unreadable_and_stops_no_search(
    engine: Engine, owner_engine: Engine
) -> None:
    """Entries written straight into the table (shadan writes none of these): each search that meets one
    returns it as unreadable with its text, instead of failing, whether it states no time PostgreSQL can
    cast, an action shadan does not know, a lone surrogate or bytes that are no UTF-8 (SQLite stores
    both; PostgreSQL's check refuses them); a person's own history leaves them out."""
    _append(engine, {"resource_ids": (POINT,)})  # 1
    before, after = entry_around_seq(event_to_row(event(3)))
    crafted = [
        f'{{"account_id":"k.tanaka","person_id":"p001","resource_ids":["{POINT}"],"ts":"no time"}}',  # 2
        f"{before}3{after}".replace('"action":"view"', '"action":"delete_everything"'),  # 3
    ]
    sqlite = engine.dialect.name == "sqlite"
    with owner_engine.begin() as connection:
        insert_entry = text("INSERT INTO access_log_entries (entry) VALUES (:entry)")
        for entry in crafted:
            connection.execute(insert_entry, {"entry": entry})
        if sqlite:
            connection.execute(insert_entry, {"entry": '{"person_id":"p001","ts":"\\ud800"}'})  # 4
            no_utf8 = text("INSERT INTO access_log_entries (entry) VALUES (CAST(:entry AS TEXT))")
            connection.execute(no_utf8, {"entry": b'{"person_id":"p001","ts":"\xff"}'})  # 5
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(9, resource_ids=(POINT,))])
    last = 6 if sqlite else 4
    search = SqlLogSearch(engine, time_limit_seconds=10.0)

    found = search.search(EventFilters(), None, 100)
    assert [(e.seq, e.event is None) for e in found] == [
        (last, False),
        *((s, True) for s in range(last - 1, 1, -1)),
        (1, False),
    ]
    shown = {e.seq: e.unreadable_entry for e in found}
    assert (shown[2], shown[3]) == tuple(crafted)
    if sqlite:
        assert (shown[4], shown[5]) == (
            '{"person_id":"p001","ts":"\\ud800"}',
            '{"person_id":"p001","ts":"\ufffd"}',
        )
    assert _count(search, EventFilters(), 100) == last

    assert _seqs(search, person_id="p001") == [last, *((5, 4) if sqlite else ()), 3, 2, 1]
    assert _seqs(search, supply_point_id=POINT) == [last, 2, 1]  # 2 waits for its leaf: its JSON list
    assert _seqs(search, date_from="2025-04-01", date_to="2025-04-01") == [last, 3, 1]  # stated times
    with engine.connect() as connection:
        assert SqlAccessLog(connection).events_of_account("k.tanaka", 10) == [
            event(9, resource_ids=(POINT,)),
            event(1, resource_ids=(POINT,)),
        ]


@pytest.mark.parametrize(
    ("field", "index"),
    [("account_id", "ix_access_events_account_id_seq"), ("person_id", "ix_access_events_person_id_seq")],
)
def test_searches_by_account_and_person_read_the_views_indexes(
    engine: Engine, field: str, index: str
) -> None:
    """The searches select the entries by the view's own expressions, so the view's indexes serve them:
    the auditors' search and a person's own history."""
    _append(engine, *({} for _ in range(50)))
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    runs = [lambda: search.search(EventFilters.parse(FilterInput(**{field: "x"})), None, 50)]
    if field == "account_id":
        runs.append(lambda: _own_history(engine))
    for run in runs:
        statements = [s for s in statements_of(engine, run) if "access_log_entries" in s[0]]
        assert statements
        for statement, parameters in statements:
            assert index in _plan(engine, statement, parameters), statement


def _own_history(engine: Engine) -> None:
    with engine.connect() as connection:
        SqlAccessLog(connection).events_of_account("x", 50)


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return " ".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # 50 rows: a scan would be cheaper
        return " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))


AT = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _cosigned(engine: Engine, *cosignatures: tuple[str, int, str]) -> None:
    """Rows of log_cosignatures: (witness name, tree size, key); cosigned `size` minutes after AT."""
    rows = [
        {
            "witness_name": name,
            "witness_key": key,
            "tree_size": size,
            "cosigned_at": AT + dt.timedelta(minutes=size),
            "root_hash": b"\x00" * 32,
            "signature_line": f"— {name} {key}",
            "received_at": AT,
        }
        for name, size, key in cosignatures
    ]
    with engine.begin() as connection:
        connection.execute(insert(log_cosignatures), rows)


def test_recent_cosignatures_newest_checkpoint_first(engine: Engine) -> None:
    _cosigned(engine, ("w.example/a", 10, "k"), ("w.example/b", 30, "k"), ("w.example/a", 20, "k"))
    found = SqlLogSearch(engine, time_limit_seconds=10.0).recent_cosignatures(2)
    assert [(c.witness_name, c.tree_size) for c in found] == [("w.example/b", 30), ("w.example/a", 20)]
    assert found[0].cosigned_at == AT + dt.timedelta(minutes=30)
    assert found[0].cosigned_at.tzinfo is not None


def test_each_witness_newest_cosignature_whatever_key_and_order(engine: Engine) -> None:
    search = SqlLogSearch(engine, time_limit_seconds=10.0)
    assert search.newest_cosignatures() == []
    _cosigned(
        engine,
        ("w.example/b", 40, "old"),
        ("w.example/a", 10, "k"),
        ("w.example/b", 70, "new"),  # after a key rotation: the same witness
        ("w.example/a", 30, "k"),
        ("w.example/c", 5, "k"),
        ("w.example/b", 50, "old"),
    )
    found = search.newest_cosignatures()
    assert [(c.witness_name, c.tree_size) for c in found] == [
        ("w.example/a", 30),
        ("w.example/b", 70),
        ("w.example/c", 5),
    ]
    assert found[1].cosigned_at == AT + dt.timedelta(minutes=70)
    assert found[1].cosigned_at.tzinfo is not None
    _cosigned(engine, ("w.example/a", 30, "second line"))  # two lines on one checkpoint: still one a witness
    assert [(c.witness_name, c.tree_size) for c in search.newest_cosignatures()][:1] == [("w.example/a", 30)]
    assert len(search.newest_cosignatures()) == 3


def _quorum_size(engine: Engine, keys: FileKeyStore, quorum: int) -> int | None:
    head = SqlTransparencyLog(engine, keys, lambda: AT, witness_quorum=quorum).witness_quorum().checkpoint
    return None if head is None else head.size


def test_quorum_checkpoint_is_the_newest_enough_witnesses_share(engine: Engine, keys: FileKeyStore) -> None:
    """a cosigns every checkpoint, b stopped at 20 and c at 10: the search for a quorum of two starts at
    b's newest (the second largest), not above it, and does not stop at c's."""
    root = b"\x00" * 32
    checkpoints = [
        {"tree_size": n, "root_hash": root, "note": f"o\n{n}\n", "created_at": AT} for n in (10, 20, 30)
    ]
    with engine.begin() as connection:
        connection.execute(insert(log_checkpoints), checkpoints)
    _cosigned(engine, *[("w.example/a", n, "k") for n in (10, 20, 30)], ("w.example/b", 10, "k"))
    _cosigned(engine, ("w.example/b", 20, "k"), ("w.example/c", 10, "k"))
    assert [_quorum_size(engine, keys, q) for q in (1, 2, 3, 4)] == [30, 20, 10, None]
    _cosigned(engine, ("w.example/c", 30, "k"))  # c again, after a year away: a and c share 30
    assert [_quorum_size(engine, keys, q) for q in (1, 2, 3)] == [30, 30, 10]


def test_a_search_past_its_time_limit_is_stopped_and_its_connection_freed_of_it(engine: Engine) -> None:
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(n) for n in range(5000)])
    nobody = EventFilters(purpose="誰も使わない目的")  # no index: every event's JSON is read
    slow = SqlLogSearch(engine, time_limit_seconds=0.001)
    with pytest.raises(SearchTimedOut):
        slow.search(nobody, None, 101)
    with pytest.raises(SearchTimedOut):
        slow.page(nobody, None, 101, 10_001)
    search = SqlLogSearch(engine, time_limit_seconds=10.0)  # the pool's connections again, without the limit
    assert search.search(nobody, None, 101) == []
    assert _count(search, nobody, 10_001) == 0
    assert len(search.search(EventFilters(), None, 101)) == 101


@pytest.mark.parametrize("spent", [4.0, 10.0])
def test_a_pages_count_has_what_its_events_left_of_the_one_limit(engine: Engine, spent: float) -> None:
    """A page's events and its count share one time limit: the count gets what the events left (on
    PostgreSQL as its statement_timeout), and none is left when the events took all of it (the count is
    not run; the events are still shown). The clock moves only as each statement ends."""
    _append(engine, *({"resource_ids": (POINT,)} for _ in range(3)))
    now = [0.0]
    search = SqlLogSearch(engine, time_limit_seconds=10.0, clock=lambda: now[0])
    statements: list[str] = []

    def took_time(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)
        if statement.startswith("SELECT"):
            now[0] += spent

    with listening(engine, "after_cursor_execute", took_time):
        events, matched = search.page(EventFilters(supply_point_id=POINT), None, 50, 100)
    assert [e.seq for e in events] == [3, 2, 1]
    assert matched == (3 if spent < 10 else None)
    assert len([s for s in statements if s.startswith("SELECT")]) == (2 if spent < 10 else 1)
    if engine.dialect.name == "postgresql":
        limits = [s for s in statements if "statement_timeout" in s]
        assert limits == [f"SET LOCAL statement_timeout = {ms}" for ms in (10_000, 6_000)][: len(limits)]
        assert len(limits) == (2 if spent < 10 else 1)


def test_a_count_stopped_at_the_limit_leaves_the_page_without_a_total(engine: Engine) -> None:
    """The count's statement itself stopped: the events took all but 2 ms of the page's limit, and the
    count, which reads every event's JSON, is interrupted (SQLite's progress handler sees the clock move
    on; PostgreSQL's statement_timeout is 1 ms)."""
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(n) for n in range(5000)])
    now, ticking = [0.0], [False]

    def clock() -> float:
        if ticking[0]:
            now[0] += 0.001
        return now[0]

    def events_read(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and not ticking[0]:
            now[0], ticking[0] = 10.0 - 0.002, True

    search = SqlLogSearch(engine, time_limit_seconds=10.0, clock=clock)
    with listening(engine, "after_cursor_execute", events_read):
        assert search.page(EventFilters(purpose="誰も使わない目的"), None, 101, 10_001) == ([], None)


def test_the_status_counts_scan_no_table_of_events(engine: Engine) -> None:
    """SQLite's plans of what the status page counts: lookups and ranges, never a walk of every event or
    leaf (a whole index is that too). PostgreSQL's: test_postgres_plans.py."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    _append(engine, *[{}] * 5)
    Sequencer(engine, lambda: AT + dt.timedelta(days=1)).sequence()
    with engine.begin() as connection:
        SqlAccessLog(connection).append([event(10)])  # waiting for its leaf
    statements = statements_of(engine, SqlLogSearch(engine, time_limit_seconds=10.0).counts)
    assert statements
    for statement, plan in sqlite_plans(engine, statements):
        walks = [step for step in plan if step.startswith("SCAN") and "log_deletions" not in step]
        assert walks == [], (statement, plan)
