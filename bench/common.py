"""Shared by the benchmarks: machine description, latency statistics, result files and tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

RESULTS = Path(__file__).resolve().parent / "results"
# Wide enough for the tables when the output is not a terminal (make bench | tee ...).
console = Console(width=max(Console().width, 160))


def machine() -> dict[str, Any]:
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # Other work on the machine takes cores from the benchmark: the 1-minute load when it finished.
        "load_average_1min": round(os.getloadavg()[0], 2),
        **speed(),
    }


def speed() -> dict[str, float]:
    """How fast one core of this machine ran just now, for comparing runs of different days: a shared
    virtual machine ran the same code at less than half its usual speed on some days. SHA-256 is what
    the log's verification mostly does; the interpreter's loop is what the request path mostly does."""
    block = bytes(1 << 20)
    digest = hashlib.sha256()
    began = time.perf_counter()
    for _ in range(256):
        digest.update(block)
    hashing = time.perf_counter() - began
    began = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i
    looping = time.perf_counter() - began
    return {"sha256_mb_per_s": round(256 / hashing), "python_loop_m_per_s": round(5 / looping, 1)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass(frozen=True)
class Latency:
    """Figures of one run, in milliseconds (µs for the policy benchmark, see `unit`)."""

    count: int
    seconds: float
    per_second: float
    mean: float
    p50: float
    p90: float
    p99: float
    max: float
    unit: str = "ms"
    client_cpu_ms: float | None = None  # HTTP benchmark: the load generator's CPU time per request
    server_cpu_ms: float | None = None  # HTTP benchmark: the server's CPU time per request


def latency(
    samples: Sequence[float],
    seconds: float,
    scale: float = 1000.0,
    unit: str = "ms",
    client_cpu_ms: float | None = None,
) -> Latency:
    """`samples` in seconds; `scale` converts them to `unit`."""
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * scale

    return Latency(
        count=len(ordered),
        seconds=round(seconds, 3),
        per_second=round(len(ordered) / seconds, 1) if seconds else 0.0,
        mean=round(statistics.fmean(ordered) * scale, 3),
        p50=round(pct(0.50), 3),
        p90=round(pct(0.90), 3),
        p99=round(pct(0.99), 3),
        max=round(ordered[-1] * scale, 3),
        unit=unit,
        client_cpu_ms=None if client_cpu_ms is None else round(client_cpu_ms, 3),
    )


def _portable(argv: list[str]) -> list[str]:
    """Arguments as recorded in a committed result: this machine's paths are replaced by a placeholder,
    and a database URL keeps no password."""
    return [
        _without_password(arg) if "://" in arg else "<path>" if arg.startswith("/") else arg for arg in argv
    ]


def _without_password(url: str) -> str:
    """The URL with no password, and a database file's path (SQLite) replaced by the placeholder too."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<url>"
    if parsed.database is not None and parsed.database.startswith("/"):
        return f"{parsed.drivername}:///<path>"
    return parsed.render_as_string(hide_password=True)


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), "argv": _portable(sys.argv[1:]), **figures}
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, default=_plain) + "\n", encoding="utf-8"
    )
    return path


def _plain(value: object) -> object:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[arg-type]
    return str(value)


def latency_table(title: str, rows: dict[str, Latency]) -> Table:
    table = Table(title=title, title_justify="left")
    client = any(f.client_cpu_ms is not None for f in rows.values())
    columns = ("run", "count", "per second", "mean", "p50", "p90", "p99", "max") + (
        ("server CPU", "client CPU") if client else ()
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "run" else "right")
    for label, figures in rows.items():
        u = figures.unit
        timings = (figures.mean, figures.p50, figures.p90, figures.p99, figures.max)
        cells = [
            label,
            f"{figures.count:,}",
            f"{figures.per_second:,.0f}",
            *(f"{t:.3f} {u}" for t in timings),
        ]
        if client:
            cells += [_ms(figures.server_cpu_ms), _ms(figures.client_cpu_ms)]
        table.add_row(*cells)
    return table


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f} ms"


def verdict(label: str, ok: bool, detail: str) -> str:
    mark = "[green]met[/green]" if ok else "[red]missed[/red]"
    return f"{label}: {mark} ({detail})"
