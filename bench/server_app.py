"""The app for `uvicorn --workers N` in the HTTP benchmark: each worker process builds its own container."""

from __future__ import annotations

from fastapi import FastAPI

from shadan.bootstrap import build
from shadan.web.app import create_app


def app_factory() -> FastAPI:
    return create_app(build())
