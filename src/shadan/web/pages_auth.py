"""/login, /login/mfa and /logout: the browser's way through AuthService (the same calls as the API)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from shadan.api.container import Container
from shadan.api.deps import ShadanDep, TerminalDep, client_ip
from shadan.api.schemas import PRINTABLE
from shadan.domain.errors import AuthenticationFailed
from shadan.services.credentials import normalise_code
from shadan.web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    clear_login_csrf_cookie,
    clear_session_cookie,
    cookie_name,
    issue_login_csrf,
    login_csrf_valid,
    set_login_csrf_cookie,
    set_session_cookie,
)
from shadan.web.session import session_token
from shadan.web.templating import render

router = APIRouter(include_in_schema=False)

FORM_EXPIRED = "画面の有効期限が切れたか、不正な送信です。もう一度入力してください。"
LOGIN_MISSING = "アカウントIDとパスワードを入力してください。"
CODE_FORMAT = "確認コード（6桁の数字）を入力してください。"
_CODE = re.compile(r"[0-9]{6,8}")

AccountField = Annotated[str, Form(max_length=64, pattern=PRINTABLE)]
PasswordField = Annotated[str, Form(max_length=1024)]
CsrfField = Annotated[str, Form(alias=CSRF_FIELD, max_length=256)]


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def _login_form(shadan: Container, status: int = 200, error: str = "", account_id: str = "") -> Response:
    # A new double-submit token with every rendering, so an old page cannot be replayed.
    token = issue_login_csrf(shadan.settings)
    response = render("login.html", status, csrf=token, error=error, account_id=account_id)
    set_login_csrf_cookie(response, shadan.settings, token)
    return response


def _mfa_form(shadan: Container, token: str, status: int = 200, error: str = "") -> Response:
    return render("mfa.html", status, csrf=shadan.auth.csrf_token(token), error=error)


@router.get("/login")
def login_page(shadan: ShadanDep) -> Response:
    return _login_form(shadan)


@router.post("/login")
def login_submit(
    request: Request,
    shadan: ShadanDep,
    terminal: TerminalDep,
    account_id: AccountField = "",
    password: PasswordField = "",
    csrf_token: CsrfField = "",
) -> Response:
    settings = shadan.settings
    if not login_csrf_valid(
        settings, request.cookies.get(cookie_name(LOGIN_CSRF_COOKIE, settings)), csrf_token
    ):
        return _login_form(shadan, 403, FORM_EXPIRED)
    if not account_id.strip() or not password:
        return _login_form(shadan, 422, LOGIN_MISSING, account_id)
    # Session fixation: whatever session the browser arrived with is ended, and only the token issued
    # by this login is ever set.
    previous = session_token(request, shadan)
    if previous is not None:
        shadan.auth.logout(previous, client_ip(request))
    try:
        result = shadan.auth.login(account_id.strip(), password, client_ip(request), terminal)
    except AuthenticationFailed as exc:
        return _login_form(shadan, 401, exc.message, account_id)
    response = _redirect("/login/mfa" if result.mfa_required else "/")
    set_session_cookie(response, settings, result.session_token)
    clear_login_csrf_cookie(response, settings)
    return response


@router.get("/login/mfa")
def mfa_page(request: Request, shadan: ShadanDep) -> Response:
    token = session_token(request, shadan)
    if token is None:
        return _redirect("/login")
    return _mfa_form(shadan, token)


@router.post("/login/mfa")
def mfa_submit(
    request: Request,
    shadan: ShadanDep,
    code: Annotated[str, Form(max_length=32)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    token = session_token(request, shadan)
    if token is None:
        return _redirect("/login")
    if not shadan.auth.check_csrf(token, csrf_token):
        return _mfa_form(shadan, token, 403, FORM_EXPIRED)
    normalised = normalise_code(code)
    if not _CODE.fullmatch(normalised):
        return _mfa_form(shadan, token, 422, CODE_FORMAT)
    try:
        shadan.auth.verify_mfa(token, normalised, client_ip(request))
    except AuthenticationFailed as exc:
        return _mfa_form(shadan, token, 401, exc.message)
    return _redirect("/")


@router.post("/logout")
def logout(request: Request, shadan: ShadanDep, csrf_token: CsrfField = "") -> Response:
    token = session_token(request, shadan)
    if token is None:
        return _redirect("/login")
    if not shadan.auth.check_csrf(token, csrf_token):
        return render("error.html", 403, title="ログアウトできません", message=FORM_EXPIRED, session=None)
    shadan.auth.logout(token, client_ip(request))
    response = _redirect("/login")
    clear_session_cookie(response, shadan.settings)
    return response
