"""DCSA Track & Trace 2.2 over HTTP: POST and GET /dcsa/tnt/v2/events."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import asyncpg
import httpx
import pytest

from tests.conftest import Api, Tokens
from tests.dcsa_events import Visit, adapted, equipment_event, visits
from tests.helpers import flush_audit, held_visit

PATH = "/dcsa/tnt/v2/events"
CONTAINER_EVENTS = """
query ($number: String!) {
  container(number: $number) {
    events(first: 50) {
      edges { node { eventID eventType eventClassifier eventDateTime eventCreatedDateTime
        ... on EquipmentEvent { equipmentEventTypeCode equipmentReference isoEquipmentCode
          emptyIndicatorCode transportDocumentReference modeOfTransport
          location { UNLocationCode facilitySMDGCode } portCall { portCallId } } } }
    }
  }
}
"""
EVENT_FEED = """
query ($first: Int, $after: String) {
  events(first: $first, after: $after) {
    edges { node { eventID } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def first_visit(url: str, carrier: str, direction: str, status: str) -> Visit:
    connection = await asyncpg.connect(url)
    try:
        return (await visits(connection, carrier, direction, status))[0]
    finally:
        await connection.close()


@pytest.fixture
async def mscu_visit(writable_url: str) -> Visit:
    return await first_visit(writable_url, "MSCU", "IMPORT", "ON_VESSEL")


def instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_a_posted_spec_event_comes_back_equal_from_get_and_graphql(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit, writable_url: str
) -> None:
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial", "events:write")
    event = adapted(mscu_visit)
    posted = await writable_client.post(PATH, json=[event], headers=bearer(token))
    assert posted.status_code == 201, posted.json()
    assert posted.headers["API-Version"] == "2.2.0"
    assert posted.json() == {
        "stored": True,
        "accepted": 1,
        "duplicates": 0,
        "rejected": 0,
        "results": [{"index": 0, "eventID": event["eventID"], "outcome": "ACCEPTED"}],
    }
    params = {"equipmentReference": mscu_visit.equipment_reference, "eventType": "EQUIPMENT"}
    got = await writable_client.get(PATH, params=params, headers=bearer(token))
    assert got.status_code == 200, got.json()
    [back] = [e for e in got.json() if e["eventID"] == event["eventID"]]
    assert back == event
    # Seals and references are commercial, as in GraphQL: left out without cargo:commercial.
    reader = tokens.mint("MSCU", "cargo:read")
    plain = await writable_client.get(PATH, params=params, headers=bearer(reader))
    [bare] = [e for e in plain.json() if e["eventID"] == event["eventID"]]
    assert bare == {k: v for k, v in event.items() if k not in ("seals", "references")}
    await flush_audit(writable_client)
    connection = await asyncpg.connect(writable_url)
    try:
        audited = await connection.fetch(
            "SELECT fields, rows_counted FROM community.audit_event WHERE operation_name = $1",
            f"GET {PATH}",
        )
    finally:
        await connection.close()
    assert [(r["fields"], r["rows_counted"]) for r in audited] == [
        (["DcsaEvent.seals", "DcsaEvent.references"], 2)
    ]
    data = await Api(writable_client).data(
        CONTAINER_EVENTS, {"number": mscu_visit.equipment_reference}, token
    )
    [node] = [
        edge["node"]
        for edge in data["container"]["events"]["edges"]
        if edge["node"]["eventID"] == event["eventID"]
    ]
    call = event["transportCall"]
    assert {**node, "eventDateTime": instant(node["eventDateTime"])} | {
        "eventCreatedDateTime": instant(node["eventCreatedDateTime"])
    } == {
        "eventID": event["eventID"],
        "eventType": event["eventType"],
        "eventClassifier": event["eventClassifierCode"],
        "eventDateTime": instant(event["eventDateTime"]),
        "eventCreatedDateTime": instant(event["eventCreatedDateTime"]),
        "equipmentEventTypeCode": event["equipmentEventTypeCode"],
        "equipmentReference": event["equipmentReference"],
        "isoEquipmentCode": event["ISOEquipmentCode"],
        "emptyIndicatorCode": event["emptyIndicatorCode"],
        "transportDocumentReference": None,  # the example names a booking only
        "modeOfTransport": call["modeOfTransport"],
        "location": {
            "UNLocationCode": call["UNLocationCode"],
            "facilitySMDGCode": call["facilityCode"],
        },
        "portCall": {"portCallId": call["transportCallID"]},
    }


async def test_posting_again_is_a_duplicate(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write")
    event = adapted(mscu_visit)
    assert (
        await writable_client.post(PATH, json=[event], headers=bearer(token))
    ).status_code == 201
    again = await writable_client.post(PATH, json=[event], headers=bearer(token))
    assert again.status_code == 200
    assert again.json()["results"] == [
        {"index": 0, "eventID": event["eventID"], "outcome": "DUPLICATE"}
    ]


async def test_a_refused_batch_answers_each_event_in_dcsa_error_shape(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit, writable_url: str
) -> None:
    cosu_visit = await first_visit(writable_url, "COSU", "IMPORT", "ON_VESSEL")
    token = tokens.mint("COSU", "events:write")
    mine = equipment_event(cosu_visit, "DISC", "EST")
    theirs = equipment_event(mscu_visit, "DISC", "EST")
    response = await writable_client.post(PATH, json=[mine, theirs], headers=bearer(token))
    assert response.status_code == 404
    body = response.json()
    assert {k: body[k] for k in ("httpMethod", "requestUri", "statusCode", "statusCodeText")} == {
        "httpMethod": "POST",
        "requestUri": PATH,
        "statusCode": 404,
        "statusCodeText": "Not Found",
    }
    reason = "matches no container visit, port call or document you may publish for"
    assert body["errors"] == [
        {
            "property": "[1].equipmentReference",
            "errorCodeText": "NOT_FOUND",
            "errorCodeMessage": reason,
        }
    ]
    assert (body["stored"], body["accepted"], body["rejected"]) == (False, 0, 1)
    assert body["results"] == [
        {"index": 0, "eventID": mine["eventID"], "outcome": "NOT_STORED"},
        {
            "index": 1,
            "eventID": theirs["eventID"],
            "outcome": "REJECTED",
            "code": "NOT_FOUND",
            "property": "equipmentReference",
            "reason": reason,
        },
    ]
    await flush_audit(writable_client)
    connection = await asyncpg.connect(writable_url)
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM cargo.event WHERE event_id = ANY($1::uuid[])",
            [uuid.UUID(mine["eventID"]), uuid.UUID(theirs["eventID"])],
        )
        audited = await connection.fetch(
            "SELECT organization_code, operation_name, denials::text FROM community.audit_event"
            " WHERE writes IS NOT NULL"
        )
    finally:
        await connection.close()
    assert stored == 0
    assert [tuple(r) for r in audited] == [
        ("COSU", f"POST {PATH}", '{"Mutation.publishEvents": 1}')
    ]


async def test_an_invalid_event_is_400_naming_its_index_and_property(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write")
    bad = adapted(mscu_visit, emptyIndicatorCode="FULL")
    response = await writable_client.post(PATH, json=[bad], headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "property": "[0].emptyIndicatorCode",
            "errorCodeText": "INVALID",
            "errorCodeMessage": "'FULL' is not one of EMPTY, LADEN",
        }
    ]


@pytest.mark.parametrize(
    ("content", "headers", "status", "message"),
    [
        (b"[{", {"Content-Type": "application/json"}, 400, "the request body is not valid JSON"),
        (
            b'{"eventID": "x"}',
            {"Content-Type": "application/json"},
            400,
            "the body must be a JSON array of DCSA T&T 2.2 events",
        ),
        (b"[]", {"Content-Type": "text/plain"}, 415, "Content-Type must be application/json"),
    ],
)
async def test_a_body_that_is_no_event_array_is_refused(
    writable_client: httpx.AsyncClient,
    tokens: Tokens,
    content: bytes,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    token = tokens.mint("MSCU", "events:write")
    response = await writable_client.post(
        PATH, content=content, headers={**headers, **bearer(token)}
    )
    assert response.status_code == status
    assert response.json()["errors"] == [
        {"errorCodeText": response.json()["statusCodeText"], "errorCodeMessage": message}
    ]


async def test_more_than_a_thousand_events_is_400(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("MSCU", "events:write")
    response = await writable_client.post(PATH, json=[{}] * 1_001, headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["statusCodeMessage"] == "at most 1,000 events per call, got 1,001"


async def test_tokens_and_scopes_are_checked_as_rfc_6750_says(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    anonymous = await writable_client.post(PATH, json=[])
    assert (anonymous.status_code, anonymous.headers["WWW-Authenticate"]) == (401, "Bearer")
    reader = tokens.mint("MSCU", "cargo:read")
    unscoped = await writable_client.post(PATH, json=[], headers=bearer(reader))
    assert unscoped.status_code == 403
    assert unscoped.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="events:write"'
    )
    forged = await writable_client.get(PATH, headers=bearer(reader + "x"))
    assert forged.status_code == 401
    assert forged.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    writer = tokens.mint("MSCU", "events:write")
    no_read = await writable_client.get(PATH, headers=bearer(writer))
    assert no_read.status_code == 403


async def test_get_walks_the_feed_with_cursor_headers_as_the_graphql_feed_does(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("MSCU", "cargo:read")
    dcsa_ids: list[str] = []
    params: dict[str, str] = {"limit": "100"}
    pages = 0
    while True:
        response = await app_client.get(PATH, params=params, headers=bearer(token))
        assert response.status_code == 200, response.json()
        pages += 1
        dcsa_ids += [e["eventID"] for e in response.json()]
        assert response.headers["First-Page"]
        if "Next-Page" not in response.headers:
            break
        params = {"limit": "100", "cursor": response.headers["Next-Page"]}
    graphql_ids: list[str] = []
    after = None
    while True:
        data = await api.data(EVENT_FEED, {"first": 100, "after": after}, token)
        graphql_ids += [edge["node"]["eventID"] for edge in data["events"]["edges"]]
        if not data["events"]["pageInfo"]["hasNextPage"]:
            break
        after = data["events"]["pageInfo"]["endCursor"]
    assert pages > 2
    assert dcsa_ids == graphql_ids


async def test_get_filters_as_the_spec_says(app_client: httpx.AsyncClient, tokens: Tokens) -> None:
    token = tokens.mint("POLA", "cargo:read")
    params = {"eventType": "TRANSPORT", "transportEventTypeCode": "ARRIVED", "limit": "20"}
    response = await app_client.get(PATH, params=params, headers=bearer(token))
    events = response.json()
    assert len(events) == 20
    assert {(e["eventType"], e["transportEventTypeCode"]) for e in events} == {
        ("TRANSPORT", "ARRI")
    }
    created = [instant(e["eventCreatedDateTime"]) for e in events]
    assert created == sorted(created)
    since = created[10].isoformat()
    later = await app_client.get(
        PATH, params={**params, "eventCreatedDateTime:gte": since}, headers=bearer(token)
    )
    assert [e["eventID"] for e in later.json()][:10] == [e["eventID"] for e in events[10:]]
    nothing = {"shipmentEventTypeCode": "DRFT", "equipmentEventTypeCode": "GTIN"}
    contradicting = await app_client.get(PATH, params=nothing, headers=bearer(token))
    assert (contradicting.status_code, contradicting.json()) == (200, [])


@pytest.mark.parametrize(
    ("params", "prop", "message"),
    [
        ({"colour": "red"}, "colour", "colour is not a query parameter of GET /v2/events"),
        (
            {"carrierVoyageNumber": "2103S"},
            "carrierVoyageNumber",
            "carrierVoyageNumber is not supported by this server",
        ),
        ({"eventType": "CARGO"}, "eventType", "'CARGO' is not a eventType value"),
        ({"limit": "0"}, "limit", "limit must be a whole number from 1 to 100"),
        ({"cursor": "bm9wZQ"}, "cursor", "the cursor is not one this server gave"),
        (
            {"cursor": "e30", "eventType": "SHIPMENT"},
            "cursor",
            "send either a cursor or filters, not both",
        ),
        (
            {"equipmentReference": "MSCU1234567"},
            "equipmentReference",
            "MSCU1234567 fails the ISO 6346 check digit (expected 6)",
        ),
        (
            {"eventCreatedDateTime:gte": "yesterday"},
            "eventCreatedDateTime:gte",
            "'yesterday' is not an ISO 8601 date-time with offset",
        ),
        (
            {"sort": "eventDateTime:DESC"},
            "sort",
            "events are sorted by eventCreatedDateTime:ASC only",
        ),
        (
            {"eventCreatedDateTime:lt": "0001-01-01T00:00:00+14:00"},
            "eventCreatedDateTime:lt",
            "'0001-01-01T00:00:00+14:00' is out of range once converted to UTC",
        ),
    ],
)
async def test_get_refuses_what_it_cannot_answer_naming_the_parameter(
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    params: dict[str, str],
    prop: str,
    message: str,
) -> None:
    token = tokens.mint("POLA", "cargo:read")
    response = await app_client.get(PATH, params=params, headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"errorCodeText": "Bad Request", "property": prop, "errorCodeMessage": message}
    ]


async def test_a_batch_that_waits_past_the_statement_timeout_is_503_and_stores_nothing(
    impatient_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit, writable_url: str
) -> None:
    token = tokens.mint("MSCU", "events:write")
    event = equipment_event(mscu_visit, "DISC")
    async with held_visit(writable_url, mscu_visit.id):
        response = await impatient_client.post(PATH, json=[event], headers=bearer(token))
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert response.json()["statusCodeMessage"] == (
        "the database took too long to answer; nothing was stored: try again"
    )
    retried = await impatient_client.post(PATH, json=[event], headers=bearer(token))
    assert retried.status_code == 201


# --- Hostile values (found by the fuzzer, tests/fuzz/): a 400, never a 500 -------------------


def sent(body: object) -> bytes:
    """JSON as the wire may carry it: lone surrogates and NUL as escapes (httpx's `json=`
    cannot encode a lone surrogate)."""
    return json.dumps(body).encode()


def cursor(state: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "state",
    [
        {"f": {}, "k": ["0001-01-01T00:00:00+14:00", str(uuid.UUID(int=1))]},
        {"f": {}, "k": ["9999-12-31T23:59:59-14:00", str(uuid.UUID(int=1))]},
    ],
)
async def test_a_cursor_past_utcs_range_is_400(
    app_client: httpx.AsyncClient, tokens: Tokens, state: object
) -> None:
    token = tokens.mint("POLA", "cargo:read")
    params = {"cursor": cursor(state)}
    response = await app_client.get(PATH, params=params, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert response.json()["statusCodeMessage"] == (
        "a value cannot be stored or compared (out of range or invalid characters)"
    )


async def test_an_event_id_with_a_lone_surrogate_is_echoed_as_an_escape(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write")
    headers = {**bearer(token), "Content-Type": "application/json"}
    event = adapted(mscu_visit, eventID="\ud800")
    response = await writable_client.post(PATH, content=sent([event]), headers=headers)
    assert response.status_code == 400, response.text
    assert b"\\ud800" in response.content  # JSON's escape: the body is ASCII
    assert response.json()["results"][0]["eventID"] == "\ud800"


@pytest.mark.parametrize(("key", "shown"), [("\x00", "\\x00"), ("\ud800", "\\ud800")])
async def test_an_unknown_key_that_postgresql_cannot_store_is_refused_and_audited(
    writable_client: httpx.AsyncClient,
    tokens: Tokens,
    mscu_visit: Visit,
    writable_url: str,
    key: str,
    shown: str,
) -> None:
    token = tokens.mint("MSCU", "events:write")
    headers = {**bearer(token), "Content-Type": "application/json"}
    event = adapted(mscu_visit, **{key: "x"})
    response = await writable_client.post(PATH, content=sent([event]), headers=headers)
    assert response.status_code == 400, response.text
    assert [e["property"] for e in response.json()["errors"]] == [f"[0].{shown}"]
    await flush_audit(writable_client)
    connection = await asyncpg.connect(writable_url)
    try:
        writes = await connection.fetchval(
            "SELECT writes FROM community.audit_event WHERE operation_name = $1",
            f"POST {PATH}",
        )
    finally:
        await connection.close()
    assert json.loads(writes)["rejected"] == [{"index": 0, "code": "INVALID", "field": shown}]


async def test_a_nul_in_a_stored_value_is_400_and_stores_nothing(
    writable_client: httpx.AsyncClient, tokens: Tokens, mscu_visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write", "cargo:read")
    headers = {**bearer(token), "Content-Type": "application/json"}
    event = adapted(mscu_visit, seals=[{"sealNumber": "VKF\x004567", "sealType": "WIR"}])
    response = await writable_client.post(PATH, content=sent([event]), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["statusCodeMessage"] == (
        "a value cannot be stored or compared (out of range or invalid characters)"
    )
    params = {"equipmentReference": mscu_visit.equipment_reference}
    stored = await writable_client.get(PATH, params=params, headers=bearer(token))
    assert event["eventID"] not in {e["eventID"] for e in stored.json()}
