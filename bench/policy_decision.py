"""Policy decision time per record: CedarAuthorizer.decide on one record's categories (DESIGN §6: ≤ 100 µs).

Two runs over the same synthetic records and principals: with the decision cache off (every record is one
batched Cedar call: the cost of a record never seen before) and with the default cache (steady state,
where records sharing area, retailer and category reuse a decision).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from common import Latency, console, latency, latency_table, verdict, write_result
from shadan.domain.access import Principal, RequestContext
from shadan.domain.vocabulary import Action, Area, CompanyKind
from shadan.policy.authorizer import CedarAuthorizer
from shadan.policy.catalog import load_default_catalog
from shadan.services.synthetic.generator import generate
from shadan.services.vault import resource_items

TARGET_US = 100.0
TD = ("C06TD", CompanyKind.TD)
PRINCIPALS = {
    "wheeling_clerk (託送業務)": (
        Principal("t1", "p1", *TD, "託送", Area.KANSAI, None, frozenset({"wheeling_clerk"})),
        "託送業務",
    ),
    "network_engineer (設備保全)": (
        Principal("t2", "p2", *TD, "配電", Area.KANSAI, None, frozenset({"network_engineer"})),
        "設備保全",
    ),
    "affiliated retail_staff (自社契約確認)": (
        Principal(
            "k1", "p3", "C06EP", CompanyKind.AFFILIATED_RETAIL, "営業", Area.KANSAI, "RT0601",
            frozenset({"retail_staff"}),
        ),
        "自社契約確認",
    ),
}  # fmt: skip


def run(records: int, cache_size: int) -> Latency:
    authorizer = CedarAuthorizer(load_default_catalog(), cache_size=cache_size)
    points = generate(records, seed=11, start=dt.date(2026, 4, 1)).supply_points
    items = [resource_items(p) for p in points]
    samples: list[float] = []
    started = time.perf_counter()
    for principal, purpose in PRINCIPALS.values():
        context = RequestContext(now=dt.datetime.now(dt.UTC), purpose=purpose)
        for record in items:
            t0 = time.perf_counter()
            authorizer.decide(principal, Action.VIEW, record, context)
            samples.append(time.perf_counter() - t0)
    return latency(samples, time.perf_counter() - started, scale=1e6, unit="µs")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=3_000, help="records per principal")
    args = parser.parse_args(argv)
    run(200, 0)  # warm up: imports, parsing, first Cedar calls
    rows = {
        "uncached (one Cedar call per record)": run(args.records, 0),
        "cached (default)": run(args.records, 65_536),
    }
    console.print(latency_table("policy decision per record (CedarAuthorizer.decide)", rows))
    uncached = rows["uncached (one Cedar call per record)"]
    console.print(
        verdict("≤ 100 µs per record, uncached mean", uncached.mean <= TARGET_US, f"{uncached.mean:.1f} µs")
    )
    figures = {"target_us": TARGET_US, "records_per_principal": args.records, "principals": list(PRINCIPALS),
               "runs": rows, "met": uncached.mean <= TARGET_US}  # fmt: skip
    console.print(f"[dim]→ {write_result('policy_decision', figures)}[/dim]")
    return figures


if __name__ == "__main__":
    main()
