"""SIGTERM, sent to `harborgraph serve` alone as Kubernetes or systemd sends it: requests in
flight finish, subscribers are told 1001, the audit trail is complete, the process exits 0,
and an embedded PostgreSQL it started stops with it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import websockets

from graph.demo import mint_dev_token
from graph.keys import ensure_dev_keys
from graph.settings import load_settings
from tests.graph.test_subscriptions import subscribe
from tests.helpers import unique_name
from tests.servers import Server, server_env

CLIENTS = 32
GRACE_SECONDS = 10
LOAD = 4 * CLIENTS  # answers before the signal
OWN_CONTAINER = """
SELECT equipment_reference FROM cargo.container_visit
WHERE carrier_scac = 'MSCU' AND transport_document_reference IS NOT NULL
ORDER BY equipment_reference LIMIT 1
"""
AUDITED = "SELECT count(*) FROM community.audit_event WHERE operation_name = $1"


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    env = server_env(
        writable_url, tmp_path / "data", HARBORGRAPH_SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS)
    )
    running = Server(writable_url, env, tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


@dataclass
class Sent:
    at: float  # time.monotonic() before the request was written
    status: int | None  # None: the request was refused or its connection closed


async def client_loop(
    server: Server, body: dict[str, object], token: str, sent: list[Sent], loaded: asyncio.Event
) -> None:
    """One partner's integration sending request after request on one connection."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        while True:
            at = time.monotonic()
            try:
                response = await client.post("/graphql", json=body, headers=headers)
            except httpx.TransportError:
                sent.append(Sent(at, None))
                return
            sent.append(Sent(at, response.status_code))
            if len(sent) >= LOAD:  # under way: every client has had answers
                loaded.set()


async def test_sigterm_under_load_finishes_every_started_request(
    server: Server, writable_url: str
) -> None:
    connection = await asyncpg.connect(writable_url)
    number = await connection.fetchval(OWN_CONTAINER)
    name = unique_name("Draining")
    body: dict[str, object] = {
        "query": f"query {name}($n: String!) {{ container(number: $n) {{ number consignee }} }}",
        "variables": {"n": number},
        "operationName": name,
    }
    token = mint_dev_token(
        load_settings(server.env), org="MSCU", scopes=["cargo:read", "cargo:commercial"], ttl=600
    )
    results: list[Sent] = []
    loaded = asyncio.Event()
    running = asyncio.gather(
        *(client_loop(server, body, token, results, loaded) for _ in range(CLIENTS))
    )
    await asyncio.wait_for(loaded.wait(), timeout=60)
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    code = await asyncio.wait_for(server.process.wait(), timeout=GRACE_SECONDS + 10)
    stopped = time.monotonic() - signalled
    await running
    try:
        audited = await connection.fetchval(AUDITED, name)
    finally:
        await connection.close()

    assert code == 0, server.log
    assert stopped < GRACE_SECONDS
    before = [s for s in results if s.at < signalled]
    assert len(before) >= LOAD
    assert {s.status for s in before} == {200}
    assert {s.status for s in results if s.status is not None} == {200}
    assert audited == sum(1 for s in results if s.status == 200)


async def test_sigterm_closes_subscriptions_with_going_away(server: Server) -> None:
    token = mint_dev_token(load_settings(server.env), org="MSCU", scopes=["cargo:read"], ttl=600)
    socket = await subscribe(server, token)
    assert await server.terminate() == 0
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert closed.value.rcvd.reason == "server shutting down"


def postmaster_pid(data: Path) -> int:
    return int((data / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


def reachable_data_dir(tmp_path: Path) -> Path:
    """The embedded server runs as its own user when we are root: its folder must be open."""
    data = tmp_path / "data"
    data.mkdir()
    tmp_path.chmod(0o755)
    data.chmod(0o777)
    return data


def gone(pid: int, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_sigterm_stops_the_embedded_postgresql_it_started(tmp_path: Path) -> None:
    data = reachable_data_dir(tmp_path)
    key = ensure_dev_keys(tmp_path / "keys").public_key_path
    # Production: no demo to seed, so the server is up within seconds.
    env = server_env(
        "", data, HARBORGRAPH_ENV="production", HARBORGRAPH_JWT_PUBLIC_KEY_FILE=str(key)
    )
    del env["HARBORGRAPH_DATABASE_URL"]
    server = Server("", env, tmp_path)
    try:
        await server.start()
        pid = postmaster_pid(data)
        assert alive(pid)
        assert await server.terminate() == 0, server.log
    finally:
        await server.stop()
    assert await asyncio.to_thread(gone, pid, 10), "the embedded PostgreSQL outlived the server"
    assert not (data / "pgdata" / "postmaster.pid").exists()
    lines = [json.loads(line) for line in server.log.splitlines() if line.startswith("{")]
    assert any(line["message"] == "Application shutdown complete." for line in lines)
