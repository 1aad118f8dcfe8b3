"""/api/v1/audit: the access log for auditors — status, event search, CSV/Excel export, proof files.

The pages (web/pages_audit.py) use the filter dependency and file responses of this module and call the
same AuditReviewService methods. Internal audit may use every route; the regulator only the status.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from shadan.api.deps import CallerDep, RoleContextDep, ShadanDep, as_principal
from shadan.api.downloads import FILE_RESPONSES, attachment
from shadan.api.errors import error_responses
from shadan.api.schemas import PRINTABLE
from shadan.domain.events import AccessEvent
from shadan.domain.vocabulary import Action, Outcome
from shadan.services.audit_filters import FilterInput
from shadan.services.audit_log import CheckpointInfo
from shadan.services.audit_review import (
    EXPORT_ROW_CAP,
    PAGE_SIZE,
    UNREADABLE_SHOWN,
    Cosignature,
    ExportFile,
    LoggedEvent,
    LogStatus,
    SearchPage,
    finding_titles,
)
from shadan.services.exports import ExportFormat

router = APIRouter(prefix="/audit", tags=["アクセスログ監査"])

SEQ_MAX = 2**63 - 1  # the column is a signed 64-bit integer
TEXT_QUERY_MAX = 64
DATE_QUERY_MAX = 20


def _text(description: str, max_length: int = TEXT_QUERY_MAX) -> Any:
    return Query(max_length=max_length, pattern=PRINTABLE, description=description)


async def event_filters(
    supply_point_id: Annotated[
        str, _text("供給地点特定番号（22桁。ハイフン区切り・全角数字も可）。完全一致")
    ] = "",
    account_id: Annotated[str, _text("アカウントID（完全一致）")] = "",
    person_id: Annotated[str, _text("個人ID（完全一致）")] = "",
    date_from: Annotated[str, _text("期間の開始日（日本時間、YYYY-MM-DD）", DATE_QUERY_MAX)] = "",
    date_to: Annotated[str, _text("期間の終了日（日本時間、YYYY-MM-DD。その日を含む）", DATE_QUERY_MAX)] = "",
    action: Annotated[str, _text("操作: " + ", ".join(Action))] = "",
    outcome: Annotated[str, _text("結果: " + ", ".join(Outcome))] = "",
    purpose: Annotated[str, _text("利用目的（完全一致）")] = "",
) -> FilterInput:
    return FilterInput(supply_point_id, account_id, person_id, date_from, date_to, action, outcome, purpose)


FiltersDep = Annotated[FilterInput, Depends(event_filters)]
SeqPath = Annotated[int, Path(ge=1, le=SEQ_MAX, description="イベントの連番（seq）")]
BeforeQuery = Annotated[
    int | None,
    Query(ge=1, le=SEQ_MAX, description="この連番より古いイベントを返す（前ページの next_before）"),
]


def file_response(file: ExportFile) -> Response:
    counts = {
        "X-Shadan-Export-Rows": str(file.rows),
        "X-Shadan-Export-Capped": "true" if file.capped else "false",
    }
    return attachment(file.content, file.filename, file.media_type, counts)


def root_hash_text(head: CheckpointInfo) -> str:
    return base64.b64encode(head.root_hash).decode()


def proof_response(seq: int, text: str) -> Response:
    return attachment(text, f"shadan-{seq}.tlog-proof", "text/plain; charset=utf-8")


# ---- Bodies -----------------------------------------------------------------------------------------------


class CheckpointOut(BaseModel):
    size: int = Field(description="木のサイズ（イベント数）")
    root_hash: str = Field(description="ルートハッシュ（base64）")
    created_at: dt.datetime = Field(description="署名日時（UTC）")


def _checkpoint_out(head: CheckpointInfo | None) -> CheckpointOut | None:
    if head is None:
        return None
    return CheckpointOut(size=head.size, root_hash=root_hash_text(head), created_at=head.created_at)


class VerificationOut(BaseModel):
    started_at: dt.datetime
    finished_at: dt.datetime
    tree_size: int
    events_checked: int
    ok: bool
    first_bad_seq: int | None = Field(description="最初に不正が見つかった連番")
    exit_code: int = Field(description="shadan audit verify の終了コード")
    run_by: str
    findings: list[str] = Field(description="見つかった不正の種類（日本語）")


class CosignatureOut(BaseModel):
    witness_name: str
    tree_size: int
    cosigned_at: dt.datetime = Field(description="証人の連署の日時（UTC）")
    received_at: dt.datetime


class WitnessStandingOut(BaseModel):
    witness_name: str
    asked: bool = Field(
        description="ログが新しいチェックポイントを渡して連署を依頼している証人か（取り込みのみなら false）"
    )
    newest: CosignatureOut | None = Field(description="連署した最大の木のサイズの連署（まだないときは null）")
    behind: int | None = Field(description="最新のチェックポイントのうち、この証人が連署していないイベント数")


def _cosignature_out(c: Cosignature) -> CosignatureOut:
    return CosignatureOut(
        witness_name=c.witness_name,
        tree_size=c.tree_size,
        cosigned_at=c.cosigned_at,
        received_at=c.received_at,
    )


class AuditStatusResponse(BaseModel):
    origin: str | None = Field(description="ログ名（チェックポイントがまだないときは null）")
    events_total: int = Field(
        description="データベースが保持するイベント数（木のサイズ − 削除済み ＋ 順序付け待ち）"
    )
    tree_size: int
    pending_events: int = Field(description="記録済みで、まだ木に順序付けされていないイベント数")
    deleted_events: int = Field(
        description="保存期間を過ぎて、署名付きの削除記録とともに削除されたイベント数"
    )
    latest_checkpoint: CheckpointOut | None
    last_verification: VerificationOut | None
    cosignatures: list[CosignatureOut] = Field(description="最近のチェックポイントへの証人の連署（新しい順）")
    witness_quorum: int = Field(description="証明ファイルの基にするチェックポイントに必要な証人の連署の数")
    witnessed_checkpoint: CheckpointOut | None = Field(
        description="定足数の証人が連署した最新のチェックポイント（まだないときは null）"
    )
    witnesses: list[WitnessStandingOut] = Field(description="証人ごとの最新の連署（依頼している証人が先）")
    verification_overdue: bool = Field(
        description="木にイベントがあり、SHADAN_LOG_VERIFICATION_MAX_AGE_HOURS 以内に検証が実行されていないか"
    )
    leaves_since_verification: int | None = Field(
        description="最後の検証の後に木に加わったイベント数（検証がまだないときは null）"
    )
    quorum_out_of_reach: bool = Field(
        description="定足数が、依頼している証人とこれまでに連署した証人の数を超えているか"
    )
    stalled_seq: int | None = Field(
        description="木に入るのを SHADAN_LOG_SEQUENCING_MAX_WAIT_MINUTES より長く待っている"
        "最初のイベントの連番（順序付けが止まっている。ないときは null）"
    )
    left_out_seqs: list[int] | None = Field(
        description="順序付けで読めず木から外され、まだ外す記録（shadan audit set-aside）のないエントリの連番"
        "（最初の20件。JSON でないエントリがあって読めないときは null）"
    )
    more_left_out: bool = Field(description="left_out_seqs のほかにも木から外されたエントリがあるか")

    @classmethod
    def of(cls, status: LogStatus) -> AuditStatusResponse:
        head = status.latest_checkpoint
        run = status.last_verification
        return cls(
            origin=status.origin,
            events_total=status.counts.events_total,
            tree_size=status.counts.tree_size,
            pending_events=status.counts.pending_events,
            deleted_events=status.counts.deleted_events,
            latest_checkpoint=_checkpoint_out(head),
            last_verification=VerificationOut(
                started_at=run.started_at,
                finished_at=run.finished_at,
                tree_size=run.tree_size,
                events_checked=run.events_checked,
                ok=run.ok,
                first_bad_seq=run.first_bad_seq,
                exit_code=run.exit_code,
                run_by=run.run_by,
                findings=list(finding_titles(run)),
            )
            if run
            else None,
            cosignatures=[_cosignature_out(c) for c in status.cosignatures],
            witness_quorum=status.witnessed.quorum,
            witnessed_checkpoint=_checkpoint_out(status.witnessed.checkpoint),
            witnesses=[
                WitnessStandingOut(
                    witness_name=w.witness_name,
                    asked=w.asked,
                    newest=_cosignature_out(w.newest) if w.newest else None,
                    behind=w.behind,
                )
                for w in status.witnesses
            ],
            quorum_out_of_reach=status.quorum_out_of_reach,
            verification_overdue=status.verification_overdue,
            leaves_since_verification=status.leaves_since_verification,
            stalled_seq=status.stalled_seq,
            left_out_seqs=None if status.left_out_seqs is None else list(status.left_out_seqs),
            more_left_out=status.more_left_out,
        )


class LoggedEventOut(BaseModel):
    kind: Literal["event"] = "event"
    seq: int
    event_id: str
    ts: dt.datetime = Field(description="UTC（画面では日本時間で表示）")
    system: str
    account_id: str
    person_id: str
    company_id: str
    company_name: str
    action: Action
    resource_type: str
    resource_ids: list[str]
    categories: list[str]
    withheld_categories: list[str]
    purpose: str
    outcome: Outcome
    terminal_id: str
    source_ip: str
    policy_ids: list[str]
    detail: str
    extra: dict[str, Any]

    @classmethod
    def of(cls, logged: LoggedEvent, e: AccessEvent) -> LoggedEventOut:
        return cls(
            seq=logged.seq,
            event_id=e.event_id,
            ts=e.ts,
            system=e.system,
            account_id=e.account_id,
            person_id=e.person_id,
            company_id=e.company_id,
            company_name=logged.company_name,
            action=e.action,
            resource_type=str(e.resource_type),
            resource_ids=list(e.resource_ids),
            categories=list(e.categories),
            withheld_categories=list(e.withheld_categories),
            purpose=e.purpose,
            outcome=e.outcome,
            terminal_id=e.terminal_id,
            source_ip=e.source_ip,
            policy_ids=list(e.policy_ids),
            detail=e.detail,
            extra=dict(e.extra),
        )


class UnreadableEntryOut(BaseModel):
    kind: Literal["unreadable_entry"] = "unreadable_entry"
    seq: int
    entry: str = Field(
        description=f"shadan が記録した形式ではないエントリの本文（先頭 {UNREADABLE_SHOWN:,} 文字まで）"
    )


LogRowOut = Annotated[LoggedEventOut | UnreadableEntryOut, Field(discriminator="kind")]


def log_row(logged: LoggedEvent) -> LoggedEventOut | UnreadableEntryOut:
    if logged.event is None:
        return UnreadableEntryOut(seq=logged.seq, entry=logged.unreadable_entry)
    return LoggedEventOut.of(logged, logged.event)


class AuditSearchResponse(BaseModel):
    count: int = Field(description=f"このページの件数（最大{PAGE_SIZE}）")
    matched: int | None = Field(
        description="条件に合うイベント数（export_row_cap + 1 件で数えるのをやめる。"
        "制限時間内に数えきれないときは null）"
    )
    export_row_cap: int = Field(description="出力できる最大件数")
    export_capped: bool = Field(description="true なら出力は新しい順に export_row_cap 件まで")
    next_before: int | None = Field(
        description="次のページ（より古いイベント）の before。最後のページでは null"
    )
    events: list[LogRowOut] = Field(
        description="新しい順。kind が unreadable_entry の行は、shadan が記録した形式ではないエントリ"
    )

    @classmethod
    def of(cls, page: SearchPage) -> AuditSearchResponse:
        return cls(
            count=len(page.events),
            matched=page.matched,
            export_row_cap=page.export_cap,
            export_capped=page.export_capped,
            next_before=page.next_before,
            events=[log_row(e) for e in page.events],
        )


# ---- Routes -----------------------------------------------------------------------------------------------

_PROOF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}


@router.get(
    "/status",
    response_model=AuditStatusResponse,
    summary="アクセスログの状態",
    description=(
        "最新のチェックポイント、最後の検証の結果、証人の連署を返します。内部監査と監視委員会が使えます。"
        "この照会もアクセスログに記録されます。"
    ),
    response_description="ログの状態",
    responses=error_responses(401, 403, 503),
)
async def status(shadan: ShadanDep, who: CallerDep, context: RoleContextDep) -> AuditStatusResponse:
    log_status = await as_principal(shadan, who, lambda p: shadan.audit_review.status(p, context))
    return AuditStatusResponse.of(log_status)


@router.get(
    "/events",
    response_model=AuditSearchResponse,
    summary="アクセスイベントの検索",
    description=(
        "供給地点特定番号・アカウント・個人・期間（日本時間）・操作・結果・利用目的で絞り込み、新しい順に"
        f"{PAGE_SIZE}件ずつ返します。内部監査のみ。検索条件はアクセスログに記録されます。"
    ),
    response_description="検索結果",
    responses=error_responses(401, 403, 422, 503),
)
async def search_events(
    shadan: ShadanDep,
    who: CallerDep,
    context: RoleContextDep,
    filters: FiltersDep,
    before: BeforeQuery = None,
) -> AuditSearchResponse:
    page = await as_principal(shadan, who, lambda p: shadan.audit_review.search(p, filters, context, before))
    return AuditSearchResponse.of(page)


@router.get(
    "/events/export",
    response_class=Response,
    summary="アクセスイベントの出力（CSV・Excel）",
    description=(
        f"検索と同じ条件のイベントを新しい順に最大{EXPORT_ROW_CAP:,}件、CSV（UTF-8 BOM付き・Shift_JIS）"
        "または Excel で返します。上限で打ち切ったときは X-Shadan-Export-Capped: true。内部監査のみ。"
    ),
    response_description="CSV または Excel ファイル",
    responses=FILE_RESPONSES | error_responses(401, 403, 422, 503),
)
async def export_events(
    shadan: ShadanDep,
    who: CallerDep,
    context: RoleContextDep,
    filters: FiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="csv, csv-cp932 または xlsx")],
) -> Response:
    file = await as_principal(shadan, who, lambda p: shadan.audit_review.export(p, filters, fmt, context))
    return file_response(file)


@router.get(
    "/events/{seq}/proof",
    response_class=Response,
    summary="証明ファイルの取得",
    description=(
        "イベントが署名済みのチェックポイントに含まれることを示す C2SP tlog-proof ファイル"
        "（shadan-<連番>.tlog-proof）を返します。公開鍵だけで検証できます。内部監査のみ。"
    ),
    response_description="tlog-proof ファイル",
    responses=_PROOF_RESPONSES | error_responses(401, 403, 404, 422, 503),
)
async def event_proof(shadan: ShadanDep, who: CallerDep, context: RoleContextDep, seq: SeqPath) -> Response:
    text = await as_principal(shadan, who, lambda p: shadan.audit_review.proof(p, seq, context))
    return proof_response(seq, text)
