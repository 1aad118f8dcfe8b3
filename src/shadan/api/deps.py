"""Request-scoped dependencies shared by the JSON routes and the pages.

The API authenticates only with `Authorization: Bearer <session token>`; it never honours the page
cookie, so a cross-site request cannot ride on a browser's ambient credentials (no CSRF on the API).

Dependencies that do not block are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, and each such hop (hand-off, wake-up, GIL) costs more than the dependency itself. The blocking
work of a request — the session check and the service call, both on the database — runs in one worker
thread through `as_principal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar, cast

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from shadan.api.container import Container
from shadan.api.errors import AUTHENTICATION_REQUIRED
from shadan.api.schemas import PRINTABLE
from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AuthenticationFailed

PURPOSE_MAX = 64
TERMINAL_MAX = 128
# Worker threads that may run reads at once. A read is short Python work between SQLite calls, each of
# which releases the GIL: with more threads they mostly hand the GIL around, and the slowest request
# waits longest. Beyond this many, reads queue in order on the event loop. Eight keep the access log's
# group commit fed while a batch is in fsync; logins (Argon2) keep the default thread pool.
READ_THREADS = 8
_read_limiter: RunVar[CapacityLimiter] = RunVar("shadan_read_limiter")

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="SessionToken",
    description="POST /api/v1/session で得たセッショントークン（Authorization: Bearer …）",
)


T = TypeVar("T")


def container(request: Request) -> Container:
    return cast(Container, request.app.state.shadan)


async def get_shadan(request: Request) -> Container:
    return container(request)


ShadanDep = Annotated[Container, Depends(get_shadan)]


def client_ip(request: Request) -> str:
    # The connection's peer; behind a proxy, uvicorn's proxy_headers/forwarded_allow_ips decide what
    # this is (see docs/web.md), never a header the client could set.
    return request.client.host if request.client else ""


TerminalHeader = Annotated[
    str,
    Header(
        max_length=TERMINAL_MAX,
        pattern=PRINTABLE,
        description="端末ID（登録端末またはその前段のプロキシが付与）",
    ),
]


async def terminal_id(x_shadan_terminal: TerminalHeader = "") -> str:
    return x_shadan_terminal.strip()


TerminalDep = Annotated[str, Depends(terminal_id)]


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        raise AuthenticationFailed(AUTHENTICATION_REQUIRED)
    return credentials.credentials


BearerDep = Annotated[str, Depends(bearer_token)]


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's credentials before they are checked: the bearer token and the peer's address."""

    token: str
    source_ip: str


async def caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)], request: Request
) -> Caller:
    # Reads the scheme itself rather than through BearerDep: every dependency in the tree costs
    # FastAPI some 15 µs per request, and this one is on every read.
    if credentials is None:
        raise AuthenticationFailed(AUTHENTICATION_REQUIRED)
    return Caller(credentials.credentials, client_ip(request))


CallerDep = Annotated[Caller, Depends(caller)]


async def as_principal(shadan: Container, who: Caller, work: Callable[[Principal], T]) -> T:
    """Check the session and do `work` as its principal in one worker-thread hop.

    A refused session raises AuthenticationFailed (401) before `work` runs, as with PrincipalDep; only
    the order against FastAPI's own parameter checks differs: a request that is malformed and carries a
    dead token gets 422 rather than 401 (a missing token is still 401 first). Neither answer holds data.
    """

    def run() -> T:
        return work(shadan.auth.authenticate(who.token, who.source_ip))

    return await anyio.to_thread.run_sync(run, limiter=_reads())


def _reads() -> CapacityLimiter:
    """The read limiter of the running event loop (an anyio RunVar: each loop, e.g. each test client,
    gets its own)."""
    try:
        return _read_limiter.get()
    except LookupError:
        limiter = CapacityLimiter(READ_THREADS)
        _read_limiter.set(limiter)
        return limiter


async def current_principal(shadan: ShadanDep, who: CallerDep) -> Principal:
    return await run_in_threadpool(shadan.auth.authenticate, who.token, who.source_ip)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def request_context(
    request: Request,
    x_shadan_terminal: TerminalHeader = "",
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
        now=container(request).clock(),
        purpose=purpose.strip() if purpose else None,
        terminal_id=x_shadan_terminal.strip(),
        source_ip=client_ip(request),
    )


ContextDep = Annotated[RequestContext, Depends(request_context)]


async def role_context(request: Request, terminal: TerminalDep) -> RequestContext:
    """The server's clock and where the request came from, with no stated purpose: for routes whose
    purpose is the role's own (監査, スイッチング処理); a `purpose` in their queries is a filter, if any."""
    return RequestContext(now=container(request).clock(), terminal_id=terminal, source_ip=client_ip(request))


RoleContextDep = Annotated[RequestContext, Depends(role_context)]
