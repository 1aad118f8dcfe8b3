"""/api/v1/switching: 廃止取次 and 開始申込 files, their results, and a supply point's switching status.

The pages (web/pages_switching.py) read uploads with `read_upload` and call the same SwitchingDesk
methods. Only a T&D principal whose roles give スイッチング処理 may use these routes, for its own area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from shadan.api.deps import CallerDep, PrincipalDep, RoleContextDep, ShadanDep, as_principal
from shadan.api.downloads import FILE_RESPONSES, attachment
from shadan.api.errors import error_json, error_responses
from shadan.api.schemas import PRINTABLE
from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import InvalidInput
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState, Half, HistoryEntry, StoredRow
from shadan.domain.vocabulary import Action
from shadan.services.exports import ExportFormat
from shadan.services.switching_cases import SubmissionReport, SupplyPointCase
from shadan.services.switching_desk import MAX_UPLOAD_BYTES, SwitchingDesk, Upload, UploadTooLarge

router = APIRouter(prefix="/switching", tags=["スイッチング"])

# Multipart boundaries and part headers around the file, beyond which a body is refused unread.
UPLOAD_OVERHEAD = 64 * 1024
SUBMISSION_ID_MAX = 2**31 - 1
BAD_MULTIPART = "マルチパート形式のリクエストを読み取れません。ファイルは file という項目で送ってください。"

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            f"申込CSV（UTF-8・BOM付きUTF-8・CP932）。本文そのもの（text/csv）か、multipart/form-data の"
            f" file 項目で送ります。上限 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。"
        ),
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}

SubmissionIdPath = Annotated[int, Path(ge=1, le=SUBMISSION_ID_MAX, description="申込登録番号")]
FileNameQuery = Annotated[
    str, Query(min_length=1, max_length=200, pattern=PRINTABLE, description="ファイル名（本文で送るとき）")
]


# ---- Reading an upload ------------------------------------------------------------------------------------


async def read_upload(request: Request, default_name: str) -> tuple[Upload, dict[str, str]]:
    """The file of a request and its other form fields: the whole body (text/csv and the like), or the
    part `file` of multipart/form-data. A body longer than the limit is refused as soon as it passes it,
    never read whole; UploadTooLarge then."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD:
        raise UploadTooLarge
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _multipart(request, default_name)
    data = b"".join([chunk async for chunk in _capped(request.stream(), MAX_UPLOAD_BYTES)])
    return Upload(default_name, data), {}


async def _multipart(request: Request, default_name: str) -> tuple[Upload, dict[str, str]]:
    stream = _capped(request.stream(), MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD)
    parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=8)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(BAD_MULTIPART) from exc
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidInput(BAD_MULTIPART)
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        return Upload(file.filename or default_name, await file.read()), fields
    finally:
        await form.close()


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise UploadTooLarge
        yield chunk


# ---- Bodies -----------------------------------------------------------------------------------------------


class ResultOut(BaseModel):
    line: int = Field(description="申込ファイルの行番号")
    application_id: str
    result: ResultKind
    error_code: str = Field(description="主エラーコード（rejected のときのみ、ほかは空）")
    error_codes: list[ErrorCode] = Field(description="該当したすべてのエラーコード（昇順）")
    message: str = Field(description="申込者向けの説明（日本語）")
    state: CaseState = Field(description="現在の状態")

    @classmethod
    def of(cls, row: StoredRow) -> ResultOut:
        record = row.record
        return cls(
            line=record.line,
            application_id=record.application_id,
            result=record.result,
            error_code=record.error_code,
            error_codes=list(record.error_codes),
            message=record.message,
            state=record.state,
        )


