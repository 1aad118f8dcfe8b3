"""The witness's HTTP interface (c2sp.org/tlog-witness): POST /add-checkpoint, and GET / for health.

Status codes are the spec's: 200 with the cosignature lines; 400 malformed (or older than what was
cosigned); 403 no trusted log signature; 404 unknown log; 409 with `text/x.tlog.size` when the old size is
not the witness's; 409 for a split view; 422 when the consistency proof fails. Split views are also
written to the server's log, so the operator sees them as they happen. Answers carry the pages' security
headers: a refusal quotes the checkpoint's origin line, text the client chose.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from shadan.services.witness import (
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    Refusal,
    WitnessRefused,
    WitnessService,
    size_body,
)
from shadan.web.security import SecurityHeadersMiddleware

logger = logging.getLogger("shadan.witness")
TEXT = "text/plain; charset=utf-8"


def create_witness_app(witness: WitnessService) -> FastAPI:
    app = FastAPI(title="shadan witness", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeadersMiddleware, hsts=False)  # HSTS belongs to the TLS proxy in front

    @app.get("/")
    def health() -> JSONResponse:
        status = witness.status()
        keys = {"verifier_key": status.verifier_key, "verifier_keys": list(status.verifier_keys)}
        return JSONResponse({"status": "ok", **keys, "logs": status.logs})

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse("request body too large\n", status_code=413, media_type=TEXT)
        try:
            cosigned = await run_in_threadpool(witness.add_checkpoint, body)
        except WitnessRefused as exc:
            return _refusal(exc)
        return Response(cosigned.signature_lines.encode(), media_type=TEXT)

    return app


async def _read_body(request: Request) -> bytes | None:
    """The body, or None past the limit: a larger declared length is refused unread, and the rest is read
    in chunks, so a huge upload is never held in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(exc: WitnessRefused) -> Response:
    status = exc.refusal.http_status
    if exc.refusal is Refusal.STALE and exc.witness_size is not None:
        # Set as a header, not a media type: Starlette would add a charset to the spec's exact value.
        headers = {"Content-Type": SIZE_CONTENT_TYPE}
        return Response(size_body(exc.witness_size), status_code=status, headers=headers)
    if exc.split_view is not None:
        logger.warning(
            "split view: log %s, size %d — witnessed:\n%s presented:\n%s",
            exc.split_view.origin,
            exc.split_view.tree_size,
            exc.split_view.witnessed_note,
            exc.split_view.presented_note,
        )
    ja, en = exc.refusal.titles
    return PlainTextResponse(f"{en} / {ja}\n{exc.message}\n", status_code=status, media_type=TEXT)
