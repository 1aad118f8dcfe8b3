"""Error handling for the whole app: JSON under /api/, a Japanese page everywhere else."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from shadan.api import errors as api_errors
from shadan.domain.errors import DomainError
from shadan.web.session import LoginRequired
from shadan.web.templating import render

_TITLES: dict[int, str] = {
    400: "リクエストを処理できません",
    401: "ログインが必要です",
    403: "閲覧できません",
    404: "見つかりません",
    405: "この操作はできません",
    422: "入力内容を確認してください",
    503: "ただいま処理できません",
}
_HTTP_MESSAGES: dict[int, str] = {
    404: "指定されたページは存在しません。",
    405: "このページではその操作はできません。",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(request: Request, status: int, message: str) -> Response:
    return render(
        "error.html",
        status,
        title=_TITLES.get(status, "エラー"),
        message=message,
        session=getattr(request.state, "page_session", None),
    )


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    if _is_api(request):
        return api_errors.domain_error_response(exc)
    return error_page(request, api_errors.status_of(exc), exc.message)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    if _is_api(request):
        return api_errors.validation_error_response(exc)
    return error_page(request, api_errors.validation_status(exc), api_errors.describe_validation_error(exc))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if _is_api(request):
        return api_errors.http_error_response(exc)
    message = _HTTP_MESSAGES.get(exc.status_code, "リクエストを処理できません。")
    return error_page(request, exc.status_code, message)


async def on_login_required(request: Request, exc: Exception) -> Response:
    # The cookie is left alone: it may be a session half-way through TOTP, and a stale one is harmless
    # (the next login replaces it with a fresh token).
    return RedirectResponse("/login", status_code=303)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(LoginRequired, on_login_required)
