"""The `publishEvents` mutation over HTTP: outcomes per event, the field rule, the limits."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from graph.settings import Settings
from schema.publishing import dcsa_json, strawberry_camel
from tests.conftest import Api, SqlCounter, Tokens, served
from tests.dcsa_events import SPEC_EQUIPMENT_EVENT, Visit, adapted, equipment_event, visits
from tests.helpers import UNAUTHORIZED, answer, flush_audit, held_visit, refused

PUBLISH = """
mutation Publish($events: [EventInput!]!) {
  publishEvents(events: $events) {
    stored accepted duplicates rejected
    results { index eventID outcome code field reason }
  }
}
"""


@pytest.fixture
async def visit(writable_url: str) -> Visit:
    connection = await asyncpg.connect(writable_url)
    try:
        return (await visits(connection, "MSCU", "IMPORT", "ON_VESSEL"))[0]
    finally:
        await connection.close()


def accepted(index: int, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": index,
        "eventID": event["eventID"],
        "outcome": "ACCEPTED",
        "code": None,
        "field": None,
        "reason": None,
    }


async def test_a_carrier_publishes_the_spec_example(
    writable_client: httpx.AsyncClient, tokens: Tokens, visit: Visit, writable_url: str
) -> None:
    token = tokens.mint("MSCU", "events:write")
    event = adapted(visit)
    data, errors = await answer(Api(writable_client), PUBLISH, {"events": [event]}, token)
    assert errors == []
    assert data == {
        "publishEvents": {
            "stored": True,
            "accepted": 1,
            "duplicates": 0,
            "rejected": 0,
            "results": [accepted(0, event)],
        }
    }
    connection = await asyncpg.connect(writable_url)
    try:
        extra = await connection.fetchval(
            "SELECT extra::text FROM cargo.event WHERE event_id = $1", uuid.UUID(event["eventID"])
        )
        audit = await connection.fetchrow(
            "SELECT operation_name, rows_counted, writes::text FROM community.audit_event"
            " WHERE writes IS NOT NULL"
        )
    finally:
        await connection.close()
    assert json.loads(extra)["transportCall"]["carrierVoyageNumber"] == "2103S"
    assert audit is not None
    assert (audit["operation_name"], audit["rows_counted"]) == ("Publish", 1)


async def test_graphql_input_is_the_dcsa_object_it_mirrors(visit: Visit) -> None:
    from schema.publishing import EventInput, TransportCallInput, VesselInput

    event = EventInput(
        event_id="x",
        event_created_date_time="2021-01-09T14:12:56+01:00",
        event_type="EQUIPMENT",
        iso_equipment_code="22GP",
        transport_call=TransportCallInput(
            transport_call_id="y",
            mode_of_transport="VESSEL",
            un_location_code="USLAX",
            vessel=VesselInput(vessel_imo_number="9321483", vessel_name="King of the Seas"),
        ),
    )
    assert dcsa_json(event) == {
        "eventID": "x",
        "eventCreatedDateTime": "2021-01-09T14:12:56+01:00",
        "eventType": "EQUIPMENT",
        "ISOEquipmentCode": "22GP",
        "transportCall": {
            "transportCallID": "y",
            "modeOfTransport": "VESSEL",
            "UNLocationCode": "USLAX",
            "vessel": {"vesselIMONumber": "9321483", "vesselName": "King of the Seas"},
        },
    }
    assert set(SPEC_EQUIPMENT_EVENT) <= {
        strawberry_camel(f.python_name) if f.graphql_name is None else f.graphql_name
        for f in EventInput.__strawberry_definition__.fields  # type: ignore[attr-defined]
    }


async def test_an_invalid_event_is_named_by_index_and_field_and_nothing_is_stored(
    writable_client: httpx.AsyncClient, tokens: Tokens, visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write")
    good = equipment_event(visit, "DISC", "EST")
    bad = {**equipment_event(visit, "AVPU", "EST"), "eventClassifierCode": "MAYBE"}
    data, errors = await answer(Api(writable_client), PUBLISH, {"events": [good, bad]}, token)
    assert errors == []
    assert data["publishEvents"] == {
        "stored": False,
        "accepted": 0,
        "duplicates": 0,
        "rejected": 1,
        "results": [
            {**accepted(0, good), "outcome": "NOT_STORED"},
            {
                "index": 1,
                "eventID": bad["eventID"],
                "outcome": "REJECTED",
                "code": "INVALID",
                "field": "eventClassifierCode",
                "reason": "'MAYBE' is not one of PLN, EST, ACT",
            },
        ],
    }


async def test_publishing_needs_a_token_with_events_write(
    writable_client: httpx.AsyncClient, tokens: Tokens, visit: Visit
) -> None:
    api = Api(writable_client)
    event = equipment_event(visit, "DISC", "EST")
    for token in (None, tokens.mint("MSCU", "cargo:read")):
        data, errors = await answer(api, PUBLISH, {"events": [event]}, token)
        assert data == {"publishEvents": None}
        refused(errors, UNAUTHORIZED, ["publishEvents"])
    await flush_audit(writable_client)


async def test_a_mutation_over_get_is_405(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("MSCU", "events:write")
    response = await writable_client.get(
        "/graphql",
        params={"query": PUBLISH, "variables": json.dumps({"events": []})},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")


async def test_more_than_a_thousand_events_is_bad_user_input(
    writable_client: httpx.AsyncClient, tokens: Tokens, visit: Visit
) -> None:
    token = tokens.mint("MSCU", "events:write")
    event = equipment_event(visit, "DISC", "EST")
    data, errors = await answer(Api(writable_client), PUBLISH, {"events": [event] * 1_001}, token)
    assert data == {"publishEvents": None}
    assert [(e["message"], e["extensions"]["code"], e["path"]) for e in errors] == [
        (
            "`events`: at most 1,000 events per call, got 1,001",
            "BAD_USER_INPUT",
            ["publishEvents"],
        )
    ]


async def test_mutations_are_held_to_the_document_limits(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("MSCU", "events:write")
    fields = " ".join(f"p{i}: publishEvents(events: $e) {{ accepted }}" for i in range(31))
    response = await Api(writable_client).post(
        f"mutation Many($e: [EventInput!]!) {{ {fields} }}", {"e": []}, token
    )
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == ["31 aliases found. Allowed: 30"]


def test_a_mutation_costs_a_page_of_its_results() -> None:
    from graphql import OperationDefinitionNode, parse

    from schema import schema
    from schema.cost import PageCost

    built = schema(True)._schema
    assert built.mutation_type is not None
    document = parse(
        "mutation { a: publishEvents(events: []) { accepted } "
        "b: publishEvents(events: []) { results { index } } }"
    )
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    cost = PageCost(built, {}).cost(operation.selection_set, built.mutation_type)
    assert cost == 2_000


async def test_a_batch_that_waits_past_the_statement_timeout_can_be_sent_again(
    impatient_client: httpx.AsyncClient, tokens: Tokens, visit: Visit, writable_url: str
) -> None:
    token = tokens.mint("MSCU", "events:write")
    api = Api(impatient_client)
    event = equipment_event(visit, "DISC")
    async with held_visit(writable_url, visit.id):
        data, errors = await answer(api, PUBLISH, {"events": [event]}, token)
    assert data == {"publishEvents": None}
    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
        (
            "the database took too long to take the batch; nothing was stored: send it again",
            "SERVICE_UNAVAILABLE",
        )
    ]
    data, errors = await answer(api, PUBLISH, {"events": [event]}, token)
    assert (errors, data["publishEvents"]["accepted"]) == ([], 1)


@pytest.fixture
async def plain_client(
    test_settings: Settings, writable_url: str, sql_counter: SqlCounter
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the same database with every field on strawberry's own resolvers."""
    from graph.database import source_dsns

    settings = dataclasses.replace(test_settings, database_url=writable_url, execution="resolvers")
    async with served(settings, source_dsns(settings, writable_url), sql_counter) as client:
        yield client


