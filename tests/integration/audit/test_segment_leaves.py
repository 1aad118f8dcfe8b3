"""Hashing a segment file on worker processes gives the compact range that hashing it leaf by leaf gives,
whatever the file's row groups and however its leaves are aligned."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_support import event

from shadan.audit.entry import entry_bytes
from shadan.audit.log import event_to_row
from shadan.audit.merkle import leaf_hash
from shadan.audit.segment_decode import segment_batch
from shadan.audit.segment_file import write_segment_file
from shadan.audit.segment_hashes import Subtree, SubtreeStack
from shadan.audit.segment_leaves import SegmentLeaves

FIRST_LEAF = 13  # not aligned on any power of two above 1


@pytest.mark.parametrize(("workers", "rows_per_run"), [(1, 10), (2, 10), (2, 7), (2, 1000)])
def test_runs_fold_into_the_segments_compact_range(tmp_path: Path, workers: int, rows_per_run: int) -> None:
    entries = [entry_bytes(event_to_row(event(i)) | {"seq": i}) for i in range(1, 38)]
    path = tmp_path / "segment.parquet"
    batches = (segment_batch(FIRST_LEAF + s, entries[s : s + 5]) for s in range(0, len(entries), 5))
    write_segment_file(path, batches)  # eight row groups of at most five rows

    one_by_one = SubtreeStack()
    for index, entry in enumerate(entries, FIRST_LEAF):
        one_by_one.push(Subtree(index, index + 1, leaf_hash(entry)))

    leaves, stack, rows = SegmentLeaves(workers, rows_per_run), SubtreeStack(), 0
    try:
        for run in leaves.runs(path, FIRST_LEAF):
            for subtree in run.subtrees:
                stack.push(subtree)
            rows += run.rows
    finally:
        leaves.close()
    assert rows == len(entries)
    assert stack.subtrees == one_by_one.subtrees
