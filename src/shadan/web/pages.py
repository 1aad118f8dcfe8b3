"""The pages behind login: home, record, search and my access history. Thin: each calls one vault
method — the same one the JSON route calls — and renders the result."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query
from starlette.responses import RedirectResponse, Response

from shadan.api.deps import ContextDep, ShadanDep
from shadan.api.schemas import PRINTABLE
from shadan.domain.supply_point_id import canonicalise
from shadan.services.vault import SearchField
from shadan.web.labels import SEARCH_FIELD_LABELS, WITHHELD
from shadan.web.session import SessionDep
from shadan.web.templating import render
from shadan.web.views import cell, history_rows, record_sections

router = APIRouter(include_in_schema=False)

HISTORY_LIMIT = 100
SEARCH_COLUMNS = ("address", "name_kanji", "kind", "status")


@router.get("/")
def home(shadan: ShadanDep, session: SessionDep) -> Response:
    return render(
        "home.html",
        session=session,
        purposes=shadan.vault.purposes_for(session.principal),
        search_fields=SEARCH_FIELD_LABELS,
    )


@router.get("/supply-points")
def lookup(
    session: SessionDep,
    supply_point_id: Annotated[str, Query(max_length=64)] = "",
    purpose: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The home form's target: moves the typed id into the record page's path (reads nothing itself)."""
    query = urlencode({"purpose": purpose}) if purpose else ""
    location = f"/supply-points/{quote(supply_point_id.strip() or '-', safe='')}"
    return RedirectResponse(f"{location}?{query}" if query else location, status_code=303)


@router.get("/supply-points/{supply_point_id}")
def record(
    supply_point_id: Annotated[str, Path(max_length=64)],
    shadan: ShadanDep,
    session: SessionDep,
    context: ContextDep,
) -> Response:
    view = shadan.vault.read(session.principal, supply_point_id, context)
    return render(
        "record.html",
        session=session,
        supply_point_id=view.supply_point_id or canonicalise(supply_point_id),
        sections=record_sections(view),
        purpose=context.purpose,
        viewed_at=context.now,
        withheld_label=WITHHELD,
    )


@router.get("/search")
def search(
    shadan: ShadanDep,
    session: SessionDep,
    context: ContextDep,
    field: SearchField,
    q: Annotated[str, Query(max_length=100, pattern=PRINTABLE)] = "",
) -> Response:
    views = shadan.vault.search(session.principal, field, q, context)
    rows = [(v, {name: cell(v, name) for name in SEARCH_COLUMNS}) for v in views]
    return render(
        "search.html",
        session=session,
        field_label=SEARCH_FIELD_LABELS[field],
        q=q,
        purpose=context.purpose,
        purpose_query=urlencode({"purpose": context.purpose or ""}),
        rows=rows,
        withheld_label=WITHHELD,
    )


@router.get("/me/history")
def history(shadan: ShadanDep, session: SessionDep) -> Response:
    events = shadan.vault.history(session.principal, HISTORY_LIMIT)
    return render("history.html", session=session, rows=history_rows(events), limit=HISTORY_LIMIT)
