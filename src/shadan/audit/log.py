"""The access-log event schema and its append path, in one module (DESIGN §4.3).

Events are appended inside the caller's transaction, so an event is durable exactly when the work it
records commits; a failure to write it aborts that work (fail closed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from shadan.domain.errors import AuditUnavailable
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome, ResourceType
from shadan.services.log_sink import UNAVAILABLE_MESSAGE

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# The sequence number is the event's position in the log (the Merkle leaf index in the next version).
access_events = Table(
    "access_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("system", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("company_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_ids", JSON, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("withheld_categories", JSON, nullable=False),
    Column("terminal_id", String(128), nullable=False),
    Column("source_ip", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("policy_ids", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Column("extra", JSON, nullable=False),
    UniqueConstraint("event_id"),
    Index(None, "account_id", "seq"),
)


def event_to_row(event: AccessEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "ts": event.ts.astimezone(dt.UTC),
        "system": event.system,
        "account_id": event.account_id,
        "person_id": event.person_id,
        "company_id": event.company_id,
        "action": str(event.action),
        "resource_type": str(event.resource_type),
        "resource_ids": list(event.resource_ids),
        "categories": list(event.categories),
        "withheld_categories": list(event.withheld_categories),
        "terminal_id": event.terminal_id,
        "source_ip": event.source_ip,
        "outcome": str(event.outcome),
        "purpose": event.purpose,
        "policy_ids": list(event.policy_ids),
        "detail": event.detail,
        "extra": dict(event.extra),
    }


def row_to_event(row: Any) -> AccessEvent:
    ts = row.ts if row.ts.tzinfo else row.ts.replace(tzinfo=dt.UTC)
    resource_type: ResourceType | str
    try:
        resource_type = ResourceType(row.resource_type)
    except ValueError:
        resource_type = row.resource_type  # ingested events from other systems keep their own types
    return AccessEvent(
        event_id=row.event_id,
        ts=ts,
        system=row.system,
        account_id=row.account_id,
        person_id=row.person_id,
        company_id=row.company_id,
        action=Action(row.action),
        resource_type=resource_type,
        resource_ids=tuple(row.resource_ids),
        categories=tuple(row.categories),
        withheld_categories=tuple(row.withheld_categories),
        terminal_id=row.terminal_id,
        source_ip=row.source_ip,
        outcome=Outcome(row.outcome),
        purpose=row.purpose,
        policy_ids=tuple(row.policy_ids),
        detail=row.detail,
        extra=dict(row.extra),
    )


class SqlAccessLog:
    """Append and query the access log on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, events: Sequence[AccessEvent]) -> None:
        if not events:
            return
        try:
            self._connection.execute(insert(access_events), [event_to_row(e) for e in events])
        except SQLAlchemyError as exc:
            raise AuditUnavailable(UNAVAILABLE_MESSAGE) from exc

    def events_of_account(self, account_id: str, limit: int) -> list[AccessEvent]:
        query = (
            select(access_events)
            .where(access_events.c.account_id == account_id)
            .order_by(access_events.c.seq.desc())
            .limit(limit)
        )
        return [row_to_event(r) for r in self._connection.execute(query)]

    def events_for_resource(self, resource_id: str, limit: int) -> list[AccessEvent]:
        # JSON containment differs per database; a LIKE on the serialised list is portable and exact
        # because ids are quoted in the JSON text.
        pattern = f'%"{resource_id}"%'
        query = (
            select(access_events)
            .where(access_events.c.resource_ids.cast(Text).like(pattern))
            .order_by(access_events.c.seq.desc())
            .limit(limit)
        )
        return [row_to_event(r) for r in self._connection.execute(query)]
