"""The seqs a verification chunk spans: what a worker reports (columnar_chunks.py) and the parent counts
unlogged events from (log_completeness.py). A module of its own so that neither side loads the other's
libraries: the workers no SQLAlchemy, the sequencer and the search no DuckDB, pyarrow or ADBC."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeqSpan:
    """The lowest and highest seq of a chunk's leaves, and the number of stored events from one to the
    other: the chunk's own and any event that is no leaf of it (log_completeness.events_up_to)."""

    lowest: int
    highest: int
    events: int
