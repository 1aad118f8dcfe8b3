"""Request-scoped dependencies shared by the JSON routes and the pages.

The API authenticates only with `Authorization: Bearer <session token>`; it never honours the page
cookie, so a cross-site request cannot ride on a browser's ambient credentials (no CSRF on the API).
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shadan.api.container import Container
from shadan.api.errors import AUTHENTICATION_REQUIRED
from shadan.api.schemas import PRINTABLE
from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AuthenticationFailed

PURPOSE_MAX = 64
TERMINAL_MAX = 128

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="SessionToken",
    description="POST /api/v1/session で得たセッショントークン（Authorization: Bearer …）",
)


def get_shadan(request: Request) -> Container:
    return cast(Container, request.app.state.shadan)


ShadanDep = Annotated[Container, Depends(get_shadan)]


def client_ip(request: Request) -> str:
    # The connection's peer; behind a proxy, uvicorn's proxy_headers/forwarded_allow_ips decide what
    # this is (see docs/web.md), never a header the client could set.
    return request.client.host if request.client else ""


def terminal_id(
    x_shadan_terminal: Annotated[
        str,
        Header(
            max_length=TERMINAL_MAX,
            pattern=PRINTABLE,
            description="端末ID（登録端末またはその前段のプロキシが付与）",
        ),
    ] = "",
) -> str:
    return x_shadan_terminal.strip()


TerminalDep = Annotated[str, Depends(terminal_id)]


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise AuthenticationFailed(AUTHENTICATION_REQUIRED)
    return credentials.credentials


BearerDep = Annotated[str, Depends(bearer_token)]


def current_principal(shadan: ShadanDep, token: BearerDep, request: Request) -> Principal:
    return shadan.auth.authenticate(token, client_ip(request))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def request_context(
    shadan: ShadanDep,
    request: Request,
    terminal: TerminalDep,
    purpose: Annotated[
        str | None,
        Query(
            max_length=PURPOSE_MAX,
            pattern=PRINTABLE,
            description="利用目的（GET /api/v1/me の purposes のいずれか）。非公開情報の閲覧に必須。",
        ),
    ] = None,
) -> RequestContext:
    """The server's clock, never the client's; the purpose as stated; where the request came from."""
    return RequestContext(
        now=shadan.clock(),
        purpose=purpose.strip() if purpose else None,
        terminal_id=terminal,
        source_ip=client_ip(request),
    )


ContextDep = Annotated[RequestContext, Depends(request_context)]
