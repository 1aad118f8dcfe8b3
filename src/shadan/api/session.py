"""POST/DELETE /api/v1/session and POST /api/v1/session/mfa: bearer-token sessions for API clients."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from shadan.api.deps import BearerDep, ShadanDep, TerminalDep, client_ip
from shadan.api.errors import error_responses
from shadan.api.schemas import LoginRequest, LoginResponse, MfaRequest
from shadan.services.credentials import normalise_code

router = APIRouter(prefix="/session", tags=["セッション"])


@router.post(
    "",
    status_code=201,
    response_model=LoginResponse,
    summary="ログイン（セッション開始）",
    description=(
        "ログインのたびに新しいトークンを発行します。失敗の理由（IDなし・パスワード誤り・ロック等）は"
        "区別せず同じ401を返し、理由はアクセスログにのみ記録します。"
    ),
    response_description="セッションを開始しました",
    responses=error_responses(400, 401, 422, 503),
)
def login(body: LoginRequest, shadan: ShadanDep, request: Request, terminal: TerminalDep) -> LoginResponse:
    result = shadan.auth.login(body.account_id, body.password, client_ip(request), terminal)
    return LoginResponse(session_token=result.session_token, mfa_required=result.mfa_required)


@router.post(
    "/mfa",
    status_code=204,
    summary="二要素認証（TOTP確認コード）",
    description="非公開情報を閲覧できる役割では、確認コードを送るまでトークンは使えません。全角数字も可。",
    response_description="確認コードを確認しました",
    responses=error_responses(400, 401, 422, 503),
)
def verify_mfa(body: MfaRequest, shadan: ShadanDep, token: BearerDep, request: Request) -> Response:
    shadan.auth.verify_mfa(token, normalise_code(body.code), client_ip(request))
    return Response(status_code=204)


@router.delete(
    "",
    status_code=204,
    summary="ログアウト",
    description="セッションを終了します。終了済み・不明なトークンでも同じ204を返します（冪等）。",
    response_description="セッションを終了しました",
    responses=error_responses(401, 503),
)
def logout(shadan: ShadanDep, token: BearerDep, request: Request) -> Response:
    shadan.auth.logout(token, client_ip(request))
    return Response(status_code=204)
