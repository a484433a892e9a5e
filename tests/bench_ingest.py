"""Ingest throughput for the benchmark (issue 10): DCSA events per second through the
`publishEvents` mutation and through `POST /dcsa/tnt/v2/events`, 4 concurrent publishers
sending batches of 1,000. Not a test: tests/benchmark.py calls it against its server.

Each publisher publishes for its own share of the carrier's visits (as a carrier's systems
would: one per terminal or service), a quarter of its events actual (so the visit's state is
updated in the transaction), the rest estimates and plans. Bodies are made before the clock
starts; every answer is checked (stored, all accepted).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

PUBLISHERS = 4
BATCH = 1_000
BATCHES_PER_PUBLISHER = 10
ROUNDS = 5
VISITS = """
SELECT equipment_reference, port_call_id, unlocode, smdg_code, transport_document_reference
FROM cargo.container_visit WHERE carrier_scac = $1 ORDER BY id
"""
MUTATION = """
mutation Publish($events: [EventInput!]!) { publishEvents(events: $events) { stored accepted } }
"""
DCSA_PATH = "/dcsa/tnt/v2/events"
# (code, classifier): a quarter actual; INSP moves no status but the visit is recomputed.
STEPS = (("INSP", "ACT"), ("GTIN", "EST"), ("LOAD", "PLN"), ("DISC", "EST"))
AT = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


class IngestFailed(RuntimeError):
    """An answer was not "stored, every event accepted"."""


async def carrier_visits(url: str, scac: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(VISITS, scac))
    finally:
        await connection.close()


def event(visit: asyncpg.Record, n: int) -> dict[str, Any]:
    code, classifier = STEPS[n % len(STEPS)]
    at = AT + dt.timedelta(seconds=n)
    return {
        "eventID": str(uuid.uuid4()),
        "eventCreatedDateTime": (at + dt.timedelta(minutes=1)).isoformat(),
        "eventType": "EQUIPMENT",
        "eventClassifierCode": classifier,
        "eventDateTime": at.isoformat(),
        "equipmentEventTypeCode": code,
        "equipmentReference": visit["equipment_reference"],
        "emptyIndicatorCode": "LADEN" if visit["transport_document_reference"] else "EMPTY",
        "transportCall": {
            "transportCallID": str(visit["port_call_id"]),
            "modeOfTransport": "VESSEL",
            "UNLocationCode": visit["unlocode"],
            "facilityCode": visit["smdg_code"],
            "facilityCodeListProvider": "SMDG",
        },
    }


def batches(visits: Sequence[asyncpg.Record], publisher: int) -> list[list[dict[str, Any]]]:
    """A publisher's batches, over its own share of the visits."""
    own = visits[publisher::PUBLISHERS]
    total = BATCH * BATCHES_PER_PUBLISHER
    events = [event(own[n % len(own)], n) for n in range(total)]
    return [events[i : i + BATCH] for i in range(0, total, BATCH)]


def graphql_body(batch: list[dict[str, Any]]) -> bytes:
    return json.dumps({"query": MUTATION, "variables": {"events": batch}}).encode()


def dcsa_body(batch: list[dict[str, Any]]) -> bytes:
    return json.dumps(batch).encode()


def graphql_stored(status: int, body: bytes) -> bool:
    published = (json.loads(body).get("data") or {}).get("publishEvents") or {}
    return status == 200 and published == {"stored": True, "accepted": BATCH}


def dcsa_stored(status: int, body: bytes) -> bool:
    return status == 201 and json.loads(body).get("accepted") == BATCH


@dataclass(frozen=True, slots=True)
class Path:
    name: str
    route: str
    body: Callable[[list[dict[str, Any]]], bytes]
    stored: Callable[[int, bytes], bool]


PATHS = (
    Path("publishEvents", "/graphql", graphql_body, graphql_stored),
    Path("POST /dcsa/tnt/v2/events", DCSA_PATH, dcsa_body, dcsa_stored),
)


async def one_round(base: str, token: str, path: Path, work: list[list[bytes]]) -> float:
    """Seconds for the publishers to have every batch of `work` stored."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def publisher(client: httpx.AsyncClient, bodies: list[bytes]) -> None:
        for body in bodies:
            response = await client.post(path.route, content=body, headers=headers)
            if not path.stored(response.status_code, response.content):
                raise IngestFailed(f"{path.name}: {response.status_code} {response.text[:300]}")

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(publisher(client, bodies) for bodies in work))
        return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class IngestResult:
    path: str
    seconds: list[float]
    events_per_round: int
    cpu_ms: dict[str, float | None]  # per 1,000 events: server, postgres, client

    @property
    def rates(self) -> list[float]:
        return [self.events_per_round / s for s in self.seconds]

    @property
    def median_rate(self) -> float:
        return statistics.median(self.rates)


Clock = Callable[[], float | None]


class CpuMeter:
    """CPU seconds spent by each party over the rounds of one path."""

    def __init__(self, clocks: dict[str, Clock]) -> None:
        self.clocks = clocks
        self.spent: dict[str, float | None] = dict.fromkeys(clocks, 0.0)

    def read(self) -> dict[str, float | None]:
        return {name: clock() for name, clock in self.clocks.items()}

    def add(self, before: dict[str, float | None], after: dict[str, float | None]) -> None:
        for name, spent in self.spent.items():
            start, end = before[name], after[name]
            if spent is None or start is None or end is None:
                self.spent[name] = None
            else:
                self.spent[name] = spent + end - start

    def per_thousand(self, events: int) -> dict[str, float | None]:
        return {n: None if s is None else s * 1e6 / events for n, s in self.spent.items()}


async def measure_ingest(
    base: str, url: str, scac: str, token: str, server_cpu: Clock, postgres_cpu: Clock
) -> list[IngestResult]:
    """Each path's rounds, the paths alternating so that both see the same machine."""
    visits = await carrier_visits(url, scac)
    if len(visits) < PUBLISHERS:
        raise IngestFailed(f"carrier {scac} has too few visits to publish for")
    clocks: dict[str, Clock] = {
        "server": server_cpu,
        "postgres": postgres_cpu,
        "client": time.process_time,
    }
    seconds: dict[str, list[float]] = {p.name: [] for p in PATHS}
    meters = {p.name: CpuMeter(clocks) for p in PATHS}
    for _ in range(ROUNDS):
        for path in PATHS:
            # Bodies are made before the clocks start: a publisher's own work is not measured.
            work = [[path.body(b) for b in batches(visits, p)] for p in range(PUBLISHERS)]
            meter = meters[path.name]
            before = meter.read()
            seconds[path.name].append(await one_round(base, token, path, work))
            meter.add(before, meter.read())
    events = PUBLISHERS * BATCHES_PER_PUBLISHER * BATCH
    return [
        IngestResult(name, runs, events, meters[name].per_thousand(events * ROUNDS))
        for name, runs in seconds.items()
    ]
