"""The ASGI application: JSON API under /api/v1, the Japanese pages, /docs and /static."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shadan.api.container import Container
from shadan.api.routes import api_router
from shadan.web import (
    api_docs,
    errors,
    pages,
    pages_audit,
    pages_auth,
    pages_switching,
    pages_switching_stats,
)
from shadan.web.security import SecurityHeadersMiddleware
from shadan.web.templating import STATIC

TITLE = "shadan 情報遮断 API"
DESCRIPTION = (
    "一般送配電事業者の非公開情報（新電力顧客情報ほか）への照会API。"
    "すべての要求は利用者・日時・端末・利用目的とともにアクセスログに記録され、"
    "ログを記録できないときはデータを返しません（503）。"
)


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # What exists at start-up (policies, the container, the routes) lives as long as the server. Frozen,
    # it is no longer walked by every full garbage collection: those walks were the ~90 ms worst-case
    # pauses of a read under load. (No gc.collect() first: it costs ~50 ms per start, paid by every test
    # client.) Unfrozen at shutdown, so a process that runs many apps (the tests) keeps collecting.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(shadan: Container) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title=TITLE,
        description=DESCRIPTION,
        version="1",
        # The stock Swagger UI needs a CDN and inline script; /docs is rendered by api_docs instead.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.shadan = shadan
    app.include_router(api_router)
    app.include_router(pages_auth.router)
    app.include_router(pages.router)
    app.include_router(pages_audit.router)
    app.include_router(pages_switching_stats.router)
    app.include_router(pages_switching.router)
    app.include_router(api_docs.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    app.add_middleware(SecurityHeadersMiddleware, hsts=shadan.settings.secure_cookies)
    return app