class SubmissionOut(BaseModel):
    submission_id: int = Field(description="申込登録番号")
    kind: Half = Field(description="cancel（廃止取次）または start（開始申込）")
    file_name: str
    sha256: str
    encoding: str = Field(description="判別した文字コード")
    strict: bool
    submitted_at: dt.datetime = Field(description="登録日時（UTC）")
    total: int
    by_result: dict[ResultKind, int]
    by_state: dict[CaseState, int] = Field(description="現在の状態ごとの件数")
    results: list[ResultOut] = Field(description="申込ファイルの行順")
    downloads: dict[ExportFormat, str] = Field(description="結果のダウンロードURL（CSV・Shift_JIS・Excel）")

    @classmethod
    def of(cls, report: SubmissionReport) -> SubmissionOut:
        submission = report.submission
        states = [row.record.state for row in report.rows]
        url = f"/api/v1/switching/submissions/{report.submission_id}/results?format="
        return cls(
            submission_id=report.submission_id,
            kind=submission.half,
            file_name=submission.file_name,
            sha256=submission.sha256,
            encoding=submission.encoding,
            strict=submission.strict,
            submitted_at=submission.submitted_at,
            total=submission.total,
            by_result=dict(submission.counts),
            by_state={state: states.count(state) for state in CaseState if state in states},
            results=[ResultOut.of(row) for row in report.rows],
            downloads={fmt: url + fmt.value for fmt in ExportFormat},
        )


class CaseApplicationOut(BaseModel):
    application_id: str
    kind: Half
    new_retailer_code: str
    switch_date: dt.date | None = Field(description="廃止年月日または供給開始年月日")
    received_at: dt.datetime | None = Field(description="受付日時（UTC）")
    result: ResultKind
    error_codes: list[ErrorCode]
    state: CaseState
    deadline: dt.date | None = Field(description="マッチング期限（日本時間の日付。マッチング待ちのときのみ）")
    submission_id: int


class HistoryOut(BaseModel):
    changed_at: dt.datetime = Field(description="UTC")
    application_id: str
    kind: Half
    state: CaseState
    registry_status: SupplyPointStatus = Field(description="この変更の後の供給地点の状態")
    changed_by: str
    reason: str

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryOut:
        return cls(
            changed_at=entry.changed_at,
            application_id=entry.application_id,
            kind=entry.half,
            state=entry.state,
            registry_status=entry.registry_status,
            changed_by=entry.changed_by,
            reason=entry.reason,
        )


class SupplyPointCaseOut(BaseModel):
    supply_point_id: str
    status: SupplyPointStatus
    applications: list[CaseApplicationOut] = Field(description="受付日時の順")
    history: list[HistoryOut] = Field(description="古い順")

    @classmethod
    def of(cls, case: SupplyPointCase) -> SupplyPointCaseOut:
        return cls(
            supply_point_id=case.supply_point_id,
            status=case.status,
            applications=[
                CaseApplicationOut(
                    application_id=row.record.application_id,
                    kind=row.record.half,
                    new_retailer_code=row.record.new_retailer_code,
                    switch_date=row.record.switch_date,
                    received_at=row.record.received_at,
                    result=row.record.result,
                    error_codes=list(row.record.error_codes),
                    state=row.record.state,
                    deadline=case.deadlines.get(row.row_id),
                    submission_id=row.submission_id,
                )
                for row in case.rows
            ],
            history=[HistoryOut.of(entry) for entry in case.history],
        )


# ---- Routes -----------------------------------------------------------------------------------------------

# What the two upload routes share: how they answer, and the body they take.
_UPLOAD_ROUTE: dict[str, Any] = {
    "status_code": 201,
    "response_model": SubmissionOut,
    "response_description": "登録の概要と行ごとの結果",
    "responses": {413: {"description": "ファイルが大きすぎます（上限 20 MB）"}}
    | error_responses(400, 401, 403, 422, 503),
    "openapi_extra": _UPLOAD_BODY,
}


