"""How many seqs one time span of the log covers (time_spans.py). A module of its own so that the
verification workers, which load no SQLAlchemy, and the sequencer and the search, which load no DuckDB,
share it. The stored spans are made with it (migration 0012 writes its own copy of the number), so
changing it needs a migration that makes the spans again."""

from __future__ import annotations

BLOCK = 4096  # a span for every 4,096 seqs: 24,000 rows for 100M events


def block_of(seq: int) -> int:
    return seq // BLOCK
