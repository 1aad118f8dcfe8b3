"""Reading a SQLite log file into the page cache ahead of the verification workers.

A worker reads the file a 4 KiB page at a time (SQLite's `pread`). Where the page cache has lost the
pages — the first verification after a large load, a nightly one of a log larger than memory — each small
read costs the kernel far more than one large request: on the reference machine the 10M log, evicted,
verified in 14.4–15.9 s with 12.6 s of system time (9.4–9.8 s and 2.1 with the file in memory), while
asking for the whole file 8 MB at a time took 1.6 s of system time. So a thread asks the kernel to read
the file ahead (`POSIX_FADV_WILLNEED`), 8 MB a request (the most the kernel reads for one), from the
start and at most `budget` bytes past the workers' position; the workers then find their pages cached.

The position is the share of the leaves verified, taken as the same share of the file: a log's pages are
written roughly in the order of its events. The window starts small (`START`) and grows with the
workers, by twice what they have read: asked for whole at once, a 9 GB file kept the first chunk waiting
4 s behind the kernel's queue and its work (0.6 s with a window that grows); growing faster than the
workers read, it still reaches the pages a bulk load or a migration wrote apart (the tree after the
events) before the workers do, and a file within the budget is soon asked for whole.

A hint only: nothing is read into this process, asking for pages already cached costs little (0.16–0.19 s
of system time for the whole 10M log), and the verification reads what it reads either way; where the
platform has no `posix_fadvise`, or the file cannot be opened, nothing is asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from threading import Condition, Thread

STEP = 8 << 20  # the kernel reads at most `read_ahead_kb` per request: 8 MB on the reference machine
START = 256 << 20  # asked for before the workers have read anything

Advise = Callable[[int, int], None]  # (offset, length): ask for these bytes of the file


def window_end(done: float, size: int, budget: int, start: int = START) -> int:
    """How far into a file of `size` bytes to ask for, `done` of the work being done: `start` bytes past
    the reader's position and twice as far again as it has come, never more than `budget` past it."""
    position = int(done * size)
    return min(size, position + min(budget, start + 2 * position))


def requests(offset: int, end: int, step: int) -> list[tuple[int, int]]:
    """The (offset, length) requests from `offset` up to `end`, `step` bytes each, the last one shorter."""
    return [(start, min(step, end - start)) for start in range(offset, end, step)]


def memory_available() -> int | None:
    """The memory the kernel could give without swapping (`MemAvailable`, Linux); None elsewhere."""
    try:
        lines = Path("/proc/meminfo").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            return int(value.split()[0]) * 1024
    return None


class Readahead:
    """A thread asking for a file's bytes ahead of a reader that moves through it (`advance`)."""

    def __init__(
        self,
        size: int,
        budget: int,
        advise: Advise,
        release: Callable[[], None] = lambda: None,
        step: int = STEP,
        start: int = START,
    ) -> None:
        self._size, self._budget, self._step, self._start = size, budget, step, start
        self._advise, self._release = advise, release
        self._done = 0.0
        self._stopped = False
        self._changed = Condition()
        self._thread = Thread(target=self._run, name="readahead", daemon=True)
        self._thread.start()

    @classmethod
    def of_file(cls, path: Path, budget: int) -> Readahead | None:
        """A readahead of the file, or None where there is nothing to ask or no way to ask."""
        if budget <= 0 or not hasattr(os, "posix_fadvise"):
            return None
        try:
            fd = os.open(path, os.O_RDONLY)
            size = os.fstat(fd).st_size
        except OSError:
            return None

        def advise(offset: int, length: int) -> None:
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_WILLNEED)

        return cls(size, budget, advise, lambda: os.close(fd))

    def advance(self, done: float) -> None:
        """The reader has done this share of its work (0 to 1): the window moves on."""
        with self._changed:
            self._done = done
            self._changed.notify()

    def stop(self) -> None:
        """Ask for nothing more; returns once the thread has ended (after the request it is making)."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        offset = 0
        try:
            while (end := self._next_end(offset)) is not None:
                for start, length in requests(offset, end, self._step):
                    if self._stopped:
                        return
                    self._advise(start, length)
                offset = end
        except OSError:
            return  # a hint only: the workers read the file themselves
        finally:
            self._release()

    def _next_end(self, offset: int) -> int | None:
        """Wait until the window reaches past `offset`; None once stopped or past the file's end."""
        with self._changed:
            while not self._stopped and offset >= self._window_end():
                if offset >= self._size:
                    return None
                self._changed.wait()
            return None if self._stopped else self._window_end()

    def _window_end(self) -> int:
        return window_end(self._done, self._size, self._budget, self._start)
