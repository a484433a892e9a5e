"""Subscriptions for the benchmark (issue 11): 2,000 concurrent `events` subscribers on one
replica (one server process) while 10 events a second are published; publish-to-delivery
latency and the server's memory per idle subscriber. Then across two replicas: a subscriber
on one, 1,000 events published one by one on the other. Not a test: tests/benchmark.py
calls it against its servers.

The subscribers are spread over the carriers (each sees its own boxes' events only); each
event is published by its carrier through `POST /dcsa/tnt/v2/events`, one at a time, the
carriers in turn. A delivery's latency runs from the moment its publish request is sent to
the moment the subscriber's client reads it. Every delivery is checked: each subscriber must
receive exactly its carrier's events, once each.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from tests.bench_ingest import event

SUBSCRIBERS = 2_000
EVENTS_PER_SECOND = 10
SECONDS = 30
CONNECTING_AT_ONCE = 50
SETTLE_SECONDS = 3.0
# After the last publish, how long a late delivery is still waited for (and measured): past
# it, an event is missing.
LAST_DELIVERY_SECONDS = 15.0
PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = json.dumps(
    {
        "type": "subscribe",
        "id": "events",
        "payload": {"query": "subscription { events { cursor node { eventID } } }"},
    }
)
CARRIERS = """
SELECT o.code, o.scac FROM community.organization o
WHERE o.kind = 'CARRIER' AND o.scac IS NOT NULL ORDER BY o.code
"""
VISITS = """
SELECT equipment_reference, port_call_id, unlocode, smdg_code, transport_document_reference
FROM cargo.container_visit WHERE carrier_scac = $1 ORDER BY id LIMIT 50
"""


class SubscriptionsFailed(RuntimeError):
    """A subscriber missed an event, got one twice or got another carrier's."""


@dataclass(slots=True)
class Subscriber:
    carrier: str
    socket: ClientConnection
    received: dict[str, float] = field(default_factory=dict)  # eventID -> when read
    duplicates: int = 0


@dataclass(frozen=True, slots=True)
class SubscriptionResult:
    subscribers: int
    events: int
    deliveries: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    bytes_per_idle_subscriber: float | None


async def carriers_and_visits(url: str) -> dict[str, list[asyncpg.Record]]:
    connection = await asyncpg.connect(url)
    try:
        found = {}
        for row in await connection.fetch(CARRIERS):
            visits = await connection.fetch(VISITS, row["scac"])
            if visits:
                found[row["code"]] = list(visits)
        return found
    finally:
        await connection.close()


async def subscribe(ws_url: str, carrier: str, token: str) -> Subscriber:
    socket = await websockets.connect(ws_url, subprotocols=[PROTOCOL], max_queue=None)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await socket.send(json.dumps(init))
    ack = json.loads(await socket.recv())
    if ack != {"type": "connection_ack"}:
        raise SubscriptionsFailed(f"no connection_ack: {ack}")
    await socket.send(SUBSCRIPTION)
    return Subscriber(carrier, socket)


async def read(subscriber: Subscriber) -> None:
    async for raw in subscriber.socket:
        at = time.perf_counter()
        message = json.loads(raw)
        if message.get("type") != "next" or "errors" in message["payload"]:
            raise SubscriptionsFailed(f"{subscriber.carrier}: {str(message)[:300]}")
        event_id = message["payload"]["data"]["events"]["node"]["eventID"]
        if event_id in subscriber.received:
            subscriber.duplicates += 1
        subscriber.received[event_id] = at


async def connect_all(ws_url: str, tokens: dict[str, str]) -> list[Subscriber]:
    carriers = list(tokens)
    plan = [carriers[n % len(carriers)] for n in range(SUBSCRIBERS)]
    subscribers: list[Subscriber] = []
    for start in range(0, SUBSCRIBERS, CONNECTING_AT_ONCE):
        chunk = plan[start : start + CONNECTING_AT_ONCE]
        subscribers += await asyncio.gather(*(subscribe(ws_url, c, tokens[c]) for c in chunk))
    return subscribers


async def publish_steadily(
    base: str, writers: dict[str, str], visits: dict[str, list[asyncpg.Record]]
) -> dict[str, tuple[str, float]]:
    """EVENTS_PER_SECOND for SECONDS, the carriers in turn; eventID -> (carrier, sent at)."""
    sent: dict[str, tuple[str, float]] = {}
    carriers = list(writers)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for n in range(EVENTS_PER_SECOND * SECONDS):
            await asyncio.sleep(max(0.0, started + n / EVENTS_PER_SECOND - time.perf_counter()))
            carrier = carriers[n % len(carriers)]
            body = event(visits[carrier][n % len(visits[carrier])], n)
            sent[body["eventID"]] = (carrier, time.perf_counter())
            headers = {"Authorization": f"Bearer {writers[carrier]}"}
            response = await client.post("/dcsa/tnt/v2/events", json=[body], headers=headers)
            if response.status_code != 201:
                raise SubscriptionsFailed(f"publish: {response.status_code} {response.text[:300]}")
    return sent


