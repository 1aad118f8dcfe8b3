"""The auditors' event search on a large log: a page of 50 and its count (up to the export cap, 10,001),
by supply point, person, and period (whole days in Japan time), as `SqlLogSearch` answers the pages and
the API (docs/web.md, "Cost").

A log of `--events` synthetic events (bench/audit_log_scale.py's mix) spread evenly over `--days` days
is loaded through the append path, 20,000 a transaction, and sequenced every 100,000 events as the
periodic job of `shadan serve` does, which writes the search index and the time spans. Each search is
run `--repeat` times with the database file in the page cache, alternating the searches:

- a supply point one event names, and a person's newest events (indexes of their own);
- one day in the middle of the log: its newest 50 events and its count (the day's blocks only);
- the same day and a purpose nobody gave: the day's events are all read, none matches;
- a day before the log began: no block meets it, only the events not sequenced yet are read.

    .venv/bin/python bench/log_search.py --events 1000000 --days 365
    .venv/bin/python bench/log_search.py --events 200000 --url postgresql+psycopg://...  # an empty database
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from audit_log_scale import START, synthetic
from common import Latency, console, latency, latency_table, write_result
from shadan.audit.log import SqlAccessLog
from shadan.audit.log_search import SqlLogSearch
from shadan.audit.sequencer import Sequencer
from shadan.domain.japan_time import local_day
from shadan.services.audit_filters import EventFilters
from shadan.store.database import make_engine, migrate

CHUNK = 20_000
SEQUENCE_EVERY = 100_000
PAGE = 50
CAP = 10_001  # the export cap: what a page counts up to


def load(url: str, events: int, days: int) -> None:
    engine = make_engine(url)
    step = dt.timedelta(days=days) / events
    clock = lambda: START + dt.timedelta(days=days + 1)  # noqa: E731 -- every gap has settled
    sequencer = Sequencer(engine, clock)
    for start in range(0, events, CHUNK):
        rows = [replace(synthetic(i), ts=START + i * step) for i in range(start, min(start + CHUNK, events))]
        with engine.begin() as connection:
            SqlAccessLog(connection).append(rows)
        if (start + CHUNK) % SEQUENCE_EVERY == 0 or start + CHUNK >= events:
            sequencer.sequence()
        console.print(f"  loaded {start + len(rows):,} / {events:,}", end="\r")
    console.print()
    engine.dispose()


def searches(events: int, days: int) -> dict[str, tuple[EventFilters, bool]]:
    """Each search: its filters, and whether its count is timed too (a page shows both)."""
    middle = local_day(START + dt.timedelta(days=days / 2))
    before = local_day(START - dt.timedelta(days=30))
    return {
        "supply point seen once": (EventFilters(supply_point_id=f"06{events // 2:020d}"), True),
        "person's newest": (EventFilters(person_id="p0042"), False),
        "one day": (EventFilters(date_from=middle, date_to=middle), True),
        "one day, purpose nobody gave": (
            EventFilters(date_from=middle, date_to=middle, purpose="誰も使わない目的"),
            True,
        ),
        "a day before the log": (EventFilters(date_from=before, date_to=before), True),
    }


def timed(work: Callable[[], object], samples: list[float]) -> None:
    began = time.perf_counter()
    work()
    samples.append(time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--url", help="an empty database's URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.url or f"sqlite:///{Path(directory) / 'log.db'}"
        migrate(url)
        began = time.perf_counter()
        load(url, args.events, args.days)
        console.print(f"loaded and sequenced in {time.perf_counter() - began:.0f} s")
        engine = make_engine(url)
        search = SqlLogSearch(engine, time_limit_seconds=600.0)
        asked = searches(args.events, args.days)
        samples: dict[str, list[float]] = {f"{n}{w}": [] for n in asked for w in (": page", ": count")}
        for _ in range(args.repeat):
            for name, (filters, counted) in asked.items():
                timed(lambda f=filters: search.search(f, None, PAGE), samples[f"{name}: page"])
                if counted:
                    timed(lambda f=filters: search.count(f, CAP), samples[f"{name}: count"])
        engine.dispose()
    runs: dict[str, Latency] = {k: latency(v, sum(v)) for k, v in samples.items() if v}
    database = url.split(":", 1)[0]
    title = f"auditors' search, {args.events:,} events over {args.days} days ({database}, cached)"
    console.print(latency_table(title, runs))
    name = "log_search" if args.url is None else "log_search_postgresql"
    figures = {"database": database, "events": args.events, "days": args.days, "runs": runs}
    path = write_result(name, figures)
    console.print(f"→ {path}")


if __name__ == "__main__":
    main()
