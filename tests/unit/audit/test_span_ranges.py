"""The pure parts of the log's time spans (audit/time_spans.py): widening spans to cover new times, and
the seq ranges a period search reads, which must hold every seq of the blocks met and every seq from the
tail up, in few ranges."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from shadan.audit.span_blocks import BLOCK
from shadan.audit.time_spans import MOST_RANGES, seq_ranges, widened


def test_spans_are_widened_and_started_and_unchanged_ones_left_out() -> None:
    stored = {0: ("b", "c"), 1: ("b", "c"), 2: ("b", "c")}
    times = [(5, "a"), (BLOCK + 1, "c"), (2 * BLOCK, "d"), (2 * BLOCK + 1, "b"), (3 * BLOCK, "e"), (7, None)]
    assert widened(stored, times) == {0: ("a", "c"), 2: ("b", "d"), 3: ("e", "e")}
    assert widened({}, [(1, None)]) == {}  # no time: nothing to cover


def test_runs_of_blocks_are_one_range_and_a_run_reaching_the_tail_joins_it() -> None:
    assert seq_ranges([], 10) == [(10, None)]
    assert seq_ranges([0, 1, 3], 5 * BLOCK) == [
        (0, 2 * BLOCK - 1),
        (3 * BLOCK, 4 * BLOCK - 1),
        (5 * BLOCK, None),
    ]
    assert seq_ranges([0, 2, 3], 3 * BLOCK + 7) == [(0, BLOCK - 1), (2 * BLOCK, None)]
    assert seq_ranges([5], 3) == [(3, None)]  # a block above the tail is in it already
    assert seq_ranges([0, 0, 2, 2], 5 * BLOCK) == [
        (0, BLOCK - 1),
        (2 * BLOCK, 3 * BLOCK - 1),
        (5 * BLOCK, None),
    ]


def test_the_smallest_gaps_are_closed_first() -> None:
    blocks = [0, 2, 4, 6, 8, 10, 12, 100, 200]  # nine runs and the tail: two ranges too many
    ranges = seq_ranges(blocks, 1000 * BLOCK)
    assert len(ranges) == MOST_RANGES
    assert ranges[0] == (0, 5 * BLOCK - 1)  # two gaps of one block closed (the first of equals)
    assert ranges[-3:] == [
        (100 * BLOCK, 101 * BLOCK - 1),
        (200 * BLOCK, 201 * BLOCK - 1),
        (1000 * BLOCK, None),
    ]


@given(st.lists(st.integers(0, 60)).map(sorted), st.integers(0, 64 * BLOCK))
def test_every_seq_of_the_blocks_and_the_tail_is_read(blocks: list[int], tail: int) -> None:
    ranges = seq_ranges(blocks, tail)
    assert 1 <= len(ranges) <= MOST_RANGES
    assert ranges[-1][1] is None
    assert ranges[-1][0] <= tail
    bounds = [(first, 10**9 if last is None else last) for first, last in ranges]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bounds))  # in order, apart
    wanted = {seq for b in blocks for seq in (b * BLOCK, b * BLOCK + BLOCK - 1)} | {tail, 64 * BLOCK}
    assert all(any(first <= seq <= last for first, last in bounds) for seq in wanted)