def by_carrier(sent: dict[str, tuple[str, float]]) -> dict[str, set[str]]:
    """Each carrier's events: what each of its subscribers must read, once."""
    found: dict[str, set[str]] = {}
    for event_id, (carrier, _) in sent.items():
        found.setdefault(carrier, set()).add(event_id)
    return found


async def delivered(subscribers: Sequence[Subscriber], sent: dict[str, tuple[str, float]]) -> None:
    """Until every subscriber has read each of its carrier's events, or LAST_DELIVERY_SECONDS
    have passed."""
    expected = by_carrier(sent)
    deadline = time.monotonic() + LAST_DELIVERY_SECONDS
    while time.monotonic() < deadline:
        if all(expected.get(s.carrier, set()) <= s.received.keys() for s in subscribers):
            return
        await asyncio.sleep(0.1)


def latencies(subscribers: Sequence[Subscriber], sent: dict[str, tuple[str, float]]) -> list[float]:
    """Each delivery's latency in ms; raises if any subscriber's events are not exactly its
    carrier's, once each."""
    found: list[float] = []
    events = by_carrier(sent)
    for subscriber in subscribers:
        expected = events.get(subscriber.carrier, set())
        if set(subscriber.received) != expected or subscriber.duplicates:
            missing = len(expected - set(subscriber.received))
            extra = len(set(subscriber.received) - expected)
            raise SubscriptionsFailed(
                f"{subscriber.carrier}: {missing} missing, {extra} not its own, "
                f"{subscriber.duplicates} twice"
            )
        found += [(at - sent[i][1]) * 1000 for i, at in subscriber.received.items()]
    return found


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure_subscriptions(
    base: str,
    url: str,
    readers: dict[str, str],
    writers: dict[str, str],
    server_rss: Callable[[], int | None],
) -> SubscriptionResult:
    """`readers`/`writers`: carrier organization -> token (cargo:read / events:write)."""
    visits = await carriers_and_visits(url)
    readers = {c: t for c, t in readers.items() if c in visits}
    ws_url = base.replace("http://", "ws://") + "/graphql"
    before = server_rss()
    subscribers = await connect_all(ws_url, readers)
    await asyncio.sleep(SETTLE_SECONDS)
    after = server_rss()
    reading = [asyncio.create_task(read(s)) for s in subscribers]
    try:
        sent = await publish_steadily(base, {c: writers[c] for c in readers}, visits)
        await delivered(subscribers, sent)
    finally:
        for task in reading:
            task.cancel()
        await asyncio.gather(*(s.socket.close() for s in subscribers), return_exceptions=True)
    for task in reading:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise SubscriptionsFailed(str(task.exception()))
    found = latencies(subscribers, sent)
    per_idle = None if before is None or after is None else (after - before) / SUBSCRIBERS
    return SubscriptionResult(
        subscribers=SUBSCRIBERS,
        events=len(sent),
        deliveries=len(found),
        p50_ms=statistics.median(found),
        p99_ms=percentile(found, 0.99),
        max_ms=max(found),
        bytes_per_idle_subscriber=per_idle,
    )


# --- Across replicas ----------------------------------------------------------------------

ACROSS_EVENTS = 1_000
ACROSS_PER_SECOND = 50


@dataclass(frozen=True, slots=True)
class AcrossResult:
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float


async def measure_across_replicas(
    subscriber_base: str, publisher_base: str, url: str, carrier: str, reader: str, writer: str
) -> AcrossResult:
    """A subscriber on one replica, ACROSS_EVENTS published one at a time on the other: each
    must arrive once, in publish order."""
    visits = (await carriers_and_visits(url))[carrier]
    ws_url = subscriber_base.replace("http://", "ws://") + "/graphql"
    subscriber = await subscribe(ws_url, carrier, reader)
    reading = asyncio.create_task(read(subscriber))
    await asyncio.sleep(SETTLE_SECONDS)
    sent: dict[str, float] = {}
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(base_url=publisher_base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {writer}"}
            for n in range(ACROSS_EVENTS):
                await asyncio.sleep(max(0.0, started + n / ACROSS_PER_SECOND - time.perf_counter()))
                body = event(visits[n % len(visits)], n)
                sent[body["eventID"]] = time.perf_counter()
                response = await client.post("/dcsa/tnt/v2/events", json=[body], headers=headers)
                if response.status_code != 201:
                    raise SubscriptionsFailed(f"publish: {response.status_code}")
        await asyncio.sleep(SETTLE_SECONDS)
    finally:
        reading.cancel()
        await subscriber.socket.close()
    if list(subscriber.received) != list(sent) or subscriber.duplicates:
        raise SubscriptionsFailed(
            f"across replicas: {len(set(sent) - set(subscriber.received))} missing, "
            f"{subscriber.duplicates} twice, in publish order: "
            f"{list(subscriber.received) == list(sent)}"
        )
    found = [(subscriber.received[i] - at) * 1000 for i, at in sent.items()]
    return AcrossResult(len(found), statistics.median(found), percentile(found, 0.99), max(found))
