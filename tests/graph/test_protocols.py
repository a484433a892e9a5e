"""The server's own protocol classes, against `harborgraph serve` in production mode: a
client that does not finish its headers within 10 s is answered 408 and dropped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from graph.protocols import HEADER_SECONDS
from tests.servers import Server, production_env, running


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with running(
        Server(writable_url, production_env(writable_url, tmp_path), tmp_path)
    ) as up:
        yield up


async def held(server: Server, dribble: bytes) -> tuple[float, bytes]:
    """Connect and send `dribble` a byte every 0.5 s; how long until the server hung up, and
    what it said."""
    port = int(server.env["HARBORGRAPH_PORT"])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()

    async def trickle() -> None:
        for byte in dribble:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.5)

    sender = asyncio.create_task(trickle())
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=HEADER_SECONDS + 10)
    finally:
        sender.cancel()
        writer.close()
    return time.monotonic() - started, answer


async def test_slow_or_silent_clients_are_dropped_after_ten_seconds(server: Server) -> None:
    slow_headers = b"GET /healthz HTTP/1.1\r\nHost: harborgraph\r\n" + b"X-Slow: " + b"a" * 100
    silent, dribbling = (
        asyncio.create_task(held(server, b"")),
        asyncio.create_task(held(server, slow_headers)),
    )
    await asyncio.sleep(1)
    async with httpx.AsyncClient(base_url=server.base) as client:  # others are served meanwhile
        assert (await client.get("/healthz")).status_code == 200
    for seconds, answer in (await silent, await dribbling):
        assert HEADER_SECONDS - 0.5 < seconds < HEADER_SECONDS + 2
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert answer.endswith(b"\r\n\r\nthe request headers took too long to send")


async def test_a_keep_alive_connection_serves_requests_past_the_header_deadline(
    server: Server,
) -> None:
    """The deadline is per request's headers, not per connection."""
    async with httpx.AsyncClient(base_url=server.base) as client:
        statuses = []
        for _ in range(4):
            statuses.append((await client.get("/healthz")).status_code)
            await asyncio.sleep(HEADER_SECONDS / 3)
    assert statuses == [200] * 4
