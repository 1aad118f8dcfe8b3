"""Work in bounded pieces: database statements and imports take their rows a batch at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (itertools.batched from Python 3.12, as lists)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
