"""CORS for partners' own portals: the allowlisted origins only, tokens not cookies."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from graph.database import source_dsns
from graph.settings import Settings
from tests.conftest import SqlCounter, served

PORTAL = "https://portal.partner.example"
QUERY = {"query": "{ __typename }"}


@pytest.fixture
async def cors_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(test_settings, cors_origins=(PORTAL,))
    async with served(settings, source_dsns(settings, seeded_url), sql_counter) as client:
        yield client


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


async def test_a_preflight_from_an_allowed_origin_is_answered(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options("/graphql", headers=preflight(PORTAL))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == PORTAL
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    ("headers", "failure"),
    [
        (preflight("https://evil.example"), "Disallowed CORS origin"),
        (preflight(PORTAL, "authorization, x-custom"), "Disallowed CORS headers"),
    ],
)
async def test_a_preflight_from_elsewhere_or_for_other_headers_is_refused(
    cors_client: httpx.AsyncClient, headers: dict[str, str], failure: str
) -> None:
    response = await cors_client.options("/graphql", headers=headers)
    assert (response.status_code, response.text) == (400, failure)
    if failure.endswith("origin"):
        assert "access-control-allow-origin" not in response.headers


async def test_answers_name_the_allowed_origin_only_and_vary_by_origin(
    cors_client: httpx.AsyncClient,
) -> None:
    allowed = await cors_client.post("/graphql", json=QUERY, headers={"Origin": PORTAL})
    assert allowed.json() == {"data": {"__typename": "Query"}}
    assert allowed.headers["access-control-allow-origin"] == PORTAL
    assert "Next-Page" in allowed.headers["access-control-expose-headers"]
    assert "Origin" in allowed.headers["vary"]
    other = await cors_client.post(
        "/graphql", json=QUERY, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]


async def test_no_origin_is_allowed_by_default(app_client: httpx.AsyncClient) -> None:
    response = await app_client.options("/graphql", headers=preflight(PORTAL))
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
    answer = await app_client.post("/graphql", json=QUERY, headers={"Origin": PORTAL})
    assert "access-control-allow-origin" not in answer.headers
