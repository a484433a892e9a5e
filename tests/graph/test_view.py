"""GraphQL over HTTP at the edge: every bad request is a clear 4xx, never a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import asyncpg
import httpx
import pytest

import schema.compiled.executor as executor
from tests.conftest import Api, Tokens
from tests.dcsa_events import equipment_event, visits
from tests.helpers import held_visit

ME = "{ me { subject scopes organization { code kind } } }"


async def test_anonymous_me(api: Api) -> None:
    response = await api.post(ME)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json() == {
        "data": {"me": {"subject": None, "scopes": [], "organization": None}}
    }


async def test_partner_me(api: Api, tokens: Tokens) -> None:
    token = tokens.mint("MSCU", "cargo:read", "vessel:read")
    data = await api.data(ME, token=token)
    assert data == {
        "me": {
            "subject": "MSCU:cli",
            "scopes": ["cargo:read", "vessel:read"],
            "organization": {"code": "MSCU", "kind": "CARRIER"},
        }
    }


async def test_plain_json_clients_get_application_json(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post("/graphql", json={"query": "{ me { scopes } }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "the request body is not valid JSON"),
        (b"[1, 2]", "application/json", 400, "the request body must be a JSON object"),
        (b'{"query": 42}', "application/json", 400, "`query` must be a non-empty string"),
        (b'{"query": ""}', "application/json", 400, "`query` must be a non-empty string"),
        (
            b'{"query": "{ me { scopes } }", "variables": [1]}',
            "application/json",
            400,
            "`variables` must be an object",
        ),
        (
            b'{"query": "{ me { scopes } }", "operationName": 7}',
            "application/json",
            400,
            "`operationName` must be a string",
        ),
        (b"query { me { scopes } }", "text/plain", 415, "Content-Type must be application/json"),
        (
            b"query=%7B%7D",
            "application/x-www-form-urlencoded",
            415,
            "Content-Type must be application/json",
        ),
        (b"\xff\xfe", "application/json", 400, "the request body is not valid JSON"),
    ],
)
async def test_bad_requests_are_4xx_naming_the_problem(
    app_client: httpx.AsyncClient, body: bytes, content_type: str, status: int, message: str
) -> None:
    response = await app_client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": content_type, "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == status
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_body_over_the_cap_is_413(app_client: httpx.AsyncClient) -> None:
    padding = "#" + "x" * (2 * 1024 * 1024) + "\n"
    response = await app_client.post("/graphql", json={"query": padding + "{ me { scopes } }"})
    assert response.status_code == 413
    message = "the request body is larger than 2097152 bytes"
    assert response.json()["errors"][0]["message"] == message


async def test_unacceptable_accept_is_406(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql", json={"query": ME}, headers={"Accept": "application/xml"}
    )
    assert response.status_code == 406


async def test_syntax_error_is_400_with_graphql_response(api: Api) -> None:
    response = await api.post("{ me { ")
    assert response.status_code == 400
    payload = response.json()
    assert "data" not in payload  # it never executed: no data entry at all
    assert payload["errors"][0]["message"].startswith("Syntax Error")
    assert payload["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


async def test_unknown_field_is_400_naming_it(api: Api) -> None:
    response = await api.post("{ nothingHere }")
    assert response.status_code == 400
    assert (
        response.json()["errors"][0]["message"]
        == "Cannot query field 'nothingHere' on type 'Query'."
    )


async def test_get_serves_queries(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/graphql", params={"query": "{ me { scopes } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"scopes": []}}}


async def test_get_with_bad_variables_is_400(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get(
        "/graphql", params={"query": "{ me { scopes } }", "variables": "{nope"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "`variables` is not valid JSON"


async def test_graphiql_in_development(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_bad_token_is_401_without_data(api: Api) -> None:
    response = await api.post(ME, token="not-a-jwt")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="token is malformed"'
    )
    assert response.json() == {
        "errors": [{"message": "token is malformed", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_jwks_is_published_in_development(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")


async def test_health_and_readiness(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    ready = await app_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


async def test_validation_errors_carry_a_code(api: Api) -> None:
    response = await api.post("{ nothingHere }")
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_bad_variable_is_bad_user_input(api: Api) -> None:
    query = "query($n: Int) { auditEvents(first: $n) { edges { cursor } } }"
    response = await api.post(query, {"n": "ten"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (
        error["message"]
        == "Variable '$n' has invalid value: Int cannot represent non-integer value: 'ten'"
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_too_many_aliases_are_refused(api: Api) -> None:
    aliases = "{ " + " ".join(f"a{i}: me {{ scopes }}" for i in range(31)) + " }"
    response = await api.post(aliases)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"] == "31 aliases found. Allowed: 30"


async def test_too_deep_is_refused(api: Api) -> None:
    level = "portCalls(first: 1) { edges { node { vessel { %s } } } }"
    deep = "{ " + level % (level % (level % "imo")) + " }"
    response = await api.post(deep)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"] == "'anonymous' exceeds maximum operation depth of 10"
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_get_cannot_mutate(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/graphql", params={"query": "mutation { me { scopes } }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["message"] == "mutations must be sent with POST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"query": "query A { me { scopes } }", "operationName": "Z"},
            "`operationName` 'Z' names no operation of the document",
        ),
        (
            {"query": "query A { me { scopes } } query B { me { scopes } }"},
            "the document holds several operations: name one in `operationName`",
        ),
        ({"query": "subscription S { me { scopes } }"}, "subscriptions are not served over HTTP"),
    ],
)
async def test_operation_choice_errors_are_400(
    app_client: httpx.AsyncClient, body: dict[str, str], message: str
) -> None:
    response = await app_client.post("/graphql", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_named_operation_of_several_runs(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        json={
            "query": "query A { me { scopes } } query B { me { subject } }",
            "operationName": "B",
        },
    )
    assert response.json() == {"data": {"me": {"subject": None}}}


async def test_deeply_nested_json_is_400(app_client: httpx.AsyncClient) -> None:
    body = '{"query": "{ me { scopes } }", "variables": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"
    response = await app_client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "the request body is nested too deeply"


async def test_two_authorization_headers_are_400(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql",
        json={"query": "{ me { scopes } }"},
        headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "send a single Authorization header"


async def test_non_utf8_charset_is_415(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql",
        content=b'{"query": "{ me { scopes } }"}',
        headers={"Content-Type": "application/json; charset=latin-1"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["message"] == "the request body must be UTF-8 JSON"


async def test_utf8_charset_is_accepted(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql",
        content=b'{"query": "{ me { scopes } }"}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.json() == {"data": {"me": {"scopes": []}}}


async def test_instant_beyond_utc_is_bad_user_input(api: Api) -> None:
    query = '{ portCalls(filter: {arrivingAfter: "0001-01-01T00:00:00+14:00"}) { nodes { id } } }'
    response = await api.post(query)
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"] == "`filter.arrivingAfter`: is out of range once converted to UTC"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nul_byte_is_bad_user_input_not_internal(api: Api) -> None:
    query = "query($s: String) { vessels(search: $s) { nodes { name } } }"
    response = await api.post(query, {"s": "MSC\u0000"})
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["vessels"]


async def test_overlong_int_literal_is_a_validation_error(api: Api) -> None:
    response = await api.post("{ vessels(first: " + "9" * 5000 + ") { nodes { name } } }")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"] == "the document holds a literal that cannot be read"
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


async def test_forged_deep_cursor_is_bad_user_input(api: Api) -> None:
    forged = base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode().rstrip("=")
    response = await api.post(
        "query($a: String) { vessels(after: $a) { nodes { name } } }", {"a": forged}
    )
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["vessels"]


async def test_two_content_types_are_400(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql",
        content=b'{"query": "{ me { scopes } }"}',
        headers=[("Content-Type", "application/json"), ("Content-Type", "text/plain")],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "send a single Content-Type header"


async def test_a_document_that_fails_validation_has_no_data_entry_in_either_media_type(
    app_client: httpx.AsyncClient,
) -> None:
    body = {"query": "{ nothingHere }"}
    strict = await app_client.post(
        "/graphql", json=body, headers={"Accept": "application/graphql-response+json"}
    )
    plain = await app_client.post("/graphql", json=body, headers={"Accept": "application/json"})
    assert (strict.status_code, plain.status_code) == (400, 200)
    for answer in (strict, plain):
        assert list(answer.json()) == ["errors"]
        assert [e["extensions"]["code"] for e in answer.json()["errors"]] == [
            "GRAPHQL_VALIDATION_FAILED"
        ]


@pytest.mark.parametrize("extensions", ["x", 1, ["persistedQuery"], True])
async def test_extensions_that_are_not_an_object_are_400(
    app_client: httpx.AsyncClient, extensions: object
) -> None:
    response = await app_client.post(
        "/graphql", json={"query": "{ __typename }", "extensions": extensions}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "`extensions` must be an object"
    got = await app_client.get(
        "/graphql", params={"query": "{ __typename }", "extensions": json.dumps(extensions)}
    )
    assert got.status_code == 400
    assert got.json()["errors"][0]["message"] == "`extensions` must be an object"
    broken = await app_client.get(
        "/graphql", params={"query": "{ __typename }", "extensions": "{nope"}
    )
    assert (broken.status_code, broken.json()["errors"][0]["message"]) == (
        400,
        "`extensions` is not valid JSON",
    )


async def test_extensions_as_an_object_are_accepted(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/graphql", json={"query": "{ __typename }", "extensions": {"trace": True}}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_production_errors_name_nothing_the_caller_did_not_write(
    production_client: httpx.AsyncClient,
) -> None:
    answer = await production_client.post("/graphql", json={"query": "{ me { organization } }"})
    assert answer.json() == {
        "errors": [
            {
                "message": "Field 'organization' of type '…' must have a selection of subfields.",
                "locations": [{"line": 1, "column": 8}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }


TERMINATE_APP = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND application_name = 'harborgraph'
"""
WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'harborgraph'
  AND wait_event_type = 'Lock'
