"""Cookies, CSRF tokens and response headers of the browser-facing side.

Choices (docs/web.md): the session cookie is HttpOnly + SameSite=Strict, Secure per settings and then
`__Host-` prefixed (no Domain, Path=/, so a sibling host cannot plant it); it holds the same opaque
session token as the API's bearer token, and a fresh one is issued at every login. Forms carry a CSRF
token bound to the session (AuthService.csrf_token); before login, a signed double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shadan.config import Settings

SESSION_COOKIE = "shadan_session"
LOGIN_CSRF_COOKIE = "shadan_login_csrf"
LOGIN_CSRF_MAX_AGE = 3600
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
_COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
STATIC_PREFIX = "/static/"


def cookie_name(base: str, settings: Settings) -> str:
    # Browsers accept a __Host- cookie only with Secure, so plain-HTTP test and demo servers drop the prefix.
    return f"__Host-{base}" if settings.secure_cookies else base


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    # No Max-Age: the browser forgets it when closed; the server enforces idle and absolute timeouts.
    response.set_cookie(
        cookie_name(SESSION_COOKIE, settings),
        token,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(SESSION_COOKIE, settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def issue_login_csrf(settings: Settings) -> str:
    """A random nonce signed with the secret key: a cookie planted by someone else does not verify."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(settings, nonce)}"


def login_csrf_valid(settings: Settings, cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(settings, nonce))


def set_login_csrf_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        cookie_name(LOGIN_CSRF_COOKIE, settings),
        token,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def clear_login_csrf_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(LOGIN_CSRF_COOKIE, settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def _sign(settings: Settings, nonce: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"login-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, and stops an unexpected error at a bare 500.

    Pure ASGI (not BaseHTTPMiddleware) so streaming and background tasks are untouched. Customer data
    must not stay in any cache: everything but the static assets is `no-store`.
    """

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self._app = app
        self._hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(STATIC_PREFIX)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._merge(list(message.get("headers", [])), static)
            await send(message)

        try:
            await self._app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            await self._internal_error(scope, send_with_headers)
            raise  # still reaches the server's error log

    def _merge(self, headers: list[tuple[bytes, bytes]], static: bool) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in headers}
        extra = [h for h in _COMMON_HEADERS if h[0] not in names]
        extra.append((b"cache-control", b"no-cache" if static else b"no-store"))
        if self._hsts:
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        kept = [h for h in headers if h[0].lower() != b"cache-control"]
        return kept + extra

    @staticmethod
    async def _internal_error(scope: Scope, send: Send) -> None:
        path = str(scope.get("path", ""))
        if path.startswith("/api/"):
            body = '{"error":"internal_error","message":"処理中にエラーが発生しました。"}'.encode()
            content_type = b"application/json"
        else:
            body = "<!doctype html><title>エラー</title><p>処理中にエラーが発生しました。</p>".encode()
            content_type = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
