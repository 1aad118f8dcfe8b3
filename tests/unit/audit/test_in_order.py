"""Results of worker tasks come back in submission order, with a bounded number submitted ahead of the
caller (no processes here: futures completed at once, counted as they are submitted)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from shadan.audit.cores import in_order


def _done(value: int) -> Future[int]:
    future: Future[int] = Future()
    future.set_result(value)
    return future


def test_results_in_submission_order_with_at_most_ahead_outstanding() -> None:
    submitted: list[int] = []

    def futures() -> Iterator[Future[int]]:
        for value in range(10):
            submitted.append(value)
            yield _done(value)

    collected = []
    for result in in_order(futures(), ahead=3):
        assert len(submitted) - len(collected) <= 4  # the one being handed back and three ahead
        collected.append(result)
    assert collected == list(range(10))


def test_a_failed_task_raises_where_its_result_would_be() -> None:
    failed: Future[int] = Future()
    failed.set_exception(ValueError("chunk unreadable"))
    results = in_order(iter([_done(1), failed, _done(3)]), ahead=1)
    assert next(results) == 1
    with pytest.raises(ValueError, match="chunk unreadable"):
        next(results)
