"""Domain errors and bad requests as JSON: {"error": code, "message": Japanese}.

Fail closed: every error carries a stable code and a message, never a stack trace or a value from the
store, and bad input is always a 4xx (a 5xx would tell a fuzzer it found something).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shadan.domain.errors import (
    AccessDenied,
    AuditUnavailable,
    AuthenticationFailed,
    DomainError,
    InvalidInput,
    NotFound,
)

AUTHENTICATION_REQUIRED = "ログインが必要です。セッションが無効か期限切れです。"
INTERNAL_ERROR = "処理中にエラーが発生しました。時間をおいて再度お試しください。"
MALFORMED_JSON = "リクエスト本文をJSONとして読み取れません。"

# Most specific first: AuditUnavailable wins over everything (no log, no data).
_STATUS: Sequence[tuple[type[DomainError], int]] = (
    (AuditUnavailable, 503),
    (AuthenticationFailed, 401),
    (AccessDenied, 403),
    (NotFound, 404),
    (InvalidInput, 422),
)

_HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    404: ("not_found", "指定されたURLは存在しません。"),
    405: ("method_not_allowed", "このURLではそのHTTPメソッドは使えません。"),
    406: ("not_acceptable", "応答形式が受け入れられません。"),
    415: ("unsupported_media_type", "リクエストの形式（Content-Type）に対応していません。"),
}

_FIELD_NAMES: dict[str, str] = {
    "account_id": "アカウントID",
    "password": "パスワード",
    "code": "確認コード",
    "purpose": "利用目的",
    "supply_point_id": "供給地点特定番号",
    "field": "検索項目",
    "q": "検索語",
    "limit": "件数",
    "x-shadan-terminal": "端末ID（X-Shadan-Terminal）",
    "csrf_token": "CSRFトークン",
    "body": "リクエスト本文",
}


class ErrorBody(BaseModel):
    error: str = Field(description="安定したエラーコード（例: invalid_input, access_denied）")
    message: str = Field(description="利用者向けの説明（日本語）")


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error statuses a route can return, all with ErrorBody."""
    descriptions = {
        400: "リクエストの形式が不正です",
        401: "認証されていません",
        403: "権限がないか、利用目的が不適切です",
        404: "見つからないか、閲覧する権限がありません",
        422: "入力値が不正です",
        503: "アクセスログを記録できないため処理を中止しました（データは返しません）",
    }
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}


def status_of(exc: DomainError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error_json(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(ErrorBody(error=code, message=message).model_dump(), status, headers=headers)


def domain_error_response(exc: DomainError) -> JSONResponse:
    return error_json(status_of(exc), exc.code, exc.message)


def validation_status(exc: RequestValidationError) -> int:
    return 400 if any(e.get("type") == "json_invalid" for e in exc.errors()) else 422


def describe_validation_error(exc: RequestValidationError) -> str:
    """One Japanese sentence per offending field, naming it; never echoes the value back."""
    if validation_status(exc) == 400:
        return MALFORMED_JSON
    sentences = []
    for error in exc.errors():
        sentence = _describe(error)
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences) or "入力値が不正です。"


def validation_error_response(exc: RequestValidationError) -> JSONResponse:
    status = validation_status(exc)
    code = "malformed_request" if status == 400 else InvalidInput.code
    return error_json(status, code, describe_validation_error(exc))


def http_error_response(exc: StarletteHTTPException) -> JSONResponse:
    code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "リクエストを処理できません。"))
    response = error_json(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error_response() -> JSONResponse:
    return error_json(500, "internal_error", INTERNAL_ERROR)


_SENTENCES: dict[str, str] = {
    "missing": "{name}は必須です。",
    "string_too_short": "{name}は{min_length}文字以上で入力してください。",
    "string_too_long": "{name}は{max_length}文字以内で入力してください。",
    "string_pattern_mismatch": "{name}に使えない文字が含まれています。",
    "string_type": "{name}は文字列で指定してください。",
    "enum": "{name}は次のいずれかを指定してください: {expected}。",
    "int_parsing": "{name}は整数で指定してください。",
    "int_type": "{name}は整数で指定してください。",
    "greater_than_equal": "{name}は{ge}以上で指定してください。",
    "less_than_equal": "{name}は{le}以下で指定してください。",
    "model_attributes_type": "リクエスト本文はJSONオブジェクトで送ってください。",
    "dict_type": "リクエスト本文はJSONオブジェクトで送ってください。",
    "extra_forbidden": "{name}という項目は受け付けません。",
}


def _describe(error: Any) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    key = location[0] if location else "body"
    values = {str(k): str(v) for k, v in (error.get("ctx") or {}).items()}
    values["name"] = _FIELD_NAMES.get(key.lower(), key)
    template = _SENTENCES.get(str(error.get("type", "")), "{name}の値が不正です。")
    try:
        return template.format(**values)
    except KeyError:
        return "{name}の値が不正です。".format(**values)
