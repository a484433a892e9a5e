"""One JSON line per request: who, what, how it ended, how long, how many SQL statements;
never a token, a query string, a variable or a commercial value."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from graph.logs import JsonFormatter
from graph.observation import RequestRecord, log_fields, outcome
from resolvers.sources import SourcePools
from tests.conftest import SqlCounter, Tokens
from tests.helpers import unique_name

OWN_CONTAINER = """
SELECT cv.equipment_reference, p.party_name AS consignee_name FROM cargo.container_visit cv
JOIN cargo.shipment_party p
  ON p.transport_document_reference = cv.transport_document_reference AND p.party_function = 'CN'
WHERE cv.carrier_scac = 'MSCU'
ORDER BY cv.equipment_reference LIMIT 1
"""
FIELDS = [
    "event",
    "request_id",
    "method",
    "path",
    "status",
    "outcome",
    "ms",
    "organization",
    "kind",
    "operation",
    "sql_statements",
    "sql_ms",
]


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    records = [r for r in caplog.records if r.name == "harborgraph.request"]
    return [json.loads(formatter.format(r)) for r in records]


async def test_a_query_leaves_one_line_with_its_figures_and_nothing_secret(
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    seeded_pools: SourcePools,
    count_sql: SqlCounter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    row = await seeded_pools["cargo"].fetchrow(OWN_CONTAINER)
    assert row is not None
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    name = unique_name("Consignee")
    query = f"query {name}($n: String!) {{ container(number: $n) {{ number consignee }} }}"
    params = {"query": query, "variables": json.dumps({"n": row["equipment_reference"]})}
    with caplog.at_level(logging.INFO, logger="harborgraph.request"):
        async with count_sql() as counted:
            response = await app_client.get(
                "/graphql",
                params=params,
                headers={"Authorization": f"Bearer {token}", "X-Request-ID": "partner-42.a"},
            )
    assert response.json()["data"]["container"]["consignee"] == row["consignee_name"]
    assert response.headers["x-request-id"] == "partner-42.a"
    (line,) = request_lines(caplog)
    assert list(line) == ["at", "level", "logger", "message", *FIELDS]
    assert {k: line[k] for k in FIELDS if k not in ("ms", "sql_ms")} == {
        "event": "request",
        "request_id": "partner-42.a",
        "method": "GET",
        "path": "/graphql",
        "status": 200,
        "outcome": "ok",
        "organization": "MSCU",
        "kind": "CARRIER",
        "operation": name,
        "sql_statements": len(counted.statements) + len(counted.lookups),
    }
    assert len(counted.statements) > 0
    text = json.dumps(line)
    for secret in (token, row["equipment_reference"], row["consignee_name"], "variables"):
        assert secret not in text


async def test_a_refused_token_is_a_line_without_a_partner(
    app_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="harborgraph.request"):
        response = await app_client.post(
            "/graphql",
            json={"query": "query Calls { __typename }", "operationName": "Calls"},
            headers={"Authorization": "Bearer not.a.token", "X-Request-ID": "bad id with spaces"},
        )
    assert response.status_code == 401
    (line,) = request_lines(caplog)
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    assert (line["request_id"], line["status"], line["outcome"]) == (
        generated,
        401,
        "unauthenticated",
    )
    assert (line["organization"], line["kind"], line["operation"]) == (None, None, "Calls")
    assert "not.a.token" not in json.dumps(line)


async def test_a_rest_request_is_named_by_its_route(
    app_client: httpx.AsyncClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    token = tokens.mint("MSCU", "cargo:read")
    with caplog.at_level(logging.INFO, logger="harborgraph.request"):
        response = await app_client.get(
            "/dcsa/tnt/v2/events",
            params={"equipmentReference": "MSCU1234566", "limit": "1"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    (line,) = request_lines(caplog)
    assert (line["operation"], line["path"], line["kind"]) == (
        "GET /dcsa/tnt/v2/events",
        "/dcsa/tnt/v2/events",
        "CARRIER",
    )
    assert "MSCU1234566" not in json.dumps(line)


@pytest.mark.parametrize(
    ("status", "noted", "expected"),
    [
        (200, None, "ok"),
        (200, "denied", "denied"),
        (400, None, "bad_request"),
        (401, None, "unauthenticated"),
        (413, None, "bad_request"),
        (429, None, "rate_limited"),
        (431, None, "bad_request"),
        (500, None, "internal"),
        (503, None, "unavailable"),
    ],
)
def test_outcomes(status: int, noted: str | None, expected: str) -> None:
    record = RequestRecord("r", "POST", "/graphql", 0.0, status=status, outcome=noted)
    assert outcome(record) == expected


def test_an_operation_name_that_is_no_graphql_name_is_not_logged() -> None:
    record = RequestRecord("r", "POST", "/graphql", 0.0, operation="x' OR 1=1")
    assert log_fields(record)["operation"] == "(invalid)"
