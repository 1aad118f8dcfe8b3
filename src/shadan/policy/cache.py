"""A bounded dict for decision and entity memos."""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict that forgets everything when full: no locks and no bookkeeping per hit."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        if self._size <= 0:
            return
        if len(self._data) >= self._size:
            self._data.clear()
        self._data[key] = value

    def __len__(self) -> int:
        return len(self._data)
