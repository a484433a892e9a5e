"""`harborgraph serve`: databases up, migrated, demo seeded when empty, then uvicorn."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

import uvicorn

from graph.app import create_app
from graph.database import close_pools, open_pools
from graph.demo import DEMO_KINDS, GRANTS, mint_dev_token
from graph.documents import documents_for
from graph.http import MAX_BODY_BYTES
from graph.keys import ensure_dev_keys
from graph.metrics import clear
from graph.runtime import databases, migrate_all, seed_all, settle_collector, today
from graph.settings import Settings
from graph.telemetry import metrics_directory
from resolvers.community import first_organization_of_kind

log = logging.getLogger("harborgraph")

# Ports hold thousands of sockets open: uvicorn's sans-I/O websockets protocol, without
# permessage-deflate (its zlib state per socket was most of an idle socket's memory:
# 127 KB a socket with uvicorn's defaults, 21 KB so, measured on a bare ASGI app). A message
# is capped as an HTTP body is.
WEBSOCKETS: dict[str, Any] = {
    "ws": "graph.protocols:WebSocketProtocol",  # uvicorn's sans-I/O one, closing with 1001
    "ws_per_message_deflate": False,
    "ws_max_size": MAX_BODY_BYTES,
}


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's settings for either way of serving (one process or several)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # graph.logs: JSON lines, uvicorn's own included
        "access_log": False,  # graph.observation writes one line per request
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "http": "graph.protocols:HttpProtocol",  # uvicorn's httptools one, draining on shutdown
        **WEBSOCKETS,
    }


async def _demo_tokens(settings: Settings, dsns: Mapping[str, str]) -> list[str]:
    pools = await open_pools(dsns, settings)
    try:
        lines = []
        for kind in DEMO_KINDS:
            org = await first_organization_of_kind(pools["community"], kind)
            if org is None:
                continue
            scopes = [s.value for s in GRANTS[kind]]
            token = mint_dev_token(settings, org=org.code, scopes=scopes, ttl=8 * 3600)
            lines.append(f"# {kind.value} {org.code} ({org.name}): {' '.join(scopes)}\n{token}")
        return lines
    finally:
        await close_pools(pools)


def _prepare(settings: Settings, dsns: Mapping[str, str]) -> None:
    applied = asyncio.run(migrate_all(dsns, skip_away=True))  # a source's own may be away
    log.info("migrations applied: %s", len(applied))
    if not settings.development:
        return  # production data comes from the partners, never from the demo generator
    report = asyncio.run(
        seed_all(dsns, settings, scale=1.0, seed_value=42, anchor=today(), only_if_empty=True)
    )
    if report is not None:
        log.info("seeded the demo in %.1f s: %s rows", report.seconds, sum(report.counts.values()))


def serve(settings: Settings, *, print_tokens: bool, workers: int = 1) -> int:
    documents_for(settings)  # a bad trusted-documents file stops start-up before any worker
    directory = metrics_directory(settings)
    if directory is not None and directory.is_dir():
        clear(directory)  # the workers start counting from nothing
    with databases(settings) as dbs:
        _prepare(settings, dbs.dsns)
        if print_tokens and settings.development:
            print("\nDemo partner tokens (Authorization: Bearer <token>):\n")
            print("\n\n".join(asyncio.run(_demo_tokens(settings, dbs.dsns))), flush=True)
        if workers > 1:
            _serve_workers(settings, dbs.dsns, workers)
            return 0
        app = create_app(settings, dbs.dsns)
        settle_collector()
        uvicorn.run(app, **server_options(settings))
    return 0


def _serve_workers(settings: Settings, dsns: Mapping[str, str], workers: int) -> None:
    """Several processes on one port (uvicorn's supervisor), each built by graph.asgi from
    the environment: the embedded server's URL is handed down through it."""
    if settings.database_url is None:
        os.environ["HARBORGRAPH_DATABASE_URL"] = dsns["community"]
    if settings.development:
        ensure_dev_keys(settings.data_dir)  # made once here, not raced by the workers
    uvicorn.run("graph.asgi:app", factory=True, workers=workers, **server_options(settings))
