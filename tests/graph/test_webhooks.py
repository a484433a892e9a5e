"""DCSA event subscriptions (webhooks, issue 11) against a `harborgraph serve` process: the
spec's endpoints, and deliveries to local receivers (down, then up; failing forever)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from graph.demo import mint_dev_token
from graph.settings import load_settings
from tests.conftest import Tokens
from tests.dcsa_events import Visit, adapted, equipment_event, visits
from tests.servers import Server, free_port, server_env

PATH = "/dcsa/tnt/v2/event-subscriptions"
SECRET = base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = base64.b64encode(b"q" * 48).decode()


@pytest.fixture
async def server(writable_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    backoff = {"HARBORGRAPH_WEBHOOK_MAX_BACKOFF_SECONDS": "2"}
    env = server_env(writable_url, tmp_path / "data", **backoff)
    running = Server(writable_url, env, tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


def token(server: Server, org: str, *scopes: str) -> str:
    return mint_dev_token(load_settings(server.env), org=org, scopes=scopes, ttl=600)


def bearer(server: Server, org: str = "MSCU", *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(server, org, 'cargo:read', *scopes)}"}


@dataclass
class Receiver:
    """A partner's callback: records what it is sent, answers `status`."""

    status: int = 204
    port: int = field(default_factory=free_port)
    received: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback?shipperRef=42"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append((time.monotonic(), headers, body))
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve())
        started = self.server
        await until(lambda: started.started, 10)

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await self.task

    def events(self) -> list[dict[str, Any]]:
        return [e for _, _, body in self.received for e in json.loads(body)]


@contextlib.asynccontextmanager
async def receiving(status: int = 204) -> AsyncIterator[Receiver]:
    receiver = Receiver(status)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def subscribe(
    client: httpx.AsyncClient, server: Server, url: str, **filters: Any
) -> dict[str, Any]:
    body = {"callbackUrl": url, "secret": SECRET, **filters}
    response = await client.post(PATH, json=body, headers=bearer(server))
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def publish(server: Server, org: str, events: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        response = await client.post(
            "/dcsa/tnt/v2/events",
            json=events,
            headers={"Authorization": f"Bearer {token(server, org, 'events:write')}"},
        )
    assert response.status_code == 201, response.text


async def boxes(url: str, carrier: str) -> list[Visit]:
    connection = await asyncpg.connect(url)
    try:
        return await visits(connection, carrier, "IMPORT", "ON_VESSEL")
    finally:
        await connection.close()


def estimates(found: list[Visit], count: int) -> list[dict[str, Any]]:
    return [equipment_event(found[n % len(found)], "DISC", "EST") for n in range(count)]


async def until(check: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.2)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["notification-signature"], f"sha256={expected}")


# --- The endpoints ------------------------------------------------------------------------


