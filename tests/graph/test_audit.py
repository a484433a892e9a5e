"""Audit: commercial reads and denials leave one log line and one row each, off the request path."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from graph.state import AppState
from resolvers.sources import SourcePools
from tests.conftest import Api, Tokens

CONSIGNEE = "query Consignee($n: String!) { container(number: $n) { number consignee } }"
LATEST = """
SELECT organization_code, subject, operation_name, fields, rows_counted, denials::text
FROM community.audit_event ORDER BY id DESC LIMIT 1
"""


async def _own_container(pools: SourcePools, scac: str) -> str:
    number: str = await pools["cargo"].fetchval(
        """SELECT cv.equipment_reference FROM cargo.container_visit cv
           WHERE cv.carrier_scac = $1 AND cv.transport_document_reference IS NOT NULL
           ORDER BY cv.equipment_reference LIMIT 1""",
        scac,
    )
    return number


async def _flush(app_client: httpx.AsyncClient) -> None:
    transport = app_client._transport
    assert isinstance(transport, httpx.ASGITransport)
    state: AppState = transport.app.state.harborgraph  # type: ignore[attr-defined]
    await state.audit.flush()


async def test_commercial_read_is_audited(
    api: Api,
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    seeded_pools: SourcePools,
    caplog: pytest.LogCaptureFixture,
) -> None:
    number = await _own_container(seeded_pools, "MSCU")
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    with caplog.at_level(logging.INFO, logger="harborgraph.audit"):
        response = await api.post(CONSIGNEE, {"n": number}, token)
    assert response.status_code == 200
    assert response.json()["data"]["container"]["number"] == number
    await _flush(app_client)
    row = await seeded_pools["community"].fetchrow(LATEST)
    assert row is not None
    assert dict(row) == {
        "organization_code": "MSCU",
        "subject": "MSCU:cli",
        "operation_name": None,
        "fields": ["Container.consignee"],
        "rows_counted": 1,
        "denials": "{}",
    }
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "harborgraph.audit"]
    assert line["fields"] == ["Container.consignee"]
    assert line["organization"] == "MSCU"


async def test_denial_is_audited(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    number = await _own_container(seeded_pools, "MSCU")
    token = tokens.mint("MSCU", "cargo:read")
    response = await api.post(CONSIGNEE, {"n": number}, token)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    await _flush(app_client)
    row = await seeded_pools["community"].fetchrow(LATEST)
    assert row is not None
    assert row["fields"] == []
    assert json.loads(row["denials"]) == {"Container.consignee": 1}


async def test_public_read_is_not_audited(
    api: Api, app_client: httpx.AsyncClient, seeded_pools: SourcePools
) -> None:
    before = await seeded_pools["community"].fetchval("SELECT count(*) FROM community.audit_event")
    await api.data("{ me { scopes } }")
    await _flush(app_client)
    after = await seeded_pools["community"].fetchval("SELECT count(*) FROM community.audit_event")
    assert after == before


async def test_port_authority_reads_the_trail(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    carrier = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    refused = (
        await api.post("{ auditEvents(first: 5) { edges { cursor } } }", token=carrier)
    ).json()
    await _flush(app_client)
    _, token = tokens.partner("PORT_AUTHORITY")
    query = "{ auditEvents(first: 1) { edges { node { organizationCode denials } } } }"
    data = await api.data(query, token=token)
    assert data["auditEvents"]["edges"] == [
        {"node": {"organizationCode": "MSCU", "denials": {"Query.auditEvents": 1}}}
    ]
    assert refused["data"] == {"auditEvents": None}
    assert refused["errors"][0]["path"] == ["auditEvents"]
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
