"""The access_events columns as the tree reads them: JSON columns as their stored text (see entry.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, cast

from shadan.audit.entry import JSON_FIELDS
from shadan.audit.log import access_events

# CAST(... AS TEXT): PostgreSQL's json type keeps the text it was given; SQLite stores text anyway.
EVENT_COLUMNS: tuple[ColumnElement[Any], ...] = tuple(
    cast(column, Text).label(column.name) if column.name in JSON_FIELDS else column
    for column in access_events.c
)