"""
PUBLISH = "mutation P($e: [EventInput!]!) { publishEvents(events: $e) { stored accepted } }"


async def test_a_connection_lost_mid_request_is_503_try_again_never_500(
    writable_client: httpx.AsyncClient, writable_url: str, tokens: Tokens
) -> None:
    """As when PostgreSQL restarts under load: the statement in flight loses its connection."""
    connection = await asyncpg.connect(writable_url)
    try:
        (box,) = (await visits(connection, "MSCU", "EXPORT", "LOADED"))[:1]
    finally:
        await connection.close()
    headers = {"Authorization": f"Bearer {tokens.mint('MSCU', 'events:write')}"}
    body = {"query": PUBLISH, "variables": {"e": [equipment_event(box, "LOAD")]}}
    async with held_visit(writable_url, box.id):
        answer = asyncio.ensure_future(writable_client.post("/graphql", json=body, headers=headers))
        watcher = await asyncpg.connect(writable_url)
        try:
            for _ in range(200):  # until the batch waits for the visit
                if await watcher.fetchval(WAITING):
                    break
                await asyncio.sleep(0.05)
            assert await watcher.fetchval(TERMINATE_APP) > 0
        finally:
            await watcher.close()
        response = await answer
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
    again = await writable_client.post("/graphql", json=body, headers=headers)
    # Accepted now, so the lost attempt stored nothing.
    assert again.json() == {"data": {"publishEvents": {"stored": True, "accepted": 1}}}


async def test_a_lone_surrogate_echoed_back_is_escaped_not_a_500(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Found by the fuzzer (tests/fuzz/): orjson refuses what UTF-8 cannot hold."""
    query = "mutation($e:[EventInput!]!){publishEvents(events:$e){results{eventID outcome}}}"
    body = {
        "query": query,
        "variables": {"e": [{"eventID": "\ud800", "eventCreatedDateTime": "x"}]},
    }
    token = tokens.mint("MSCU", "events:write")
    response = await writable_client.post(
        "/graphql",
        content=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    (result,) = json.loads(response.content)["data"]["publishEvents"]["results"]
    assert result == {"eventID": "\ud800", "outcome": "REJECTED"}


CALLS = "query Calls { portCalls(first: 2) { edges { node { id } } } }"


@pytest.mark.parametrize(
    ("accept", "status"), [("application/graphql-response+json", 500), ("application/json", 200)]
)
async def test_a_failure_before_any_field_is_the_servers_fault_not_the_callers(
    api: Api,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    accept: str,
    status: int,
) -> None:
    """A bug in the compiled path fails the whole document, at no field's path: that is a 500
    under graphql-response+json (a 400 would tell the partner to change its request)."""

    async def broken(*_args: object) -> bytes:
        raise RuntimeError("a detail of the server's own")

    monkeypatch.setattr(executor, "run_plan", broken)
    token = tokens.mint("MSCU", "vessel:read")
    with caplog.at_level(logging.ERROR, logger="harborgraph.errors"):
        response = await api.post(CALLS, token=token, headers={"Accept": accept})
    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert list(response.json()) == ["errors"]
    (incident,) = [r for r in caplog.records if r.name == "harborgraph.errors"]
    reference = incident.getMessage().split()[2]
    assert error == {
        "message": f"Internal server error (reference {reference})",
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }
    assert "a detail of the server's own" not in response.text
