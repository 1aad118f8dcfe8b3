"""Load generators for the HTTP benchmark: httpx, and a minimal HTTP/1.1 keep-alive client.

Client and server share the machine, so the client's own CPU time per request is taken from the server.
httpx costs over a millisecond of CPU per request here, so the default generator is a bare asyncio
client (one kept-alive connection per worker, pre-built request bytes, Content-Length framing): it
measures the server, and reports its own CPU cost per request beside the figures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import urlsplit

import httpx

from common import Latency, latency


class Reader(Protocol):
    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def get(self, path: str) -> int:
        """GET `path` (with query), return the status code after the whole body is read."""
        ...


class RawReader:
    """One kept-alive connection; the server must answer with Content-Length (uvicorn does for JSON)."""

    def __init__(self, base: str, token: str) -> None:
        url = urlsplit(base)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._headers = f"Host: {url.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n".encode("ascii")

    async def __aenter__(self) -> Self:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._writer.close()

    async def get(self, path: str) -> int:
        self._writer.write(f"GET {path} HTTP/1.1\r\n".encode("ascii") + self._headers)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self._reader.readexactly(length)
        return status


class HttpxReader:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def get(self, path: str) -> int:
        return (await self._client.get(path)).status_code


async def run_load(
    base: str, token: str, paths: Iterator[str], concurrency: int, limit_s: float, raw: bool
) -> Latency:
    """Requests from `paths` (shared by all workers) until exhausted or `limit_s` has passed."""
    if raw:
        return await _run([RawReader(base, token) for _ in range(concurrency)], paths, limit_s)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        return await _run([HttpxReader(client) for _ in range(concurrency)], paths, limit_s)


async def _run(readers: list[Reader], paths: Iterator[str], limit_s: float) -> Latency:
    samples: list[float] = []
    errors: list[int] = []
    deadline = time.perf_counter() + limit_s

    async def worker(reader: Reader) -> None:
        async with reader:
            for path in paths:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                status = await reader.get(path)
                samples.append(time.perf_counter() - t0)
                if status != 200:
                    errors.append(status)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(r) for r in readers))
    elapsed, client_cpu = time.perf_counter() - started, time.process_time() - cpu
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(samples)} reads failed, e.g. HTTP {errors[0]}")
    return latency(samples, elapsed, client_cpu_ms=1000 * client_cpu / max(len(samples), 1))
