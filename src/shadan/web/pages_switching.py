"""The switching pages: 「廃止取次の申込登録」 (upload), a submission's results with downloads, and a supply
point's switching status. Each calls the SwitchingDesk method its JSON route calls (api/switching.py)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shadan.api.deps import RoleContextDep, ShadanDep
from shadan.api.downloads import attachment
from shadan.api.switching import SubmissionIdPath, read_upload
from shadan.domain.errors import InvalidInput
from shadan.domain.vocabulary import Action
from shadan.services.exports import ExportFormat
from shadan.services.switching_desk import MAX_UPLOAD_BYTES, UploadTooLarge
from shadan.services.tabular import CsvFormatError
from shadan.web.pages_auth import FORM_EXPIRED
from shadan.web.session import PageSession, SessionDep
from shadan.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_MB = MAX_UPLOAD_BYTES // (1024 * 1024)


def _upload_page(session: PageSession, status: int = 200, error: str = "", problems: Any = ()) -> Response:
    return render(
        "switching_upload.html", status, session=session, max_mb=MAX_MB, error=error, problems=problems
    )


@router.get("/switching")
def upload_form(shadan: ShadanDep, session: SessionDep, context: RoleContextDep) -> Response:
    shadan.switching_desk.admit(session.principal, context, Action.VIEW)
    return _upload_page(session)


@router.post("/switching/submissions")
async def upload(
    request: Request, shadan: ShadanDep, session: SessionDep, context: RoleContextDep
) -> Response:
    desk, principal = shadan.switching_desk, session.principal
    await run_in_threadpool(desk.admit, principal, context, Action.UPDATE)
    try:
        file, fields = await read_upload(request, "applications.csv")
    except UploadTooLarge as exc:
        return _upload_page(session, 413, exc.message)
    except InvalidInput as exc:
        return _upload_page(session, 422, exc.message)
    if not shadan.auth.check_csrf(session.token, fields.get("csrf_token", "")):
        return render("error.html", 403, title="登録できません", message=FORM_EXPIRED, session=session)
    strict = fields.get("strict") == "on"
    try:
        report = await run_in_threadpool(lambda: desk.submit(principal, context, file, strict=strict))
    except CsvFormatError as exc:
        return _upload_page(session, 422, "ファイルを読み取れません。", exc.errors)
    except InvalidInput as exc:
        return _upload_page(session, 422, exc.message)
    return RedirectResponse(f"/switching/submissions/{report.submission_id}", status_code=303)


@router.get("/switching/submissions/{submission_id}")
def results(
    submission_id: SubmissionIdPath, shadan: ShadanDep, session: SessionDep, context: RoleContextDep
) -> Response:
    report = shadan.switching_desk.results(session.principal, context, submission_id)
    return render(
        "switching_results.html",
        session=session,
        report=report,
        by_state=Counter(row.record.state for row in report.rows),
        formats=list(ExportFormat),
    )


@router.get("/switching/submissions/{submission_id}/download")
def download(
    submission_id: SubmissionIdPath,
    shadan: ShadanDep,
    session: SessionDep,
    context: RoleContextDep,
    fmt: Annotated[ExportFormat, Query(alias="format")],
) -> Response:
    file = shadan.switching_desk.download(session.principal, context, submission_id, fmt)
    return attachment(file.content, file.filename, file.media_type)


@router.get("/switching/supply-points")
def lookup(session: SessionDep, supply_point_id: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The status form's target: moves the typed id into the status page's path (reads nothing itself)."""
    return RedirectResponse(f"/switching/supply-points/{quote(supply_point_id.strip() or '-', safe='')}", 303)


@router.get("/switching/supply-points/{supply_point_id}")
def status(
    supply_point_id: Annotated[str, Path(max_length=64)],
    shadan: ShadanDep,
    session: SessionDep,
    context: RoleContextDep,
) -> Response:
    case = shadan.switching_desk.status(session.principal, context, supply_point_id)
    return render("switching_status.html", session=session, case=case)
