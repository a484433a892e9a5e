"""/metrics on its own port adds up the workers: after a known mix of requests to a server of
two workers, the counters equal the mix exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from graph.demo import GRANTS, mint_dev_token
from graph.metrics import OTHER, Metrics
from graph.settings import load_settings
from resolvers.principal import OrganizationKind
from tests.servers import Server, free_port, server_env

CALLS = "query Calls { portCalls(first: 2) { edges { node { id } } } }"
BOX = "query Box($n: String!) { container(number: $n) { number consignee } }"
FIRST_OF_KIND = "SELECT code FROM community.organization WHERE kind = $1 ORDER BY code LIMIT 1"
OWN_CONTAINER = """
SELECT equipment_reference FROM cargo.container_visit
WHERE carrier_scac = 'MSCU' AND transport_document_reference IS NOT NULL
ORDER BY equipment_reference LIMIT 1
"""


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    env = server_env(writable_url, tmp_path / "data", HARBORGRAPH_METRICS_PORT=str(free_port()))
    running = Server(writable_url, env, tmp_path, workers=2)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


def requests_counted(text: str) -> dict[tuple[str, str, str], float]:
    counted: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "harborgraph_requests":
            continue
        for sample in family.samples:
            if sample.name == "harborgraph_requests_total":
                labels = sample.labels
                key = (labels["operation"], labels["kind"], labels["outcome"])
                counted[key] = sample.value
    return counted


async def send(server: Server, query: str, name: str, token: str, **variables: str) -> int:
    """On a connection of its own, so that both workers take some."""
    body = {"query": query, "operationName": name, "variables": variables}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        response = await client.post("/graphql", json=body, headers=headers)
    return response.status_code


async def test_the_counters_equal_a_known_mix_across_two_workers(
    server: Server, writable_url: str
) -> None:
    settings = load_settings(server.env)
    connection = await asyncpg.connect(writable_url)
    try:
        codes = {k: await connection.fetchval(FIRST_OF_KIND, k.value) for k in OrganizationKind}
        codes[OrganizationKind.CARRIER] = "MSCU"  # the owner of the container asked for
        number = await connection.fetchval(OWN_CONTAINER)
    finally:
        await connection.close()

    def token(kind: OrganizationKind, *scopes: str) -> str:
        granted = scopes or [s.value for s in GRANTS[kind]]
        return mint_dev_token(settings, org=codes[kind], scopes=granted, ttl=600)

    carrier, trucker, terminal = (
        token(OrganizationKind.CARRIER),
        token(OrganizationKind.TRUCKER),
        token(OrganizationKind.TERMINAL),
    )
    statuses = [
        *[await send(server, CALLS, "Calls", carrier) for _ in range(3)],
        *[await send(server, CALLS, "Calls", trucker) for _ in range(2)],
        await send(server, CALLS, "Calls", terminal),
        await send(server, BOX, "Box", carrier, n=number),
        await send(server, BOX, "Box", token(OrganizationKind.CARRIER, "cargo:read"), n=number),
        await send(server, CALLS, "Calls", carrier[:-4] + "AAAA"),  # a forged signature
    ]
    assert statuses == [200] * 8 + [401]

    metrics_url = f"http://127.0.0.1:{server.env['HARBORGRAPH_METRICS_PORT']}/metrics"
    async with httpx.AsyncClient(timeout=10) as client:
        scraped = [(await client.get(metrics_url)).text for _ in range(4)]
        public = await client.get(server.base + "/metrics")
    expected = {
        ("Calls", "CARRIER", "ok"): 3.0,
        ("Calls", "TRUCKER", "ok"): 2.0,
        ("Calls", "TERMINAL", "ok"): 1.0,
        ("Box", "CARRIER", "ok"): 1.0,
        ("Box", "CARRIER", "denied"): 1.0,
        ("Calls", "anonymous", "unauthenticated"): 1.0,
    }
    # Whichever worker answers the scrape, it reads every worker's counts.
    assert [requests_counted(text) for text in scraped] == [expected] * 4
    assert public.status_code == 404  # not on the partners' port
    workers = {p.stem.rsplit("_", 1)[1] for p in (server.folder / "data" / "metrics").glob("*.db")}
    assert len(workers) == 2


def test_operation_labels_are_bounded() -> None:
    metrics = Metrics(None)
    assert metrics.operation(None) == "(anonymous)"
    assert metrics.operation("Calls") == "Calls"
    assert metrics.operation("not a name") == OTHER
    names = [metrics.operation(f"Op{n}") for n in range(300)]
    assert names[:199] == [f"Op{n}" for n in range(199)]
    assert set(names[199:]) == {OTHER}
    assert metrics.operation("Calls") == "Calls"  # a known one stays itself
