"""The readahead of the log file (audit/readahead.py): which bytes it asks for and when, a fake in place of
the kernel (no file here; the real `posix_fadvise` is in tests/integration/audit/test_readahead_file.py)."""

from __future__ import annotations

from pathlib import Path
from threading import Event

import pytest

from shadan.audit.readahead import Readahead, requests, window_end


def test_the_window_starts_small_and_grows_twice_as_fast_as_the_reader() -> None:
    assert window_end(0.0, 1_000, 10_000, start=10) == 10
    assert window_end(0.1, 1_000, 10_000, start=10) == 100 + 10 + 200
    assert window_end(0.3, 1_000, 10_000, start=10) == 300 + 10 + 600
    assert window_end(0.4, 1_000, 10_000, start=10) == 1_000  # never past the file's end


def test_the_window_reaches_no_further_than_the_budget_past_the_reader() -> None:
    assert window_end(0.0, 100, 30, start=50) == 30
    assert window_end(0.5, 100, 30, start=10) == 80
    assert window_end(0.9, 100, 30, start=10) == 100


def test_a_file_within_the_first_window_is_asked_for_whole_at_once() -> None:
    assert window_end(0.0, 100, 1_000, start=100) == 100
    assert window_end(0.0, 100, 1_000, start=1_000) == 100


def test_requests_are_steps_the_last_one_shorter() -> None:
    assert requests(0, 25, 10) == [(0, 10), (10, 10), (20, 5)]
    assert requests(20, 20, 10) == []


class _Kernel:
    """Records the requests; `reached(n)` is set once the requests cover the first n bytes."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.asked: list[tuple[int, int]] = []
        self.released = 0
        self.ended = Event()
        self._fail_at = fail_at
        self._waits: dict[int, Event] = {}

    def reached(self, end: int) -> Event:
        return self._waits.setdefault(end, Event())

    def advise(self, offset: int, length: int) -> None:
        if offset == self._fail_at:
            raise OSError("no such device")
        self.asked.append((offset, length))
        self.reached(offset + length).set()

    def release(self) -> None:
        self.released += 1
        self.ended.set()


def test_a_file_within_the_budget_is_asked_for_without_the_reader_moving() -> None:
    kernel = _Kernel()
    readahead = Readahead(25, 100, kernel.advise, kernel.release, step=10, start=100)
    assert kernel.reached(25).wait(10)
    readahead.stop()
    assert kernel.asked == [(0, 10), (10, 10), (20, 5)]
    assert kernel.released == 1


def test_a_larger_file_is_asked_for_as_the_reader_moves_never_further() -> None:
    kernel = _Kernel()
    readahead = Readahead(100, 30, kernel.advise, kernel.release, step=10, start=10)
    assert kernel.reached(10).wait(10)
    readahead.advance(0.1)  # 10 past the reader and twice its 10
    assert kernel.reached(40).wait(10)
    readahead.advance(0.5)  # now the budget: 30 past the reader
    assert kernel.reached(80).wait(10)
    readahead.stop()
    assert kernel.asked == requests(0, 80, 10)  # each byte asked for once, none past the window
    assert kernel.released == 1


def test_stopping_ends_a_thread_that_waits_for_the_reader() -> None:
    kernel = _Kernel()
    readahead = Readahead(100, 10, kernel.advise, kernel.release, step=10, start=10)
    assert kernel.reached(10).wait(10)
    readahead.stop()
    readahead.advance(1.0)  # after the end: asks for nothing
    assert kernel.asked == [(0, 10)]
    assert kernel.released == 1


def test_a_failing_request_ends_the_readahead_quietly() -> None:
    kernel = _Kernel(fail_at=10)
    readahead = Readahead(100, 100, kernel.advise, kernel.release, step=10, start=100)
    assert kernel.ended.wait(10)
    readahead.stop()
    assert kernel.asked == [(0, 10)]
    assert kernel.released == 1


@pytest.mark.parametrize("budget", [0, -1])
def test_no_budget_no_readahead(budget: int) -> None:
    assert Readahead.of_file(Path("log.db"), budget) is None
