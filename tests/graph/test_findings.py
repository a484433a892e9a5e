"""Issue 14's findings, tried as a hostile client would against `harborgraph serve` in
production mode (an outside issuer's public key). The slow headers are in test_protocols, the
database restart in test_outages, the noisy partner in test_throttle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.servers import Server, production_env, running

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
async def base(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder: Path = tmp_path_factory.mktemp("findings")
    async with running(Server(seeded_url, production_env(seeded_url, folder), folder)) as up:
        yield up.base


async def post(base: str, body: object, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await client.post("/graphql", json=body, headers=headers)


async def test_extensions_that_are_no_object_are_400(base: str) -> None:
    response = await post(base, {"query": "{ __typename }", "extensions": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_17_kb_header_is_431(base: str) -> None:
    response = await post(base, {"query": "{ __typename }"}, **{"X-Padding": "a" * 17_000})
    assert response.status_code == 431


async def test_a_validation_error_names_no_type_the_caller_did_not_write(base: str) -> None:
    response = await post(base, {"query": "{ portCalls }"})
    (error,) = response.json()["errors"]
    assert error["message"] == "Field 'portCalls' of type '…' must have a selection of subfields."
    assert "Connection" not in response.text


async def test_a_document_that_never_ran_has_no_data_and_is_400(base: str) -> None:
    response = await post(base, {"query": "{ portCalls("}, Accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert list(response.json()) == ["errors"]
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
