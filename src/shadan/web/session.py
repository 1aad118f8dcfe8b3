"""The page side's view of a login session: read from the cookie, checked on every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from shadan.api.container import Container
from shadan.api.deps import ShadanDep, client_ip
from shadan.domain.access import Principal
from shadan.domain.errors import AuthenticationFailed
from shadan.services.audit_review import AuditAccess
from shadan.web.menu import MenuItem, menu_for
from shadan.web.security import SESSION_COOKIE, cookie_name


class LoginRequired(Exception):
    """No usable session cookie: the browser is sent to the login page."""


@dataclass(frozen=True, slots=True)
class PageSession:
    token: str
    principal: Principal
    csrf: str
    menu: tuple[MenuItem, ...]  # the header's links for this principal's roles
    reviews_log: bool  # internal audit: the home page points to the access-log search


def session_token(request: Request, shadan: Container) -> str | None:
    return request.cookies.get(cookie_name(SESSION_COOKIE, shadan.settings)) or None


def page_session(request: Request, shadan: ShadanDep) -> PageSession:
    """Authenticate the cookie exactly as the API authenticates a bearer token (same service call)."""
    token = session_token(request, shadan)
    if token is None:
        raise LoginRequired
    try:
        principal = shadan.auth.authenticate(token, client_ip(request))
    except AuthenticationFailed:
        raise LoginRequired from None
    session = PageSession(
        token=token,
        principal=principal,
        csrf=shadan.auth.csrf_token(token),
        menu=menu_for(shadan.catalog, principal),
        reviews_log=AuditAccess.of(shadan.catalog, principal) is AuditAccess.REVIEW,
    )
    # Error pages rendered later in this request still show who is logged in (and the logout form).
    request.state.page_session = session
    return session


SessionDep = Annotated[PageSession, Depends(page_session)]
