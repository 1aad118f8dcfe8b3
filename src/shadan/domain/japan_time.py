"""Japan time: how times are shown to people here, and which calendar day "today" is."""

from __future__ import annotations

import datetime as dt

# A fixed +09:00: Japan has kept no daylight saving time since 1951.
JST = dt.timezone(dt.timedelta(hours=9), "JST")


def in_japan(moment: dt.datetime) -> dt.datetime:
    """A stored moment in Japan time; a naive one is UTC (SQLite hands stored times back naive)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(JST)


def local_day(moment: dt.datetime) -> dt.date:
    """The Japanese calendar day of a moment (employment dates, business days, daily statistics)."""
    return in_japan(moment).date()
