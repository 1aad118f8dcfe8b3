"""Durable access-log appends from concurrent requests: group commit against one commit per event.

Each of `--threads` threads plays a request: it records one event and waits until it is durable (SQLite
WAL, synchronous=FULL, in a fresh temporary SHADAN_HOME; or the migrated database of `--url`, e.g.
PostgreSQL, whose result file is `<name>_postgresql.json`), then records the next. Two runs on the same
database: `GroupCommit` (the app servers' sink: concurrent events share a transaction) and
`UnitOfWorkLogSink` (a unit of work and a commit per event, as every read did before). Reported:
events/s, the latency of `record` as a request sees it, and how many events each commit carried.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import Latency, console, latency, latency_table, write_result
from shadan.audit.group_commit import GroupCommit, sql_write
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.services.log_sink import UnitOfWorkLogSink
from shadan.services.ports import AccessLogSink
from shadan.store.database import make_engine, migrate
from shadan.store.unit_of_work import SqlUnitOfWorkFactory


def _event() -> AccessEvent:
    return AccessEvent(
        event_id=uuid.uuid4().hex,
        ts=dt.datetime.now(dt.UTC),
        system="bench",
        account_id="k.tanaka",
        person_id="p001",
        company_id="td06",
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=("0600000000000000000001",),
        outcome=Outcome.ALLOWED,
        categories=("location", "new_power_customer", "supply_point"),
        withheld_categories=("equipment", "grid"),
        terminal_id="OSK-TD-0612",
        source_ip="127.0.0.1",
        purpose="託送業務",
        policy_ids=("td-wheeling-reads", "own-area-only"),
    )


class CountingWrite:
    """The group commit's SQL write, counting transactions."""

    def __init__(self, write: Callable[[Sequence[AccessEvent]], None]) -> None:
        self._write = write
        self.commits = 0
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[AccessEvent]) -> None:
        self._write(events)
        with self._lock:
            self.commits += 1


def run(sink: AccessLogSink, threads: int, per_thread: int) -> Latency:
    def request(_: int) -> list[float]:
        samples = []
        for _ in range(per_thread):
            t0 = time.perf_counter()
            sink.record([_event()])
            samples.append(time.perf_counter() - t0)
        return samples

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        samples = [s for batch in pool.map(request, range(threads)) for s in batch]
    return latency(samples, time.perf_counter() - started)


DEFAULT_THREADS = 16


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="concurrent requests")
    parser.add_argument("--events", type=int, default=8_000, help="events per run")
    parser.add_argument("--url", help="migrated database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args(argv)
    per_thread = max(1, args.events // args.threads)
    with tempfile.TemporaryDirectory(prefix="shadan-bench-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'shadan.db'}"
        if args.url is None:
            migrate(url)
        engine = make_engine(url)
        try:
            counting = CountingWrite(sql_write(engine))
            grouped = run(GroupCommit(counting), args.threads, per_thread)
            single = run(UnitOfWorkLogSink(SqlUnitOfWorkFactory(engine)), args.threads, per_thread)
        finally:
            engine.dispose()
    return report(args, grouped, single, counting.commits)


def report(args: argparse.Namespace, grouped: Latency, single: Latency, commits: int) -> dict[str, Any]:
    rows = {"group commit": grouped, "one commit per event": single}
    database = "PostgreSQL" if args.url and args.url.startswith("postgresql") else "SQLite FULL"
    console.print(
        latency_table(f"durable log appends, {args.threads} concurrent requests ({database})", rows)
    )
    per_commit = round(grouped.count / max(commits, 1), 2)
    console.print(f"group commit: {commits:,} commits for {grouped.count:,} events ({per_commit} per commit)")
    figures = {
        "threads": args.threads,
        "runs": rows,
        "group_commit_events_per_commit": per_commit,
        "speedup": round(grouped.per_second / single.per_second, 2),
    }
    # `make bench` and the README read log_append.json: a run with other threads keeps its own file.
    name = "log_append" if args.threads == DEFAULT_THREADS else f"log_append_threads{args.threads}"
    name += "_postgresql" if database == "PostgreSQL" else ""
    console.print(f"[dim]→ {write_result(name, figures)}[/dim]")
    return figures


if __name__ == "__main__":
    main()
