"""GET /api/v1/me and /api/v1/me/access-history: who am I, and what the log holds about my requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shadan.api.deps import PrincipalDep, ShadanDep
from shadan.api.errors import error_responses
from shadan.api.schemas import AccessEventOut, AccessHistoryResponse, MeResponse

router = APIRouter(prefix="/me", tags=["利用者"])


@router.get(
    "",
    response_model=MeResponse,
    summary="ログイン中の利用者",
    description="所属会社・役割と、選択できる利用目的を返します。",
    response_description="利用者の情報",
    responses=error_responses(401, 503),
)
def me(shadan: ShadanDep, principal: PrincipalDep) -> MeResponse:
    return MeResponse.of(principal, shadan.vault.purposes_for(principal))


@router.get(
    "/access-history",
    response_model=AccessHistoryResponse,
    summary="自分のアクセス履歴",
    description="このアカウントのアクセスイベントを新しい順に返します（時刻はUTC）。",
    response_description="アクセス履歴",
    responses=error_responses(401, 422, 503),
)
def access_history(
    shadan: ShadanDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500, description="件数（新しい順）")] = 100,
) -> AccessHistoryResponse:
    events = shadan.vault.history(principal, limit)
    return AccessHistoryResponse(events=[AccessEventOut.of(e) for e in events])
