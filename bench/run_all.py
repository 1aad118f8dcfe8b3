"""`make bench`: every benchmark in turn; figures to bench/results/*.json and a summary table.

If README.md holds the markers `<!-- bench:start -->` and `<!-- bench:end -->`, the text between them is
replaced by the summary, so the README always shows the latest figures with the machine they ran on.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_reads
import log_append
import policy_decision
from common import console, machine

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def summary(policy: dict[str, Any], http: dict[str, Any], log: dict[str, Any]) -> str:
    info = machine()
    a = http["audited"][f"c={http['concurrency']}"]
    u = http["unaudited"][f"c={http['concurrency']}"]
    uncached = policy["runs"]["uncached (one Cedar call per record)"]
    cached = policy["runs"]["cached (default)"]
    grouped, single = log["runs"]["group commit"], log["runs"]["one commit per event"]
    rows = [
        "| what | target | measured |",
        "| --- | --- | --- |",
        f"| audited read over HTTP, reads/s (c={http['concurrency']}) | ≥ 1,000 | {a.per_second:,.0f} |",
        f"| audited read over HTTP, p50 / p99 | p99 ≤ 25 ms | {a.p50:.1f} ms / {a.p99:.1f} ms |",
        f"| audited / unaudited time | ≤ 1.5× | {http['overhead_ratio']}× "
        f"(c=1: {http['overhead_ratio_single_client']}×) |",
        f"| server CPU per read, audited / unaudited (c={http['concurrency']}) | — "
        f"| {a.server_cpu_ms:.2f} ms / {u.server_cpu_ms:.2f} ms |",
        f"| policy decision per record, uncached / cached (mean) | ≤ 100 µs "
        f"| {uncached.mean:.0f} µs / {cached.mean:.0f} µs |",
        f"| durable log appends from {log['threads']} concurrent requests, group commit / one commit each "
        f"| — | {grouped.per_second:,.0f} / {single.per_second:,.0f} events/s |",
    ]
    machine_line = (
        f"Measured {info['date'][:10]} on {info['cpu_model']}, {info['cores']} cores, "
        f"Python {info['python']}, SQLite {info['sqlite']}, 1-min load {info['load_average_1min']}, "
        f"one core's SHA-256 {info['sha256_mb_per_s']:,} MB/s "
        "(`make bench`; method in docs/benchmarks.md)."
    )
    return "\n".join([*rows, "", machine_line])


def update_readme(text: str) -> bool:
    if not README.exists():
        return False
    content = README.read_text(encoding="utf-8")
    if START not in content or END not in content:
        return False
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
    return True


def main() -> None:
    policy = policy_decision.main([])
    log = log_append.main([])
    http = http_reads.main([])
    text = summary(policy, http, log)
    console.print(text)
    if update_readme(text):
        console.print("[dim]README.md updated[/dim]")


if __name__ == "__main__":
    main()
