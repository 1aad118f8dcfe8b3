"""The auditors' pages: アクセスログの状態 (/audit) and アクセスログの検索 (/audit/events), with the
downloads (CSV, CSV in Shift_JIS, Excel, proof files). Each calls the AuditReviewService method that
the JSON route of /api/v1/audit calls, with the same filters; the service decides who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.responses import Response

from shadan.api.audit import (
    BeforeQuery,
    FiltersDep,
    SeqPath,
    file_response,
    proof_response,
    root_hash_text,
)
from shadan.api.deps import RoleContextDep, ShadanDep
from shadan.domain.errors import InvalidInput
from shadan.domain.vocabulary import Action, InfoCategory, Outcome, ResourceType
from shadan.services.audit_filters import FilterInput
from shadan.services.audit_review import (
    UNREADABLE_ENTRY,
    AuditAccess,
    LoggedEvent,
    extras_text,
    finding_titles,
)
from shadan.services.exports import ExportFormat
from shadan.web.labels import value_label
from shadan.web.session import PageSession, SessionDep
from shadan.web.templating import render, spaced_id

router = APIRouter(include_in_schema=False)

ACTION_CHOICES = tuple((a.value, value_label(a)) for a in Action)
OUTCOME_CHOICES = tuple((o.value, value_label(o)) for o in Outcome)


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as the results table shows it (times are formatted in the template, in JST)."""

    logged: LoggedEvent
    action: str = ""
    outcome: str = ""
    allowed: bool = False
    resource_type: str = ""
    resource_ids: str = ""
    shown: str = ""
    withheld: str = ""
    extra: str = ""


def event_rows(events: tuple[LoggedEvent, ...]) -> list[EventRow]:
    return [_row(logged) for logged in events]


def _row(logged: LoggedEvent) -> EventRow:
    e = logged.event
    if e is None:
        return EventRow(logged)  # an unreadable entry: the template shows its text
    supply_points = e.resource_type == ResourceType.SUPPLY_POINT
    return EventRow(
        logged=logged,
        action=value_label(e.action),
        outcome=value_label(e.outcome),
        allowed=e.outcome is Outcome.ALLOWED,
        resource_type=value_label(e.resource_type),
        resource_ids=" ／ ".join(spaced_id(i) if supply_points else i for i in e.resource_ids),
        shown="、".join(_category(c) for c in e.categories),
        withheld="、".join(_category(c) for c in e.withheld_categories),
        extra=extras_text(e),
    )


def _category(value: str) -> str:
    try:
        return InfoCategory(value).label
    except ValueError:
        return value


@router.get("/audit")
def status_page(shadan: ShadanDep, session: SessionDep, context: RoleContextDep) -> Response:
    review = shadan.audit_review
    status = review.status(session.principal, context)
    head = status.latest_checkpoint
    run = status.last_verification
    return render(
        "audit_status.html",
        session=session,
        status=status,
        root_hash=root_hash_text(head) if head else "",
        findings=finding_titles(run) if run else (),
        may_search=review.access(session.principal) is AuditAccess.REVIEW,
    )


@router.get("/audit/events")
def events_page(
    shadan: ShadanDep,
    session: SessionDep,
    context: RoleContextDep,
    filters: FiltersDep,
    before: BeforeQuery = None,
) -> Response:
    try:
        page = shadan.audit_review.search(session.principal, filters, context, before)
    except InvalidInput as error:
        # The form comes back with what was typed and the reason (the refusal is already logged).
        return _events_page(session, filters, 422, error=error.message, page=None)
    query = filters.given()
    return _events_page(
        session,
        filters,
        200,
        error="",
        page=page,
        rows=event_rows(page.events),
        unreadable_label=UNREADABLE_ENTRY,
        downloads=[(f.label, _url("/audit/events/export", query | {"format": f})) for f in ExportFormat],
        next_url=_url("/audit/events", query | {"before": str(page.next_before)}) if page.next_before else "",
        first_url=_url("/audit/events", query) if before else "",
    )


@router.get("/audit/events/export")
def export_download(
    shadan: ShadanDep,
    session: SessionDep,
    context: RoleContextDep,
    filters: FiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format")],
) -> Response:
    return file_response(shadan.audit_review.export(session.principal, filters, fmt, context))


@router.get("/audit/events/{seq}/proof")
def proof_download(shadan: ShadanDep, session: SessionDep, context: RoleContextDep, seq: SeqPath) -> Response:
    return proof_response(seq, shadan.audit_review.proof(session.principal, seq, context))


def _events_page(session: PageSession, filters: FilterInput, status: int, **context: Any) -> Response:
    return render(
        "audit_events.html",
        status,
        session=session,
        filters=filters,
        actions=ACTION_CHOICES,
        outcomes=OUTCOME_CHOICES,
        **context,
    )


def _url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path
