"""The versioned JSON API: every router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from shadan.api import audit, me, session, supply_points, switching, switching_stats

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(session.router)
api_router.include_router(me.router)
api_router.include_router(supply_points.router)
api_router.include_router(audit.router)
api_router.include_router(switching_stats.router)
api_router.include_router(switching.router)
