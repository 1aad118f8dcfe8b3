"""Tamper-evident log at scale: sequencing, verification and inclusion proofs at 1M and 10M events, and
their extrapolation to 100M (DESIGN §6: verification ≥ 1,000,000 events/s; an inclusion proof in a
100M-event log ≤ 1 ms).

At each size of `--sizes` in turn, on one database: load synthetic events up to that size (the append path
of audit/log.py, 20,000 events a transaction — the durable append of the request path is
bench/log_append.py) and sequence them into the Merkle tree every 100,000 events, as the periodic job
of `shadan serve` does while requests append (until 2026-11-29 all events were loaded first and
sequenced at once, which wrote the tree after all events in the file), signing a checkpoint whenever the
tree has grown by the default rule's events (`CheckpointPolicy`, 100,000: a busy log's periodic job; until
2026-11-29 one checkpoint a size, which left out what checking every stored checkpoint costs a
verification), and at the end of each size; verify the whole log
(`AuditLogService.verify`, with its worker processes: on SQLite first with the file dropped from the page
cache, as a log larger than memory is read, once without the readahead of the file for comparison and
once with it; then again with the file read; at the first size also in one process), and time
inclusion proofs of random events: the bare proof from the stored subtree hashes, and the whole proof
file (sequencing check, event read, leaf check, checkpoint signature check, self-check); then archive the
new leaves as Parquet segments and verify the whole archive without the database
(`ParquetArchiveChecker`, what `shadan audit verify-archive` runs). Memory stays flat whatever the size:
events are generated and inserted in chunks, and the sequencer and verification read in chunks.

The events are a plausible mix for the search index (`synthetic`): mostly record views naming one supply
point, one in 20 a search listing five, one in 100 a failed login naming none.

Extrapolation to 100M events, from the two largest sizes measured:
- a proof reads 2·log2(n) stored hashes by primary key, so its time is fitted as t(n) = a + b·log2(n)
  through the two sizes (this includes the deeper B-trees of the larger database); a proof never gets
  cheaper as the log grows, so a slope below zero (noise: other work on the machine) counts as zero;
- sequencing and verification touch every event once: their time is n / (rate at the largest size); for
  verification the rate read from the disk (on SQLite the file dropped from the page cache first): a
  100M log does not fit in the reference machine's memory.

    nice .venv/bin/python bench/audit_log.py --sizes 1000000,10000000                # SQLite, temporary
    .venv/bin/python bench/audit_log.py --sizes 1000000 --url postgresql+psycopg://...  # migrated here
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from common import Latency, console, latency, latency_table, write_result
from shadan.audit.archive import SqlSegmentArchive
from shadan.audit.archive_check import ParquetArchiveChecker
from shadan.audit.keys import FileKeyStore
from shadan.audit.log import SqlAccessLog
from shadan.audit.merkle import inclusion_proof
from shadan.audit.transparency_log import SqlTransparencyLog
from shadan.audit.tree_store import node_reader
from shadan.audit.verification import LogAudit
from shadan.audit.verify_chunks import Parallelism
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.services.audit_log import AuditLogService, CheckpointPolicy
from shadan.store.database import make_engine, migrate

CHUNK = 20_000
# `shadan serve` sequences every 5 s (log_tick_seconds): 100,000 events at the appends' target rate.
SEQUENCE_EVERY = 100_000
ORIGIN = "bench.example/log"
RUN_BY = "system:bench"
TARGET = 100_000_000
START = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def synthetic(i: int) -> AccessEvent:
    action, resource_type, resource_ids = Action.VIEW, ResourceType.SUPPLY_POINT, (f"06{i:020d}",)
    if i % 20 == 7:
        action, resource_ids = Action.SEARCH, tuple(f"06{i:015d}{k:05d}" for k in range(5))
    elif i % 100 == 50:
        action, resource_type, resource_ids = Action.LOGIN_FAILED, ResourceType.SESSION, ()
    return AccessEvent(
        event_id=f"bench-{i:010d}",
        ts=START + dt.timedelta(milliseconds=i),
        system="shadan",
        account_id=f"user{i % 1600:04d}",
        person_id=f"p{i % 1600:04d}",
        company_id="td06",
        action=action,
        resource_type=resource_type,
        resource_ids=resource_ids,
        categories=("supply_point", "location", "new_power_customer"),
        withheld_categories=("usage",),
        outcome=Outcome.ALLOWED,
        terminal_id="OSK-TD-0612",
        source_ip="10.0.0.7",
        purpose="託送業務",
        policy_ids=("td-staff-own-area",),
        extra={},
    )


def load(engine: Engine, first: int, end: int) -> float:
    """Synthetic events [first, end), CHUNK a transaction; returns the seconds taken."""
    began = time.perf_counter()
    for start in range(first, end, CHUNK):
        rows = [synthetic(i) for i in range(start, min(start + CHUNK, end))]
        with engine.begin() as connection:
            SqlAccessLog(connection).append(rows)
        console.print(f"  loaded {start + len(rows):,} / {end:,}", end="\r")
    console.print()
    return time.perf_counter() - began


def timed(label: str, work: Callable[[], Any]) -> tuple[Any, float]:
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
    # One process appends in order, verification events included: seq = leaf index + 1.
    whole = each(lambda i: service.proof(i + 1), picks)
    return {"inclusion proof from stored hashes": bare, "whole proof file (service.proof)": whole}


class Bench:
    def __init__(self, engine: Engine, home: Path, database_file: Path | None) -> None:
        self.engine = engine
        self.keys = FileKeyStore(home / "keys", ORIGIN)
        clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
        self.tlog = SqlTransparencyLog(engine, self.keys, clock)
        self.service = AuditLogService(self.tlog, clock, system="shadan")
        self.database_file = database_file
        self.archive_dir = home / "archive"
        self.archive_store = SqlSegmentArchive(engine, self.archive_dir, self.keys, clock)
        self.loaded = 0
        self.signed: list[float] = []  # seconds each checkpoint took to sign

    def stage(self, size: int, samples: int, compare_one_process: bool) -> dict[str, Any]:
        console.rule(f"{size:,} events")
        added = size - self.loaded
        tree, loaded, sequencing = self.grow(size)
        self.sign()  # the events since the rule's last checkpoint
        console.print(
            f"load: {loaded:.1f} s, sequencing: {sequencing:.1f} s, {len(self.signed):,} checkpoints"
        )
        # Gigabytes just written are still going to the disk: reads timed meanwhile would measure that.
        os.sync()
        figures: dict[str, Any] = {
            "events": tree,
            "load_events_per_s": round(added / loaded),
            "sequencing_events_per_s": round(added / sequencing),
            "checkpoints": len(self.signed),
            "checkpoint_s": round(sum(self.signed) / len(self.signed), 3),
            "verification_workers": Parallelism().workers,
        }
        if self.database_file is not None:
            self.evict()
            cold = LogAudit(
                self.engine, self.keys.verifiers(), ORIGIN, parallelism=Parallelism(readahead=False)
            )
            alone, seconds = timed(
                "verification, cold, no readahead", lambda: cold.run(None, lambda *_: None)
            )
            figures["verification_cold_no_readahead_events_per_s"] = round(alone.events_checked / seconds)
            self.evict()
        report, verifying = timed("verification", lambda: self.service.verify(run_by=RUN_BY))
        assert report.ok, report.failures
        # Once more, the file now read: verification's own rate.
        again, verifying_again = timed("verification again", lambda: self.service.verify(run_by=RUN_BY))
        assert again.ok, again.failures
        figures |= {
            "verification_s": round(verifying, 1),
            "verification_events_per_s": round(report.events_checked / verifying),
            "verification_again_events_per_s": round(again.events_checked / verifying_again),
        }
        if compare_one_process:
            one = LogAudit(self.engine, self.keys.verifiers(), ORIGIN, parallelism=Parallelism(workers=1))
            alone, seconds = timed("verification, one process", lambda: one.run(None, lambda *_: None))
            figures["verification_one_process_events_per_s"] = round(alone.events_checked / seconds)
        figures["proofs"] = proof_latencies(self.engine, self.service, tree, samples)
        figures |= self.archive()
        if self.database_file is not None:
            files = [self.database_file, self.database_file.with_name(self.database_file.name + "-wal")]
            figures["database_bytes"] = sum(f.stat().st_size for f in files if f.exists())
        console.print(latency_table(f"inclusion proofs at {tree:,} events", figures["proofs"]))
        console.print(
            f"sequencing {figures['sequencing_events_per_s']:,}/s, "
            f"verification {figures['verification_events_per_s']:,} events/s"
            f" ({figures['verification_again_events_per_s']:,} again)"
        )
        return figures

    def grow(self, size: int) -> tuple[int, float, float]:
        """Load events up to `size`, sequencing every SEQUENCE_EVERY of them, as `shadan serve`'s periodic
        job does while requests append (the file's pages then follow the order of the events, as in a
        log that grew over months), and signing a checkpoint by the default rule's events; the tree's
        size and the seconds spent loading and sequencing."""
        loading = sequencing = 0.0
        tree = 0
        every = CheckpointPolicy().every_events
        while self.loaded < size:
            end = min(size, self.loaded + SEQUENCE_EVERY)
            loading += load(self.engine, self.loaded, end)
            began = time.perf_counter()
            tree = self.tlog.sequence()
            sequencing += time.perf_counter() - began
            self.loaded = end
            latest = self.service.latest_checkpoint()
            if latest is None or tree - latest.size >= every:
                self.sign()
        return tree, loading, sequencing

    def sign(self) -> None:
        """A checkpoint of the whole tree, unless the latest covers it already."""
        latest = self.service.latest_checkpoint()
        began = time.perf_counter()
        if self.service.checkpoint() != latest:
            self.signed.append(time.perf_counter() - began)

    def evict(self) -> None:
        """Drop the SQLite files from the page cache, as a log larger than memory or read long ago would be:
        the verification then reads everything from the disk. All pages are clean after `os.sync`."""
        assert self.database_file is not None
        for path in (self.database_file, self.database_file.with_name(self.database_file.name + "-wal")):
            if path.exists():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)

    def archive(self) -> dict[str, Any]:
        """Archive the leaves not archived yet, then verify the whole archive as an auditor would. Segments
        are months of sequencing time, and this month is not over: the archive is asked as if it were."""
        self.tlog.sequence()  # the events verification and the proofs logged
        head = self.service.checkpoint()
        plans = self.archive_store.pending(dt.datetime.now(dt.UTC) + dt.timedelta(days=62))
        _, writing = timed(
            "archive", lambda: [self.archive_store.write(plan, head, lambda *_: None) for plan in plans]
        )
        key = self.keys.signer().verifier.text()
        check = ParquetArchiveChecker()
        report, checking = timed(
            "verify-archive", lambda: check.check(self.archive_dir, [key], lambda *_: None)
        )
        assert report.ok, report.failures
        written = sum(plan.end_leaf - plan.first_leaf for plan in plans)
        return {
            "archive_events_per_s": round(written / writing),
            "archive_verification_events_per_s": round(report.events_checked / checking),
        }


def extrapolate(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """To TARGET events from the two largest sizes (the method is in the module's docstring)."""
    small, large = stages[-2], stages[-1]
    n1, n2 = math.log2(small["events"]), math.log2(large["events"])

    def logarithmic(v1: float, v2: float) -> float:
        return round(v2 + max(0.0, (v2 - v1) / (n2 - n1)) * (math.log2(TARGET) - n2), 3)

    proofs = {
        kind: {
            p: logarithmic(getattr(small["proofs"][kind], p), getattr(large["proofs"][kind], p))
            for p in ("p50", "p99")
        }
        for kind in large["proofs"]
    }
    return {
        "events": TARGET,
        "method": "proof: t = a + b*log2(n) through the two largest sizes, b >= 0; sequencing and "
        "verification: n / (rate at the largest size; verification's first run, from the disk)",
        "proofs_ms": proofs,
        "sequencing_s": round(TARGET / large["sequencing_events_per_s"]),
        "verification_s": round(TARGET / large["verification_events_per_s"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated tree sizes, ascending")
    parser.add_argument("--url", help="migrated database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--samples", type=int, default=1000, help="random proofs per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        database_file = None if args.url else Path(scratch) / "bench.db"
        url = args.url or f"sqlite:///{database_file}"
        migrate(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            for table in (
                "log_segments",
                "log_nodes",
                "log_leaves",
                "log_checkpoints",
                "log_state",
                "log_verifications",
                "log_resource_ids",
            ):
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
            connection.execute(text("DELETE FROM access_log_entries"))
        bench = Bench(engine, Path(scratch), database_file)
        stages = [bench.stage(size, args.samples, n == 0) for n, size in enumerate(sizes)]
        engine.dispose()
    figures: dict[str, Any] = {"database": url.split(":", 1)[0], "stages": stages}
    if len(stages) >= 2:
        figures["extrapolated"] = extrapolate(stages)
        console.print(figures["extrapolated"])
    name = "audit_log_postgresql" if figures["database"].startswith("postgresql") else "audit_log_sqlite"
    console.print(f"written to {write_result(name, figures)}")


if __name__ == "__main__":
    main()
