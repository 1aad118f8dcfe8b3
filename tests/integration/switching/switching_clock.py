"""The server clock of the stored-switching tests: set, then moved on by whole days."""

from __future__ import annotations

import datetime as dt


class MovableClock:
    """Set to a moment, then moved on by whole days."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def days_later(self, days: int) -> None:
        self.now += dt.timedelta(days=days)