async def test_a_partner_makes_reads_alters_and_stops_its_own_subscription(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        url = "http://127.0.0.1:9/callback"
        made = await subscribe(client, server, url, eventType=["EQUIPMENT"])
        sid = made.pop("subscriptionID")
        assert made == {"callbackUrl": url, "eventType": ["EQUIPMENT"]}
        one = await client.get(f"{PATH}/{sid}", headers=bearer(server))
        assert (one.status_code, one.json()) == (200, {"subscriptionID": sid, **made})
        listed = await client.get(PATH, headers=bearer(server))
        assert [s["subscriptionID"] for s in listed.json()] == [sid]
        assert (await client.get(PATH, headers=bearer(server, "COSU"))).json() == []
        for method in ("GET", "DELETE"):
            theirs = await client.request(method, f"{PATH}/{sid}", headers=bearer(server, "COSU"))
            assert theirs.status_code == 404
        change = {"callbackUrl": url, "equipmentEventTypeCode": ["DISC", "LOAD"]}
        altered = await client.put(f"{PATH}/{sid}", json=change, headers=bearer(server))
        assert (altered.status_code, altered.json()) == (200, {"subscriptionID": sid, **change})
        with_secret = await client.put(
            f"{PATH}/{sid}", json={**change, "secret": SECRET}, headers=bearer(server)
        )
        assert with_secret.status_code == 400
        secret = await client.put(
            f"{PATH}/{sid}/secret", json={"secret": OTHER_SECRET}, headers=bearer(server)
        )
        assert secret.status_code == 204
        assert (await client.delete(f"{PATH}/{sid}", headers=bearer(server))).status_code == 204
        assert (await client.get(f"{PATH}/{sid}", headers=bearer(server))).status_code == 404
        assert (await client.get(PATH)).status_code == 401


@pytest.mark.parametrize(
    ("body", "prop"),
    [
        ({"callbackUrl": "http://127.0.0.1:9/"}, "secret"),
        ({"callbackUrl": "http://127.0.0.1:9/", "secret": "not base64!"}, "secret"),
        (
            {"callbackUrl": "http://127.0.0.1:9/", "secret": base64.b64encode(b"x").decode()},
            "secret",
        ),
        ({"secret": SECRET}, "callbackUrl"),
        ({"callbackUrl": "ftp://example.com/", "secret": SECRET}, "callbackUrl"),
        ({"callbackUrl": "http://u:p@example.com/", "secret": SECRET}, "callbackUrl"),
        ({"callbackUrl": "http://127.0.0.1:9/", "secret": SECRET, "colour": "red"}, "colour"),
        (
            {"callbackUrl": "http://127.0.0.1:9/", "secret": SECRET, "carrierVoyageNumber": "1"},
            "carrierVoyageNumber",
        ),
        (
            {"callbackUrl": "http://127.0.0.1:9/", "secret": SECRET, "eventType": "EQUIPMENT"},
            "eventType",
        ),
        (
            {"callbackUrl": "http://127.0.0.1:9/", "secret": SECRET, "eventType": ["BOAT"]},
            "eventType",
        ),
        (
            {"callbackUrl": "http://127.0.0.1:9/", "secret": SECRET, "equipmentReference": "X1"},
            "equipmentReference",
        ),
    ],
)
async def test_a_bad_subscription_is_refused_naming_the_property_and_nothing_is_made(
    server: Server, body: dict[str, Any], prop: str
) -> None:
    async with httpx.AsyncClient(base_url=server.base) as client:
        response = await client.post(PATH, json=body, headers=bearer(server))
        assert response.status_code == 400, response.text
        assert [e["property"] for e in response.json()["errors"]] == [prop]
        assert (await client.get(PATH, headers=bearer(server))).json() == []


async def test_the_list_pages_with_the_spec_headers_current_first_and_next_page(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """T&T 2.2 requires Current-Page on every page (found by the fuzzer, tests/fuzz/)."""
    headers = {"Authorization": f"Bearer {tokens.mint('MSCU', 'cargo:read')}"}
    made = []
    for n in range(3):
        body = {"callbackUrl": f"http://127.0.0.1:9/{n}", "secret": SECRET}
        response = await writable_client.post(PATH, json=body, headers=headers)
        assert response.status_code == 201, response.text
        made.append(response.json()["subscriptionID"])
    first = await writable_client.get(PATH, params={"limit": 2}, headers=headers)
    assert [s["subscriptionID"] for s in first.json()] == made[:2]
    assert first.headers["Current-Page"] == first.headers["First-Page"]
    cursor = first.headers["Next-Page"]
    second = await writable_client.get(PATH, params={"cursor": cursor}, headers=headers)
    assert [s["subscriptionID"] for s in second.json()] == made[2:]
    assert second.headers["Current-Page"] == cursor
    assert second.headers["First-Page"] == first.headers["First-Page"]
    assert "Next-Page" not in second.headers
    again = await writable_client.get(
        PATH, params={"cursor": second.headers["First-Page"], "limit": 2}, headers=headers
    )
    assert again.json() == first.json()


PAST_UTC_CURSOR = base64.urlsafe_b64encode(
    json.dumps(["0001-01-01T00:00:00+14:00", str(uuid.UUID(int=1))]).encode()
).decode()


@pytest.mark.parametrize(
    ("method", "body", "params"),
    [
        ("POST", {"callbackUrl": "http://127.0.0.1:9/\x00", "secret": SECRET}, {}),
        ("POST", {"callbackUrl": "http://127.0.0.1:9/\ud800", "secret": SECRET}, {}),
        ("GET", None, {"cursor": PAST_UTC_CURSOR}),
    ],
)
async def test_values_postgresql_cannot_take_are_400_never_500(
    writable_client: httpx.AsyncClient,
    tokens: Tokens,
    method: str,
    body: object,
    params: dict[str, str],
) -> None:
    """Found by the fuzzer (tests/fuzz/): a NUL or a lone surrogate in a callback, an instant
    past UTC's range in a cursor."""
    headers = {"Authorization": f"Bearer {tokens.mint('MSCU', 'cargo:read')}"}
    content = None if body is None else json.dumps(body).encode()
    if content is not None:
        headers["Content-Type"] = "application/json"
    response = await writable_client.request(
        method, PATH, content=content, params=params, headers=headers
    )
    assert response.status_code == 400, response.text
    listed = await writable_client.get(PATH, headers=headers)
    assert listed.json() == []


# --- Deliveries ---------------------------------------------------------------------------


async def test_a_receiver_down_for_30_s_then_up_gets_every_event_signed(
    server: Server, writable_url: str
) -> None:
    receiver = Receiver()  # not listening yet
    async with httpx.AsyncClient(base_url=server.base) as client:
        made = await subscribe(client, server, receiver.url, eventType=["EQUIPMENT"])
    mscu, cosu = await boxes(writable_url, "MSCU"), await boxes(writable_url, "COSU")
    sent = [estimates(mscu, 50) for _ in range(3)]
    for batch in sent:
        await publish(server, "MSCU", batch)
    await publish(server, "COSU", estimates(cosu, 20))  # not MSCU's: never sent to it
    await asyncio.sleep(30)
    await receiver.start()
    try:
        expected = {e["eventID"] for batch in sent for e in batch}
        await until(lambda: {e["eventID"] for e in receiver.events()} >= expected, 30)
        await asyncio.sleep(1.5)  # nothing else comes
    finally:
        await receiver.stop()
    assert {e["eventID"] for e in receiver.events()} == expected
    for _, headers, body in receiver.received:
        assert verified(SECRET, headers, body)
        assert headers["subscription-id"] == made["subscriptionID"]
        assert headers["api-version"] == "2.2.0"


async def test_a_receiver_failing_forever_is_retried_with_backoff_and_delays_no_one(
    server: Server, writable_url: str
) -> None:
    async with receiving(500) as failing, receiving(204) as healthy:
        async with httpx.AsyncClient(base_url=server.base) as client:
            broken = await subscribe(client, server, failing.url)
            await subscribe(client, server, healthy.url)
        events = estimates(await boxes(writable_url, "MSCU"), 10)
        await publish(server, "MSCU", events)
        await until(lambda: len(healthy.events()) == 10, 10)
        await until(lambda: len(failing.received) >= 4, 20)
    assert [e["eventID"] for e in healthy.events()] == [e["eventID"] for e in events]
    times = [at for at, _, _ in failing.received[:4]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Waits of 2^attempts seconds, at most 2 here (HARBORGRAPH_WEBHOOK_MAX_BACKOFF_SECONDS).
    assert gaps[0] >= 0.9
    assert gaps[1] >= 1.8
    assert gaps[2] >= 1.8
    connection = await asyncpg.connect(writable_url)
    try:
        row = await connection.fetchrow(
            "SELECT attempts, last_failure, ordinal FROM cargo.event_subscription WHERE id = $1",
            uuid.UUID(broken["subscriptionID"]),
        )
    finally:
        await connection.close()
    assert row is not None
    assert row["attempts"] >= 4
    assert row["last_failure"] == "the callback answered 500"
    assert row["ordinal"] == 2**62  # still where it was made: nothing was taken


async def test_seals_and_references_go_only_to_a_subscription_made_with_cargo_commercial(
    server: Server, writable_url: str
) -> None:
    async with receiving() as plain, receiving() as commercial:
        async with httpx.AsyncClient(base_url=server.base) as client:
            await subscribe(client, server, plain.url)
            body = {"callbackUrl": commercial.url, "secret": SECRET}
            headers = bearer(server, "MSCU", "cargo:commercial")
            assert (await client.post(PATH, json=body, headers=headers)).status_code == 201
        event = adapted((await boxes(writable_url, "MSCU"))[0], eventID=str(uuid.uuid4()))
        await publish(server, "MSCU", [event])
        await until(lambda: plain.events() and commercial.events(), 10)
    (sent_plain,) = plain.events()
    (sent_commercial,) = commercial.events()
    assert sent_commercial["seals"] == event["seals"]
    assert sent_commercial["references"] == event["references"]
    assert "seals" not in sent_plain
    assert "references" not in sent_plain
    assert {k: v for k, v in sent_commercial.items() if k not in ("seals", "references")} == (
        sent_plain
    )
