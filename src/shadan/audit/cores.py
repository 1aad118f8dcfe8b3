"""Work on every core: how many cores this process may use, worker processes, and their results in order
(verification and verify-archive start one worker per core)."""

from __future__ import annotations

import ctypes
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """Fresh interpreters (spawn): a forked process would inherit the caller's threads' locks. Each starts
    by importing the program's main module again, which is kept light (shadan/__main__.py), keeps the
    memory it frees (`keep_freed_memory`) and runs `initializer`."""
    return ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(initializer, initargs)
    )


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    keep_freed_memory()
    if initializer is not None:
        initializer(*initargs)


def keep_freed_memory() -> None:
    """Have glibc's malloc keep freed memory for the next allocation; nothing where there is no `mallopt`.

    glibc gives a large block (from 128 KB up to 32 MB, by its own measure) pages of its own and returns
    them to the kernel when it is freed: the next one gets fresh pages, each a page fault the kernel fills
    with zeros. A worker that reads chunk after chunk of some 100 MB spent a fifth of its time so (19,000
    faults a chunk of 131,072 events; 2,000 with this). Blocks from the heap, which is never trimmed, are
    used again instead; a worker's memory stays at its largest chunk's, as it nearly did anyway.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except AttributeError:
        return
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)


def in_order(futures: Iterable[Future[T]], ahead: int) -> Iterator[T]:
    """The results of lazily submitted futures in submission order, with at most `ahead` submitted ones
    not collected yet: the workers stay busy, the memory stays bounded."""
    pending: deque[Future[T]] = deque()
    for future in futures:
        pending.append(future)
        if len(pending) > ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
