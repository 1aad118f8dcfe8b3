"""Calls to several outside parties at once, waited for up to a deadline (the witnesses of the log).

A party's own timeout bounds each network operation, not the whole answer: a witness that trickles its
answer a byte at a time, or a proxy that does, would hold the caller for as long as it likes. So the
calls run on daemon threads and the caller waits for all of them together no longer than its patience; a
party still answering then is given up on (its late answer is dropped) and is not called again until
that call has ended, so a stuck party never piles up threads either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from shadan.domain.errors import DomainError

T = TypeVar("T")


class GaveUp(DomainError):
    """The party did not answer within the caller's patience (or is still answering an earlier call)."""


class PatientCalls(Generic[T]):
    def __init__(self, patience_seconds: float) -> None:
        if patience_seconds <= 0:
            raise ValueError("the patience must be positive")
        self._patience = patience_seconds
        self._unfinished: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def busy(self, party: str) -> bool:
        """True while a call given up on is still running."""
        with self._lock:
            thread = self._unfinished.get(party)
            if thread is not None and not thread.is_alive():
                del self._unfinished[party]
                thread = None
        return thread is not None

    def call(self, calls: Sequence[tuple[str, Callable[[], T]]]) -> dict[str, T | Exception]:
        """Each party's answer or exception; GaveUp for those still answering when the patience ran out."""
        answers: dict[str, T | Exception] = {}
        threads = [(party, self._start(party, call, answers)) for party, call in calls]
        deadline = time.monotonic() + self._patience
        for _, thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        results: dict[str, T | Exception] = {}
        for party, thread in threads:
            if thread.is_alive():
                with self._lock:
                    self._unfinished[party] = thread
                results[party] = GaveUp(f"{self._patience:g} 秒以内に答えがありませんでした")
            else:
                results[party] = answers[party]
        return results

    @staticmethod
    def _start(party: str, call: Callable[[], T], answers: dict[str, T | Exception]) -> threading.Thread:
        def run() -> None:
            try:
                answers[party] = call()
            except Exception as exc:  # handed to the caller as this party's answer
                answers[party] = exc

        # A daemon: a party that never answers must not keep a stopping server alive.
        thread = threading.Thread(target=run, name=f"shadan-call-{party[:40]}", daemon=True)
        thread.start()
        return thread
