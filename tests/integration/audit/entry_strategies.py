"""Hypothesis strategies for access_events rows as the application writes them (entry.entry_bytes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from shadan.audit.entry import JSON_FIELDS, TEXT_FIELDS

_CHARS = st.characters(exclude_categories=("Cs",))  # Arrow and SQLite text is valid UTF-8
TEXT = st.text(_CHARS, max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def logged_event(draw: st.DrawFn) -> dict[str, Any]:
    """An access_events row as the application writes it."""
    row: dict[str, Any] = {name: draw(TEXT) for name in TEXT_FIELDS}
    row["seq"] = draw(st.integers(min_value=1, max_value=2**62))
    row["ts"] = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1), timezones=st.just(dt.UTC)))
    for name in JSON_FIELDS:
        row[name] = draw(
            st.dictionaries(TEXT, JSON_VALUES, max_size=3)
            if name == "extra"
            else st.lists(JSON_VALUES, max_size=3)
        )
    return row
