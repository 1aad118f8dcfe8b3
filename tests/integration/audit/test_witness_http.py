"""The witness's HTTP app against hostile clients: an oversized body is refused without being read,
malformed bodies are plain 400s that echo nothing, a replay changes nothing, and every answer carries the
security headers (a refusal quotes the request's origin line, which the client chose)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from audit_support import Clock
from fastapi.testclient import TestClient

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.keys import FileKeyStore
from shadan.audit.merkle import EMPTY_ROOT, leaf_hash
from shadan.bootstrap import build_witness
from shadan.services.witness import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    Refusal,
    WitnessRefused,
    WitnessService,
)
from shadan.web.witness_app import create_witness_app

CHUNK = 16 * 1024


@pytest.fixture
def witness(tmp_path: Path, keys: FileKeyStore, clock: Clock) -> WitnessService:
    witness = build_witness(tmp_path / "witness", clock)
    witness.init("witness.example.jp/egc")
    witness.trust(keys.signer().verifier.text())
    return witness


@pytest.fixture
def app(witness: WitnessService) -> Any:
    return create_witness_app(witness)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def one_leaf_request(keys: FileKeyStore, leaf: bytes = b"event") -> bytes:
    """From the empty tree (whose consistency proof is empty) to a tree of one leaf."""
    signer = keys.signer()
    checkpoint = sign_checkpoint(Checkpoint(signer.name, 1, leaf_hash(leaf)), [signer]).render()
    return f"old 0\n\n{checkpoint}".encode()


def post_streamed(app: Any, declared: int | None) -> tuple[int, int]:
    """POST an endless body straight through ASGI: (status, how many chunks the app pulled)."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/add-checkpoint",
        "raw_path": b"/add-checkpoint",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("witness.test", 80),
    }
    # A loop of its own in a thread of its own: the browser tests keep a loop running in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(lambda: asyncio.run(app(scope, receive, send))).result()
    return status, pulled


def test_a_body_declared_too_large_is_refused_before_any_of_it_is_read(app: Any) -> None:
    assert post_streamed(app, declared=10**12) == (413, 0)


def test_an_undeclared_endless_body_is_cut_at_the_limit(app: Any) -> None:
    status, pulled = post_streamed(app, declared=None)
    assert status == 413
    assert pulled * CHUNK <= MAX_REQUEST_BYTES + CHUNK


@pytest.mark.parametrize(
    "body",
    [
        b"old 0\n\n\xff\xfe not utf-8\n",
        b"old 0\x00\n\nx\n",
        b"old 0\n" + b"A" * (MAX_REQUEST_BYTES - 100) + b"\n\nx\n",
        b"old 0\n" + (base64.b64encode(b"\x00" * 32) + b"\n") * (MAX_PROOF_LINES + 1) + b"\nx\n",
        b"old -1\n\nx\n",
        b"old 99999999999999999999\n\nx\n",
        b"",
    ],
    ids=["not-utf8", "nul", "long-line", "too-many-proof-lines", "negative", "huge-size", "empty"],
)
def test_malformed_bodies_are_a_plain_400(client: TestClient, body: bytes) -> None:
    response = client.post("/add-checkpoint", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert len(response.content) < 1024
    assert "Traceback" not in response.text


def test_a_replayed_request_changes_nothing(client: TestClient, keys: FileKeyStore) -> None:
    body = one_leaf_request(keys)
    assert client.post("/add-checkpoint", content=body).status_code == 200
    replay = client.post("/add-checkpoint", content=body)
    assert replay.status_code == 409
    assert replay.headers["content-type"] == SIZE_CONTENT_TYPE
    assert replay.content == b"1\n"


def test_of_two_racing_heads_of_one_size_exactly_one_is_cosigned(
    witness: WitnessService, keys: FileKeyStore
) -> None:
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def submit(leaf: bytes) -> None:
        start.wait()
        try:
            witness.add_checkpoint(one_leaf_request(keys, leaf))
            outcomes.append("cosigned")
        except WitnessRefused as refused:
            outcomes.append(refused.refusal.value)

    threads = [threading.Thread(target=submit, args=(f"fork-{i}".encode(),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8
    assert outcomes.count("cosigned") == 1
    assert set(outcomes) - {"cosigned"} <= {Refusal.STALE.value, Refusal.SPLIT_VIEW.value}


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    root = base64.b64encode(EMPTY_ROOT)
    hostile = b"old 0\n\n<script>alert(1)</script>\n0\n" + root + b"\n\n\xe2\x80\x94 x y\n"
    for response in (client.get("/"), client.post("/add-checkpoint", content=hostile)):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