@router.post(
    "/submissions",
    summary="廃止取次の申込登録",
    description=(
        "shadan switching submit と同じ照合をして、すべての行を結果とともに登録します。受付可の申込は"
        "マッチング待ちになり、供給地点は廃止受付中になります。同じファイル（SHA-256）は二度登録できません。"
        "他エリアの供給地点は存在しない番号と同じ 01 になります。"
    ),
    **_UPLOAD_ROUTE,
)
async def submit(
    request: Request,
    shadan: ShadanDep,
    principal: PrincipalDep,
    context: RoleContextDep,
    strict: Annotated[bool, Query(description="名義・住所を NFKC と空白除去だけで照合する")] = False,
    file_name: FileNameQuery = "applications.csv",
) -> Any:
    desk = shadan.switching_desk
    return await _register(
        request,
        desk,
        principal,
        context,
        file_name,
        lambda upload: desk.submit(principal, context, upload, strict=strict),
    )


@router.post(
    "/starts",
    summary="開始申込の登録",
    description=(
        "開始申込のCSVを照合して登録し、同じ供給地点・新小売事業者・日付のマッチング待ちの廃止取次と"
        "マッチングします（成立すると供給地点はロックされます）。"
    ),
    **_UPLOAD_ROUTE,
)
async def start(
    request: Request,
    shadan: ShadanDep,
    principal: PrincipalDep,
    context: RoleContextDep,
    file_name: FileNameQuery = "starts.csv",
) -> Any:
    desk = shadan.switching_desk
    return await _register(
        request, desk, principal, context, file_name, lambda upload: desk.start(principal, context, upload)
    )


async def _register(
    request: Request,
    desk: SwitchingDesk,
    principal: Principal,
    context: RequestContext,
    file_name: str,
    register: Callable[[Upload], SubmissionReport],
) -> Any:
    """An upload route: the uploader admitted before the body is read, the body read (413 past the limit),
    then registered."""
    await run_in_threadpool(desk.admit, principal, context, Action.UPDATE)
    try:
        upload, _ = await read_upload(request, file_name)
    except UploadTooLarge as exc:
        return error_json(413, exc.code, exc.message)
    return SubmissionOut.of(await run_in_threadpool(register, upload))


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="申込登録の結果",
    description="自エリアの申込登録の概要と行ごとの結果（現在の状態つき）。",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def submission(
    submission_id: SubmissionIdPath, shadan: ShadanDep, who: CallerDep, context: RoleContextDep
) -> SubmissionOut:
    desk = shadan.switching_desk
    report = await as_principal(shadan, who, lambda p: desk.results(p, context, submission_id))
    return SubmissionOut.of(report)


@router.get(
    "/submissions/{submission_id}/results",
    response_class=Response,
    summary="申込登録の結果のダウンロード（CSV・Excel）",
    description="行ごとの結果を CSV（UTF-8 BOM付き・Shift_JIS）または Excel で返します。",
    response_description="CSV または Excel ファイル",
    responses=FILE_RESPONSES | error_responses(401, 403, 404, 422, 503),
)
async def results(
    submission_id: SubmissionIdPath,
    shadan: ShadanDep,
    who: CallerDep,
    context: RoleContextDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="csv, csv-cp932 または xlsx")],
) -> Response:
    desk = shadan.switching_desk
    file = await as_principal(shadan, who, lambda p: desk.download(p, context, submission_id, fmt))
    return attachment(file.content, file.filename, file.media_type)


@router.get(
    "/supply-points/{supply_point_id}",
    response_model=SupplyPointCaseOut,
    summary="供給地点のスイッチング状況",
    description=("供給地点の状態、申込と、状態変更の履歴。存在しない番号と他エリアの番号は同じ404です。"),
    responses=error_responses(401, 403, 404, 422, 503),
)
async def supply_point(
    supply_point_id: Annotated[
        str, Path(pattern=r"^(0[1-9]|10)[0-9]{20}$", description="供給地点特定番号（22桁の数字）")
    ],
    shadan: ShadanDep,
    who: CallerDep,
    context: RoleContextDep,
) -> SupplyPointCaseOut:
    desk = shadan.switching_desk
    case = await as_principal(shadan, who, lambda p: desk.status(p, context, supply_point_id))
    return SupplyPointCaseOut.of(case)
