"""`kill -9` of the server in the middle of a 1,000-event batch: after a restart, SQL finds
all of the batch or none of it.

The server is `harborgraph serve` itself, on a copy of the seeded database. To kill it at a
known point, the test holds a lock on one visit the batch updates: the server has inserted
every event and waits, inside its transaction, for that lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graph.demo import mint_dev_token
from graph.settings import load_settings
from tests.dcsa_events import equipment_event, visits
from tests.servers import Server, server_env

BATCH = """
SELECT count(*) FROM cargo.event WHERE event_id = ANY($1::uuid[])
"""
WAITING_FOR_THE_LOCK = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'
"""
WRITING_THE_BATCH = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND query LIKE '%INSERT INTO cargo.event (%'
"""


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    running = Server(writable_url, server_env(writable_url, tmp_path / "data"), tmp_path)
    try:
        yield running
    finally:
        await running.stop()


def token(server: Server) -> str:
    settings = load_settings(server.env)
    return mint_dev_token(settings, org="MSCU", scopes=["events:write"], ttl=600)


async def batch(url: str) -> tuple[list[dict[str, Any]], int]:
    """1,000 actual loads of MSCU's export boxes, and one visit they all move."""
    connection = await asyncpg.connect(url)
    try:
        boxes = await visits(connection, "MSCU", "EXPORT", "LOADED")
    finally:
        await connection.close()
    return [equipment_event(boxes[i % len(boxes)], "LOAD") for i in range(1_000)], boxes[0].id


async def post(server: Server, events: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        with contextlib.suppress(httpx.TransportError):  # the server dies mid-request
            await client.post(
                "/dcsa/tnt/v2/events",
                json=events,
                headers={"Authorization": f"Bearer {token(server)}"},
            )


async def wait_for(connection: asyncpg.Connection, sql: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not await connection.fetchval(sql):
        assert time.monotonic() < deadline, f"still waiting for: {sql}"
        await asyncio.sleep(0.02)


async def test_kill_9_mid_batch_leaves_none_of_it(server: Server) -> None:
    events, visit_id = await batch(server.url)
    ids = [uuid.UUID(e["eventID"]) for e in events]
    await server.start()
    holder = await asyncpg.connect(server.url)
    watcher = await asyncpg.connect(server.url)  # statistics are read once per transaction
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute(
            "SELECT 1 FROM cargo.container_visit WHERE id = $1 FOR UPDATE", visit_id
        )
        request = asyncio.create_task(post(server, events))
        await wait_for(watcher, WAITING_FOR_THE_LOCK)  # the events are in, not committed
        await server.kill()
        await lock.rollback()
        await request
    finally:
        await holder.close()
        await watcher.close()
    await server.start()
    checker = await asyncpg.connect(server.url)
    try:
        assert await checker.fetchval(BATCH, ids) == 0
    finally:
        await checker.close()


async def test_kill_9_while_a_batch_is_written_leaves_all_or_none(server: Server) -> None:
    events, _ = await batch(server.url)
    ids = [uuid.UUID(e["eventID"]) for e in events]
    await server.start()
    watcher = await asyncpg.connect(server.url)
    try:
        request = asyncio.create_task(post(server, events))
        await wait_for(watcher, WRITING_THE_BATCH)
        await server.kill()
        await request
        await server.start()
        assert await watcher.fetchval(BATCH, ids) in (0, 1_000)
    finally:
        await watcher.close()
