"""Request header limits: 16 KB in all and 100 headers, else 431 before any route runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.servers import Server, server_env

QUERY = {"query": "{ __typename }"}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Padding": "x" * 17_000},  # the finding: a 17 KB header was accepted
        {f"X-H{n}": "1" for n in range(101)},
    ],
)
async def test_oversized_headers_are_431(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await app_client.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 431
    assert response.json() == {
        "errors": [
            {
                "message": "request headers are too large: at most 16 KB and 100 headers",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    assert (await app_client.get("/healthz", headers=headers)).status_code == 431


async def test_headers_within_the_limits_pass(app_client: httpx.AsyncClient) -> None:
    headers = {"X-Padding": "x" * 15_000, **{f"X-H{n}": "1" for n in range(80)}}
    response = await app_client.post("/graphql", json=QUERY, headers=headers)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_the_served_app_answers_431_too(writable_url: str, tmp_path: Path) -> None:
    """Through uvicorn's own HTTP parser, as a client on the network meets it."""
    server = Server(writable_url, server_env(writable_url, tmp_path / "data"), tmp_path)
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.base) as client:
            big = await client.post("/graphql", json=QUERY, headers={"X-Padding": "x" * 17_000})
            fine = await client.post("/graphql", json=QUERY)
    finally:
        await server.stop()
    assert (big.status_code, fine.status_code) == (431, 200)