STORED = """
SELECT event_type, event_classifier_code, event_datetime, event_created_datetime,
       equipment_event_type_code, equipment_reference, iso_equipment_code, empty_indicator_code,
       transport_document_reference, carrier_booking_reference, carrier_scac, port_call_id,
       vessel_imo, mode_of_transport, unlocode, facility_smdg_code, publisher_code, extra::text
FROM cargo.event WHERE event_id = ANY($1::uuid[]) ORDER BY event_datetime, event_id
"""


def renumbered(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "eventID": str(uuid.uuid4())} for e in events]


async def test_the_coerced_resolver_publishes_as_strawberrys_own_does(
    writable_client: httpx.AsyncClient,
    plain_client: httpx.AsyncClient,
    tokens: Tokens,
    visit: Visit,
    writable_url: str,
) -> None:
    """The compiled schema's publishEvents reads graphql-core's values as they are; the plain
    one converts them to EventInput and back. Same batches, new eventIDs: same outcomes,
    same rows, and the same rows again through DCSA REST."""
    token = tokens.mint("MSCU", "events:write")
    full = adapted(visit, eventDateTime="2026-03-02T07:41:00-08:00")
    sparse = equipment_event(visit, "AVPU", "EST")
    bad = {**equipment_event(visit, "GTOT", "EST"), "equipmentReference": "MSCU1234567"}
    for batch in ([full, sparse], [full, bad]):
        fast_batch, plain_batch, rest_batch = (
            renumbered(batch),
            renumbered(batch),
            renumbered(batch),
        )
        fast = await answer(Api(writable_client), PUBLISH, {"events": fast_batch}, token)
        plain = await answer(Api(plain_client), PUBLISH, {"events": plain_batch}, token)
        rest = await writable_client.post(
            "/dcsa/tnt/v2/events", json=rest_batch, headers={"Authorization": f"Bearer {token}"}
        )
        for results in (fast[0]["publishEvents"]["results"], plain[0]["publishEvents"]["results"]):
            for result in results:
                result.pop("eventID")
        assert fast == plain
        assert rest.json()["stored"] is fast[0]["publishEvents"]["stored"]
        connection = await asyncpg.connect(writable_url)
        try:
            rows = [
                [
                    tuple(r)
                    for r in await connection.fetch(STORED, [uuid.UUID(e["eventID"]) for e in b])
                ]
                for b in (fast_batch, plain_batch, rest_batch)
            ]
        finally:
            await connection.close()
        assert rows[0] == rows[1] == rows[2]
        assert len(rows[0]) == (2 if batch[1] is sparse else 0)
