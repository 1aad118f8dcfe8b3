"""Tamper-evident log: sequencing, verification rate and inclusion-proof time (DESIGN §6: verification
≥ 1,000,000 events/s; inclusion proof in a 100M-event log ≤ 1 ms).

A rough measurement, not part of `make bench` yet: it loads N synthetic events (bulk inserts, not the
request path), sequences them into the Merkle tree, signs a checkpoint, verifies the whole log once, and
times inclusion proofs for random events — the bare proof from the stored subtree hashes, and the whole
proof file (event read, leaf check, checkpoint signature check, proof self-check).

    .venv/bin/python bench/audit_log.py --events 1000000            # SQLite in a temporary directory
    .venv/bin/python bench/audit_log.py --events 1000000 --url postgresql+psycopg://...  # migrated here
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, make_url, text

from common import Latency, console, latency, latency_table, write_result
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import access_events, event_to_row
from shadan.audit.merkle import inclusion_proof
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_store import node_reader
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.services.audit_log import AuditLogService
from shadan.store.database import make_engine, migrate

CHUNK = 20_000


def synthetic(i: int, start: dt.datetime) -> dict[str, Any]:
    event = AccessEvent(
        event_id=f"bench-{i:010d}",
        ts=start + dt.timedelta(milliseconds=i),
        system="shadan",
        account_id=f"user{i % 1600:04d}",
        person_id=f"p{i % 1600:04d}",
        company_id="td06",
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=(f"06{i:020d}",),
        categories=("supply_point", "location", "new_power_customer"),
        withheld_categories=("usage",),
        outcome=Outcome.ALLOWED,
        terminal_id="OSK-TD-0612",
        source_ip="10.0.0.7",
        purpose="託送業務",
        policy_ids=("td-staff-own-area",),
        extra={},
    )
    return event_to_row(event)


def load(engine: Engine, count: int) -> float:
    start = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    began = time.perf_counter()
    for first in range(0, count, CHUNK):
        rows = [synthetic(i, start) for i in range(first, min(first + CHUNK, count))]
        with engine.begin() as connection:
            connection.execute(insert(access_events), rows)
        console.print(f"  loaded {first + len(rows):,} / {count:,}", end="\r")
    console.print()
    return time.perf_counter() - began


def timed(label: str, work: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - began
    console.print(f"{label}: {seconds:.1f} s")
    return result, seconds


def each(work: Callable[[int], object], picks: list[int]) -> Latency:
    samples = []
    began = time.perf_counter()
    for pick in picks:
        start = time.perf_counter()
        work(pick)
        samples.append(time.perf_counter() - start)
    return latency(samples, time.perf_counter() - began)


def proof_latencies(engine: Engine, service: AuditLogService, size: int, samples: int) -> dict[str, Latency]:
    picks = [random.randrange(size) for _ in range(samples)]
    with engine.connect() as connection:
        read = node_reader(connection)
        bare = each(lambda i: inclusion_proof(i, size, read), picks)
    # The events went into an empty table in one run: seq = leaf index + 1.
    whole = each(lambda i: service.proof(i + 1), picks)
    return {"inclusion proof from stored hashes": bare, "whole proof file (service.proof)": whole}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--url", help="migrated database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        migrate(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM access_events"))
        clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
        tlog = SqlTransparencyLog(engine, FileKeyStore(Path(scratch) / "keys", "bench.example/log"), clock)
        service = AuditLogService(tlog, clock)
        loaded = load(engine, args.events)
        size, sequenced = timed("sequencing", tlog.sequence)
        _, signing = timed("checkpoint", service.checkpoint)
        report, verified = timed("verification", service.verify)
        assert report.ok, report.failures
        proofs = proof_latencies(engine, service, size, args.samples)
        engine.dispose()
    figures = {
        "events": size,
        "database": url.split(":", 1)[0],
        "load_events_per_s": round(size / loaded),
        "sequencing_events_per_s": round(size / sequenced),
        "checkpoint_s": round(signing, 3),
        "verification_events_per_s": round(size / verified),
        "proofs": proofs,
    }
    console.print(latency_table(f"inclusion proofs at {size:,} events", proofs))
    console.print(
        f"load {figures['load_events_per_s']:,}/s, sequencing {figures['sequencing_events_per_s']:,}/s, "
        f"verification {figures['verification_events_per_s']:,} events/s"
    )
    # The result file records the command line: never a database password.
    sys.argv = [make_url(a).render_as_string(hide_password=True) if a == args.url else a for a in sys.argv]
    name = "audit_log_postgresql" if figures["database"].startswith("postgresql") else "audit_log_sqlite"
    console.print(f"written to {write_result(name, figures)}")


if __name__ == "__main__":
    main()
