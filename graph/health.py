"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from graph.state import AppState
from resolvers.migrate import MigrationError, pending


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _pending(state: AppState) -> list[str]:
    missing: list[str] = []
    for pool, sources in state.pools.by_database():
        async with pool.acquire() as conn:
            missing += await pending(conn, sources)
    return missing


async def readyz(request: Request) -> JSONResponse:
    """Ready when every database answers and its migrations are current."""
    state: AppState = request.app.state.harborgraph
    try:
        missing = await asyncio.wait_for(_pending(state), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, MigrationError) as error:
        detail = type(error).__name__
        return JSONResponse({"status": "unavailable", "reason": detail}, status_code=503)
    if missing:
        return JSONResponse({"status": "migrations pending", "pending": missing}, status_code=503)
    return JSONResponse({"status": "ready"})
