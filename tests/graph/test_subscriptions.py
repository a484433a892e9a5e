"""Subscriptions over graphql-transport-ws (issue 11), against `harborgraph serve` processes on
one copy of the seeded database: delivery across replicas, resuming, isolation, token
expiry and the protocol's refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from graph.demo import mint_dev_token
from graph.settings import load_settings
from tests.dcsa_events import (
    VISITS,
    Visit,
    equipment_event,
    shipment_event,
    transport_event,
    visits,
)
from tests.servers import Server, server_env

EVENTS = """
subscription Events($after: String, $filter: EventFilter) {
  events(after: $after, filter: $filter) { cursor node { eventID eventType } }
}
"""
QUERY_EVENTS = """
query Seen($after: String) {
  events(first: 100, after: $after, filter: {createdAfter: "2026-03-02T00:00:00Z"}) {
    edges { node { eventID } } pageInfo { hasNextPage endCursor }
  }
}
"""
RECEIVE_SECONDS = 20.0
PROTOCOL = Subprotocol("graphql-transport-ws")


def server_for(url: str, folder: Path, data: Path, **extra: str) -> Server:
    folder.mkdir()
    # One data directory (one development key) and one issuer for every replica.
    env = server_env(url, data, HARBORGRAPH_JWT_ISSUER="https://harborgraph.test", **extra)
    return Server(url, env, folder)


@pytest.fixture
async def replicas(writable_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    limit = {"HARBORGRAPH_MAX_SUBSCRIPTIONS": "3"}
    servers = [
        server_for(writable_url, tmp_path / f"replica{n}", tmp_path / "data", **limit)
        for n in (1, 2)
    ]
    try:
        await asyncio.gather(*(s.start() for s in servers))
        yield servers
    finally:
        await asyncio.gather(*(s.stop() for s in servers))


def token(server: Server, org: str, *scopes: str, ttl: int = 600) -> str:
    return mint_dev_token(load_settings(server.env), org=org, scopes=scopes, ttl=ttl)


def ws_url(server: Server) -> str:
    return server.base.replace("http://", "ws://") + "/graphql"


async def connect(server: Server, bearer: str | None) -> ClientConnection:
    socket = await websockets.connect(ws_url(server), subprotocols=[PROTOCOL])
    payload = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    return socket


async def subscribe(
    server: Server, bearer: str | None, after: str | None = None, operation: str = "1"
) -> ClientConnection:
    socket = await connect(server, bearer)
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    await send_subscribe(socket, operation, after)
    return socket


async def send_subscribe(socket: ClientConnection, operation: str, after: str | None) -> None:
    variables = {"after": after}
    payload = {"query": EVENTS, "variables": variables, "operationName": "Events"}
    await socket.send(json.dumps({"type": "subscribe", "id": operation, "payload": payload}))


async def receive(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` `events` edges."""
    return [data["events"] for data in await nexts(socket, count)]


async def nothing_more(socket: ClientConnection, seconds: float = 1.5) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            raise AssertionError(await socket.recv())


