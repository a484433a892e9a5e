"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from graph.database import RolePool
from graph.state import AppState
from resolvers.migrate import MigrationError, pending
from resolvers.sources import DATABASE_UNAVAILABLE, Pool

# What a database out of reach raises (a connection it dropped too): reported by source and
# role, never as a 500.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    MigrationError,
    *DATABASE_UNAVAILABLE,
)
PROBE_SECONDS = 5


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _servers(state: AppState) -> list[tuple[Pool, list[RolePool]]]:
    """Each distinct pool (primary or replica) with the sources and role it serves."""
    grouped: dict[int, tuple[Pool, list[RolePool]]] = {}
    for labelled in state.role_pools():
        grouped.setdefault(id(labelled.pool), (labelled.pool, []))[1].append(labelled)
    return list(grouped.values())


async def _pending(pool: Pool, sources: list[str]) -> list[str]:
    """Migrations the server lacks: a replica that has not replayed them yet lacks them too."""
    async with pool.acquire() as conn:
        return await pending(conn, sources)


async def _probe(pool: Pool, sources: list[str]) -> list[str] | BaseException:
    try:
        return await asyncio.wait_for(_pending(pool, sources), timeout=PROBE_SECONDS)
    except UNREACHABLE as error:
        return error


def _down(
    servers: list[tuple[Pool, list[RolePool]]], outcomes: list[list[str] | BaseException]
) -> list[dict[str, Any]]:
    """The sources and roles of the servers that did not answer."""
    return [
        {"source": x.source, "role": x.role}
        for (_pool, labels), outcome in zip(servers, outcomes, strict=True)
        if isinstance(outcome, BaseException)
        for x in labels
    ]


async def readyz(request: Request) -> JSONResponse:
    """Ready when every database, primary and replica, answers and its migrations are current."""
    state: AppState = request.app.state.harborgraph
    servers = _servers(state)
    outcomes = await asyncio.gather(*(_probe(p, [x.source for x in xs]) for p, xs in servers))
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if errors:
        reason = type(errors[0]).__name__
        body = {"status": "unavailable", "reason": reason, "down": _down(servers, outcomes)}
        return JSONResponse(body, status_code=503)
    missing = [m for outcome in outcomes if not isinstance(outcome, BaseException) for m in outcome]
    if missing:
        body = {"status": "migrations pending", "pending": list(dict.fromkeys(missing))}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready"})
