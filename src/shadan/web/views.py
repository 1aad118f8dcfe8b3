"""Turning the vault's RecordView into what the record page shows, category by category."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import InfoCategory, Outcome, ResourceType
from shadan.services.vault import RecordView, SearchField
from shadan.web.labels import SEARCH_FIELD_LABELS, SESSION_STEP_LABELS, value_label
from shadan.web.templating import spaced_id


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class CategorySection:
    category: InfoCategory
    label: str
    withheld: bool
    rows: tuple[FieldRow, ...]


def record_sections(view: RecordView) -> list[CategorySection]:
    """Every category of the record in a fixed order; a withheld one carries its label and nothing else."""
    sections = []
    for category in InfoCategory:
        if category not in view.shown and category not in view.withheld:
            continue
        withheld = category in view.withheld
        fields = () if withheld else tuple(f for f in view.fields if f.category is category)
        rows = tuple(FieldRow(f.name, f.label, _display(f.name, f.value)) for f in fields)
        sections.append(CategorySection(category, category.label, withheld, rows))
    return sections


def _display(name: str, value: str | bool) -> str:
    if name == "supply_point_id" and isinstance(value, str):
        return spaced_id(value)
    return value_label(value)


def cell(view: RecordView, field_name: str) -> str | None:
    """A field's display value for a results table, or None when its category is withheld."""
    for f in view.fields:
        if f.name == field_name:
            return value_label(f.value)
    return None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    ts: dt.datetime
    action: str
    target: str
    purpose: str
    allowed: bool
    outcome: str
    terminal_id: str
    source_ip: str


def history_rows(events: list[AccessEvent]) -> list[HistoryRow]:
    """The person's own events in words: which step of a login, what was looked up or searched for."""
    return [
        HistoryRow(
            ts=e.ts,
            action=SESSION_STEP_LABELS.get(e.detail, value_label(e.action)),
            target=_target(e),
            purpose=e.purpose,
            allowed=e.outcome is Outcome.ALLOWED,
            outcome=value_label(e.outcome),
            terminal_id=e.terminal_id,
            source_ip=e.source_ip,
        )
        for e in events
    ]


def _target(event: AccessEvent) -> str:
    if event.resource_type != ResourceType.SUPPLY_POINT:
        return ""  # a session reference means nothing to the person
    if "term" in event.extra:
        try:
            field = SEARCH_FIELD_LABELS[SearchField(str(event.extra.get("field", "")))]
        except ValueError:
            field = "検索"
        return f"{field}「{event.extra['term']}」（{len(event.resource_ids)}件）"
    return " ".join(spaced_id(i) for i in event.resource_ids)
