"""Japan time: how times are shown to people here, and which calendar day "today" is."""

from __future__ import annotations

import datetime as dt

# A fixed +09:00: Japan has kept no daylight saving time since 1951.
JST = dt.timezone(dt.timedelta(hours=9), "JST")


def local_day(moment: dt.datetime) -> dt.date:
    """The Japanese calendar day of a moment (employment dates, business days, daily statistics)."""
    return moment.astimezone(JST).date()