async def publish(server: Server, bearer: str, events: Sequence[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        response = await client.post(
            "/dcsa/tnt/v2/events", json=list(events), headers={"Authorization": f"Bearer {bearer}"}
        )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == len(events), response.text


async def carrier_visits(url: str, scac: str) -> list[Visit]:
    connection = await asyncpg.connect(url)
    try:
        return await visits(connection, scac, "IMPORT", "ON_VESSEL")
    finally:
        await connection.close()


def estimates(boxes: Sequence[Visit], count: int) -> list[dict[str, Any]]:
    return [equipment_event(boxes[n % len(boxes)], "DISC", "EST") for n in range(count)]


def ids(edges: Sequence[dict[str, Any]]) -> list[str]:
    return [edge["node"]["eventID"] for edge in edges]


async def test_a_subscriber_on_one_replica_receives_what_the_other_stores_in_order(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    boxes = await carrier_visits(writable_url, "MSCU")
    publisher = token(second, "MSCU", "events:write")
    await publish(second, publisher, estimates(boxes, 5))  # before: not sent (no `after`)
    socket = await subscribe(first, token(first, "MSCU", "cargo:read"))
    await asyncio.sleep(0.5)  # the subscription is live before anything is published
    batches = [estimates(boxes, 100) for _ in range(10)]
    await asyncio.gather(*(publish(second, publisher, batch) for batch in batches[:5]))
    for batch in batches[5:]:
        await publish(second, publisher, batch)
    edges = await receive(socket, 1_000)
    await nothing_more(socket)
    await socket.close()
    received = ids(edges)
    assert sorted(received) == sorted(e["eventID"] for b in batches for e in b)
    assert len(set(received)) == 1_000
    # Each batch arrives whole and in its own order; the last five in publish order.
    chunks = [received[i : i + 100] for i in range(0, 1_000, 100)]
    assert sorted(chunks) == sorted([e["eventID"] for e in b] for b in batches)
    assert chunks[5:] == [[e["eventID"] for e in b] for b in batches[5:]]


async def test_a_subscriber_that_comes_back_with_its_cursor_misses_nothing(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    boxes = await carrier_visits(writable_url, "MSCU")
    reader, publisher = token(first, "MSCU", "cargo:read"), token(second, "MSCU", "events:write")
    socket = await subscribe(first, reader)
    await asyncio.sleep(0.5)
    await publish(second, publisher, estimates(boxes, 3))
    seen = await receive(socket, 3)
    await socket.close()
    missed = estimates(boxes, 200)
    for n in range(0, 200, 50):
        await publish(second, publisher, missed[n : n + 50])
    socket = await subscribe(first, reader, after=seen[-1]["cursor"])
    edges = await receive(socket, 200)
    await nothing_more(socket)
    await socket.close()
    assert ids(edges) == [e["eventID"] for e in missed]


async def test_a_query_cursor_resumes_after_the_event_it_names(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    boxes = await carrier_visits(writable_url, "MSCU")
    reader, publisher = token(first, "MSCU", "cargo:read"), token(second, "MSCU", "events:write")
    before, after = estimates(boxes, 5), estimates(boxes, 7)
    await publish(second, publisher, before)
    await publish(second, publisher, after)
    events = [*before, *after]
    socket = await subscribe(first, reader, after=await query_cursor(first, reader, before[-1]))
    edges = await receive(socket, 7)
    await nothing_more(socket)
    await socket.close()
    assert ids(edges) == [e["eventID"] for e in events[5:]]


async def query_cursor(server: Server, bearer: str, event: dict[str, Any]) -> str:
    """The `events` query's cursor of one event (the feed is ordered by creation time)."""
    query = """
    query One($reference: String!) {
      events(first: 100, filter: {equipmentReference: $reference}) {
        edges { cursor node { eventID } }
      }
    }"""
    async with httpx.AsyncClient(base_url=server.base) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"reference": event["equipmentReference"]}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
    edges = response.json()["data"]["events"]["edges"]
    (cursor,) = [e["cursor"] for e in edges if e["node"]["eventID"] == event["eventID"]]
    assert isinstance(cursor, str)
    return cursor


async def query_seen(server: Server, bearer: str, published: set[str]) -> list[str]:
    """Of the published events, those the `events` query shows this partner."""
    seen: list[str] = []
    after: str | None = None
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        while True:
            response = await client.post(
                "/graphql",
                json={"query": QUERY_EVENTS, "variables": {"after": after}},
                headers={"Authorization": f"Bearer {bearer}"},
            )
            page = response.json()["data"]["events"]
            seen += [e["node"]["eventID"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return [i for i in seen if i in published]
            after = page["pageInfo"]["endCursor"]


# The trucker with the most MSCU visits it may see (a granting appointment), and those visits.
TRUCKER_VISITS = f"""
WITH granted AS (
    SELECT o.code, cv.id
    FROM gate.appointment a
    JOIN community.organization o ON o.kind = 'TRUCKER' AND o.scac = a.trucker_scac
    JOIN cargo.container_visit cv
        ON cv.equipment_reference = a.equipment_reference AND cv.unlocode = a.unlocode
       AND cv.smdg_code = a.smdg_code
    WHERE cv.carrier_scac = 'MSCU' AND a.status <> 'CANCELLED'
      AND (a.slot_start IS NULL OR a.status IN ('ARRIVED', 'COMPLETED'))
), busiest AS (
    SELECT code FROM granted GROUP BY code ORDER BY count(*) DESC, code LIMIT 1
)
SELECT b.code, v.*
FROM busiest b
JOIN ({
    VISITS.replace(
        "WHERE cv.carrier_scac = $1 AND cv.direction = $2 AND cv.status = $3",
        "WHERE cv.id IN (SELECT g.id FROM granted g)",
    )
}) v
    ON v.id IN (SELECT g.id FROM granted g WHERE g.code = b.code)
ORDER BY v.id
LIMIT 100
"""


async def trucker_visits(url: str) -> tuple[str, list[Visit]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(TRUCKER_VISITS)
    finally:
        await connection.close()
    fields = Visit.__dataclass_fields__
    return rows[0]["code"], [Visit(**{n: r[n] for n in fields}) for r in rows]


async def operated_calls(url: str, scac: str) -> set[uuid.UUID]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT id FROM vessel.port_call WHERE carrier_scac = $1", scac
        )
    finally:
        await connection.close()
    return {r["id"] for r in rows}


async def test_each_partner_receives_exactly_what_the_events_query_shows_it(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    mscu, cosu = (
        await carrier_visits(writable_url, "MSCU"),
        await carrier_visits(writable_url, "COSU"),
    )
    trucker, trucked = await trucker_visits(writable_url)
    readers = {org: token(first, org, "cargo:read") for org in ("MSCU", "COSU", trucker)}
    sockets = {org: await subscribe(first, bearer) for org, bearer in readers.items()}
    await asyncio.sleep(0.5)
    # Mixed: equipment events, transport events of MSCU's own calls, shipment events of its
    # bills of lading.
    operated = [v for v in mscu if v.port_call_id in await operated_calls(writable_url, "MSCU")]
    documented = [v for v in mscu if v.transport_document_reference is not None]
    published = {
        "MSCU": [
            *estimates(mscu, 300),
            *(transport_event(operated[n % len(operated)]) for n in range(50)),
            *(shipment_event(documented[n % len(documented)]) for n in range(50)),
            *estimates(trucked, 100),
        ],
        "COSU": estimates(cosu, 500),
    }
    for org, events in published.items():
        bearer = token(second, org, "events:write")
        for n in range(0, 500, 100):
            await publish(second, bearer, events[n : n + 100])
    all_ids = {e["eventID"] for events in published.values() for e in events}
    seen = {org: await query_seen(first, bearer, all_ids) for org, bearer in readers.items()}
    for org, socket in sockets.items():
        edges = await receive(socket, len(seen[org]))
        await nothing_more(socket)
        await socket.close()
        assert sorted(ids(edges)) == sorted(seen[org]), org
    assert sorted(seen["MSCU"]) == sorted(e["eventID"] for e in published["MSCU"])
    assert sorted(seen["COSU"]) == sorted(e["eventID"] for e in published["COSU"])
    assert 0 < len(seen[trucker]) < len(all_ids)  # its appointed boxes' only


async def test_the_socket_closes_with_4401_when_the_token_expires(replicas: list[Server]) -> None:
    first, _ = replicas
    socket = await subscribe(first, token(first, "MSCU", "cargo:read", ttl=2))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            await socket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4401,
        "Unauthorized: the token expired",
    )


async def test_a_bad_token_closes_with_4403(replicas: list[Server]) -> None:
    first, _ = replicas
    socket = await connect(first, "not.a.token")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await socket.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_events_without_a_token_are_refused(replicas: list[Server]) -> None:
    first, _ = replicas
    socket = await subscribe(first, None)
    message = json.loads(await socket.recv())
    await socket.close()
    assert message["type"] == "error"
    assert message["id"] == "1"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["UNAUTHORIZED_FIELD_OR_TYPE"]


async def test_a_partner_holds_at_most_the_configured_subscriptions(
    replicas: list[Server],
) -> None:
    first, _ = replicas  # HARBORGRAPH_MAX_SUBSCRIPTIONS=3
    socket = await subscribe(first, token(first, "MSCU", "cargo:read"))
    for operation in ("2", "3", "4"):
        await send_subscribe(socket, operation, None)
    message = json.loads(await socket.recv())
    assert message["type"] == "error"
    assert message["id"] == "4"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["TOO_MANY_SUBSCRIPTIONS"]
    await socket.send(json.dumps({"type": "complete", "id": "2"}))
    await asyncio.sleep(0.2)
    await send_subscribe(socket, "5", None)
    await nothing_more(socket, 1.0)  # accepted: no error, and nothing published
    await socket.close()


async def test_the_subscription_limit_counts_every_replica(replicas: list[Server]) -> None:
    first, second = replicas  # HARBORGRAPH_MAX_SUBSCRIPTIONS=3 on both
    here = await subscribe(first, token(first, "MSCU", "cargo:read"))
    await send_subscribe(here, "2", None)
    await asyncio.sleep(0.3)
    there = await subscribe(second, token(second, "MSCU", "cargo:read"))  # the third
    await send_subscribe(there, "2", None)  # a fourth
    async with asyncio.timeout(5):
        message = json.loads(await there.recv())
    assert (message["type"], message["id"]) == ("error", "2")
    assert [e["extensions"]["code"] for e in message["payload"]] == ["TOO_MANY_SUBSCRIPTIONS"]
    await here.send(json.dumps({"type": "complete", "id": "2"}))
    await asyncio.sleep(0.3)
    await send_subscribe(there, "3", None)  # room again
    await nothing_more(there, 1.0)
    other = await subscribe(second, token(second, "COSU", "cargo:read"))  # another partner
    await nothing_more(other, 0.5)
    for socket in (here, there, other):
        await socket.close()


@pytest.mark.parametrize(
    ("messages", "code"),
    [
        ([{"type": "subscribe", "id": "1", "payload": {"query": "{__typename}"}}], 4401),
        ([{"type": "connection_init"}, {"type": "connection_init"}], 4429),
        ([{"type": "connection_init"}, {"type": "mystery"}], 4400),
        (["not json"], 4400),
    ],
)
async def test_protocol_breaches_close_the_socket_with_their_code(
    replicas: list[Server], messages: list[Any], code: int
) -> None:
    first, _ = replicas
    socket = await websockets.connect(ws_url(first), subprotocols=[PROTOCOL])
    for message in messages:
        await socket.send(message if isinstance(message, str) else json.dumps(message))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await drain(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code


async def drain(socket: ClientConnection) -> None:
    async with asyncio.timeout(5):
        while True:
            await socket.recv()


async def test_the_same_operation_id_twice_closes_with_4409(replicas: list[Server]) -> None:
    first, _ = replicas
    socket = await subscribe(first, token(first, "MSCU", "cargo:read"))
    await send_subscribe(socket, "1", None)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            await socket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4409,
        "Subscriber for 1 already exists",
    )


# --- Port calls, gate activity, advisories ----------------------------------------------------

PLANNED_CALLS = """
SELECT DISTINCT ON (pc.carrier_scac) pc.id, pc.carrier_scac
FROM vessel.port_call pc
WHERE pc.status = 'PLANNED'
ORDER BY pc.carrier_scac, pc.estimated_arrival, pc.id
"""
PORT_CALL_UPDATES = """
subscription Calls($after: String) {
  portCallUpdates(filter: {carrier: "HLCU"}, after: $after) {
    cursor node { portCallId carrier }
  }
}
"""
PUBLISH_TIMESTAMP = """
mutation Time($input: PortCallTimestampInput!) { publishPortCallTimestamp(input: $input) { outcome } }
"""
GATE_ACTIVITY = """
subscription Gates { gateActivity(terminal: {smdgCode: "APMT"}) { node { lane turnTimeMinutes } } }
"""
RECORD_MOVE = """
mutation Record($input: RecordGateTransactionInput!) { recordGateTransaction(input: $input) { outcome } }
"""
ADVISORIES = "subscription Advice { advisories { node { reference tlp } } }"
PUBLISH_ADVISORY = """
mutation Advise($input: PublishAdvisoryInput!) { publishAdvisory(input: $input) { outcome } }
"""


async def open_stream(
    server: Server, bearer: str | None, query: str, variables: dict[str, Any] | None = None
) -> ClientConnection:
    socket = await connect(server, bearer)
    assert json.loads(await socket.recv()) == {"type": "connection_ack"}
    payload = {"query": query, "variables": variables or {}}
    await socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
    return socket


async def nexts(socket: ClientConnection, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(RECEIVE_SECONDS):
        while len(found) < count:
            message = json.loads(await socket.recv())
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.append(message["payload"]["data"])
    return found


async def mutate(server: Server, bearer: str, query: str, given: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=server.base) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": {"input": given}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
    data = response.json()["data"]
    (outcome,) = [value["outcome"] for value in data.values()]
    assert isinstance(outcome, str)
    return outcome


def berth_timestamp(call_id: uuid.UUID, classifier: str, at: str) -> dict[str, Any]:
    return {
        "timestampID": str(uuid.uuid4()),
        "portCallID": str(call_id),
        "portCallServiceTypeCode": "BERTH",
        "portCallServiceEventTypeCode": "ARRI",
        "classifierCode": classifier,
        "dateTime": at,
    }


async def test_port_call_updates_follow_each_timestamp_of_the_filtered_carrier(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    connection = await asyncpg.connect(writable_url)
    try:
        calls = {r["carrier_scac"]: r["id"] for r in await connection.fetch(PLANNED_CALLS)}
    finally:
        await connection.close()
    socket = await open_stream(first, None, PORT_CALL_UPDATES)  # the schedule is public
    await asyncio.sleep(0.5)
    other = next(carrier for carrier in calls if carrier != "HLCU")
    for carrier, at in (
        ("HLCU", "2026-03-10T06:00:00+00:00"),
        (other, "2026-03-10T07:00:00+00:00"),
        ("HLCU", "2026-03-10T08:00:00+00:00"),
    ):
        bearer = token(second, carrier, "vessel:read", "portcall:write")
        given = berth_timestamp(calls[carrier], "EST", at)
        assert await mutate(second, bearer, PUBLISH_TIMESTAMP, given) == "ACCEPTED"
    updates = await nexts(socket, 2)
    await nothing_more(socket)
    nodes = [u["portCallUpdates"]["node"] for u in updates]
    assert nodes == [{"portCallId": str(calls["HLCU"]), "carrier": "HLCU"}] * 2
    # The second edge's cursor resumes after it: nothing more; the first's, the second again.
    cursor = updates[0]["portCallUpdates"]["cursor"]
    await socket.close()
    again = await open_stream(first, None, PORT_CALL_UPDATES, {"after": cursor})
    assert [u["portCallUpdates"]["node"] for u in await nexts(again, 1)] == nodes[1:]
    await nothing_more(again)
    await again.close()


async def test_gate_activity_shows_a_terminal_its_own_gates_in_and_out(
    replicas: list[Server],
) -> None:
    first, second = replicas
    own = await open_stream(first, token(first, "USLAX-APMT", "gate:read"), GATE_ACTIVITY)
    other = await open_stream(first, token(first, "USLAX-WBCT", "gate:read"), GATE_ACTIVITY)
    await asyncio.sleep(0.5)
    came = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    move = {
        "transactionReference": "APMT-LANE4-0001",
        "lane": "4",
        "truckerScac": "BYLC",
        "moveType": "EMPTY_PICKUP",
        "gateInAt": came.isoformat(),
    }
    writer = token(second, "USLAX-APMT", "gate:write")
    assert await mutate(second, writer, RECORD_MOVE, move) == "ACCEPTED"
    left = {**move, "gateOutAt": (came + dt.timedelta(minutes=38)).isoformat()}
    assert await mutate(second, writer, RECORD_MOVE, left) == "ACCEPTED"
    assert await mutate(second, writer, RECORD_MOVE, left) == "DUPLICATE"  # changes nothing
    updates = await nexts(own, 2)
    await nothing_more(own)
    assert [u["gateActivity"]["node"] for u in updates] == [
        {"lane": "4", "turnTimeMinutes": None},
        {"lane": "4", "turnTimeMinutes": 38},
    ]
    await nothing_more(other, 0.5)  # another terminal's subscriber: not its gates
    await own.close()
    await other.close()


async def test_advisories_reach_each_subscriber_by_its_tlp_scopes(replicas: list[Server]) -> None:
    first, second = replicas
    restricted = token(first, "USLAX-APMT", "security:read", "security:restricted")
    wide = await open_stream(first, restricted, ADVISORIES)
    narrow = await open_stream(first, token(first, "USLAX-APMT", "security:read"), ADVISORIES)
    await asyncio.sleep(0.5)
    csoc = token(second, "CSOC", "security:write")
    for reference, tlp in (("CRC-2026-0101", "AMBER"), ("CRC-2026-0102", "GREEN")):
        advice = {
            "reference": reference,
            "title": "Phishing wave against terminal operators",
            "summary": "Block the sender domain.",
            "severity": "HIGH",
            "tlp": tlp,
            "affectedSystems": ["email"],
            "facilities": [{"smdgCode": "APMT"}],
            "indicators": [{"type": "DOMAIN", "value": "portlogin-secure.example"}],
        }
        assert await mutate(second, csoc, PUBLISH_ADVISORY, advice) == "ACCEPTED"
    assert [u["advisories"]["node"] for u in await nexts(wide, 2)] == [
        {"reference": "CRC-2026-0101", "tlp": "AMBER"},
        {"reference": "CRC-2026-0102", "tlp": "GREEN"},
    ]
    assert [u["advisories"]["node"] for u in await nexts(narrow, 1)] == [
        {"reference": "CRC-2026-0102", "tlp": "GREEN"},
    ]
    await nothing_more(wide, 0.5)
    await nothing_more(narrow, 0.5)
    await wide.close()
    await narrow.close()


# --- Field rules and limits on subscription documents ----------------------------------------

SEALED = """
subscription Sealed {
  events { node { eventID ... on EquipmentEvent { container { number seals } } } }
}
"""
DEEP = (
    "subscription Deep { events { node { eventID "
    + "... on EquipmentEvent { container { events { nodes { eventID " * 3
    + "} } } }" * 3
    + " } } }"
)


async def test_a_denied_field_is_null_with_its_error_in_that_next_message(
    replicas: list[Server], writable_url: str
) -> None:
    first, second = replicas
    socket = await open_stream(first, token(first, "MSCU", "cargo:read"), SEALED)
    await asyncio.sleep(0.5)
    box = (await carrier_visits(writable_url, "MSCU"))[0]
    event = estimates([box], 1)[0]
    await publish(second, token(second, "MSCU", "events:write"), [event])
    async with asyncio.timeout(RECEIVE_SECONDS):
        message = json.loads(await socket.recv())
    await socket.close()
    assert message["type"] == "next"
    payload = message["payload"]
    assert payload["data"] == {
        "events": {
            "node": {
                "eventID": event["eventID"],
                "container": {"number": box.equipment_reference, "seals": None},
            }
        }
    }
    assert [(e["path"], e["extensions"]["code"]) for e in payload["errors"]] == [
        (["events", "node", "container", "seals"], "UNAUTHORIZED_FIELD_OR_TYPE")
    ]


async def test_the_query_limits_apply_to_subscription_documents(replicas: list[Server]) -> None:
    first, _ = replicas
    socket = await open_stream(first, token(first, "MSCU", "cargo:read"), DEEP)
    async with asyncio.timeout(RECEIVE_SECONDS):
        message = json.loads(await socket.recv())
    await socket.close()
    assert message["type"] == "error"
    assert message["id"] == "1"
    assert [e["message"] for e in message["payload"]] == [
        "'Deep' exceeds maximum operation depth of 10"
    ]
