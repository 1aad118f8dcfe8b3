"""Work on every core: how many cores this process may use, worker processes, and their results in order
(verification and verify-archive start one worker per core)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """Fresh interpreters (spawn): a forked process would inherit the caller's threads' locks. Each starts
    by importing the program's main module again, which is kept light (shadan/__main__.py)."""
    return ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=initializer, initargs=initargs
    )


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
