"""The demo's switching applications: deterministic, in the seed's error shares, in the §5.2 format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import cache

from shadan.services.switching_rows import APPLICATION_COLUMNS
from shadan.services.synthetic.applications import SHARES, DemoApplications, demo_applications
from shadan.services.synthetic.generator import generate

NOW = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)


@cache
def applications() -> DemoApplications:
    return demo_applications(generate(size=3_000, seed=6, start=NOW.date()), NOW)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_same_operator_and_instant_give_the_same_files() -> None:
    again = demo_applications(generate(size=3_000, seed=6, start=NOW.date()), NOW)
    assert again == applications()


def test_cancellations_have_the_design_columns_and_unique_ids() -> None:
    rows = _rows(applications().cancellations)
    assert tuple(rows[0]) == APPLICATION_COLUMNS
    assert len({(r["new_retailer_code"], r["application_id"]) for r in rows}) == len(rows)
    assert len(rows) == applications().cancellation_count


def test_planted_errors_follow_the_seeds_shares() -> None:
    planted = applications().planted
    errors = sum(n for code, n in planted.items() if code in SHARES)
    assert errors > 0
    for code in ("01", "02", "04"):
        assert abs(planted[code] / errors * 100 - SHARES[code]) < 2.5, code


def test_the_history_spans_months_before_now() -> None:
    received = {dt.datetime.fromisoformat(r["received_at"]) for r in _rows(applications().cancellations)}
    assert max(received) <= NOW
    assert len({(r.year, r.month) for r in received}) >= 5
