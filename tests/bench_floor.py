"""The benchmark's SQL floor: the carrier query's data by hand-written SQL (not a test).

The same port calls, containers and latest events as the GraphQL answer, under the same row
rule for each partner (resolvers.cargo.cargo_rule, the trucker's appointments included),
fetched with one statement per level on one connection and serialised with orjson: what
the data costs without GraphQL. tests/benchmark.py serves it at POST /_bench/sql over the
app's own HTTP stack and checks it against the GraphQL answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from resolvers.cargo import cargo_rule, untied_events
from resolvers.principal import Principal
from resolvers.rules import Rule
from resolvers.sources import Connection, Pool

PORT_CALLS, CONTAINERS, EVENTS = 25, 20, 3

FLOOR_PORT_CALLS = """
SELECT pc.id, v.imo, v.name, pc.estimated_arrival, ftc.smdg_code
FROM vessel.port_call pc
JOIN vessel.vessel v ON v.imo = pc.vessel_imo
LEFT JOIN LATERAL (
    SELECT tc.smdg_code FROM vessel.terminal_call tc
    WHERE tc.port_call_id = pc.id ORDER BY tc.sequence LIMIT 1
) ftc ON TRUE
WHERE pc.carrier_scac = $1 AND pc.estimated_arrival < $2
ORDER BY pc.estimated_arrival, pc.id
LIMIT $3
"""
FLOOR_CONTAINERS = """
SELECT k.ord, c.equipment_reference, c.status, c.available_for_pickup
FROM unnest($1::uuid[]) WITH ORDINALITY AS k(port_call_id, ord)
CROSS JOIN LATERAL (
    SELECT cv.equipment_reference, cv.status, cv.available_for_pickup
    FROM cargo.container_visit cv
    WHERE cv.port_call_id = k.port_call_id AND /*rule*/
    ORDER BY cv.equipment_reference
    LIMIT $2
) c
ORDER BY k.ord, c.equipment_reference
"""
# A container's latest unretracted events that belong to a visit of it the partner sees.
FLOOR_EVENTS = """
SELECT k.ord, e.event_type, e.event_datetime, e.equipment_event_type_code
FROM unnest($1::text[]) WITH ORDINALITY AS k(equipment_reference, ord)
CROSS JOIN LATERAL (
    SELECT e.event_id, e.event_type, e.event_datetime, e.equipment_event_type_code
    FROM cargo.event e
    WHERE e.equipment_reference = k.equipment_reference
      AND e.retracted_at IS NULL
      AND EXISTS (
          SELECT 1 FROM cargo.container_visit cv
          WHERE cv.equipment_reference = e.equipment_reference AND /*rule*/
            AND CASE WHEN e.port_call_id IS NOT NULL THEN cv.port_call_id = e.port_call_id
                     WHEN e.transport_document_reference IS NOT NULL
                         THEN cv.transport_document_reference = e.transport_document_reference
                     ELSE /*untied*/ END)
    ORDER BY e.event_datetime DESC, e.event_id
    LIMIT $2
) e
ORDER BY k.ord, e.event_datetime DESC, e.event_id
"""


@dataclass(frozen=True, slots=True)
class FloorRequest:
    principal: Principal
    carrier_scac: str
    before: dt.datetime


async def floor_rows(conn: Connection, request: FloorRequest, rule: Rule) -> list[list[Any]]:
    """[imo, name, arrival, smdg, [[number, status, available, [[type, time, code]...]]...]]"""
    calls = await conn.fetch(FLOOR_PORT_CALLS, request.carrier_scac, request.before, PORT_CALLS)
    sql, args = rule.bind(FLOOR_CONTAINERS, [c["id"] for c in calls], CONTAINERS)
    boxes = await conn.fetch(sql, *args)
    events_sql = FLOOR_EVENTS.replace("/*untied*/", untied_events(rule))
    sql, args = rule.bind(events_sql, [b["equipment_reference"] for b in boxes], EVENTS)
    events_of: dict[int, list[list[Any]]] = {}
    for e in await conn.fetch(sql, *args):
        event = [e["event_type"], e["event_datetime"], e["equipment_event_type_code"]]
        events_of.setdefault(e["ord"], []).append(event)
    boxes_of: dict[int, list[list[Any]]] = {}
    for index, b in enumerate(boxes, start=1):
        box = [b["equipment_reference"], b["status"], b["available_for_pickup"]]
        boxes_of.setdefault(b["ord"], []).append([*box, events_of.get(index, [])])
    return [
        [c["imo"], c["name"], c["estimated_arrival"], c["smdg_code"], boxes_of.get(i, [])]
        for i, c in enumerate(calls, start=1)
    ]


async def serve_floor(pool: Pool, request: FloorRequest) -> bytes:
    """The floor's answer as JSON bytes: the rule, then three statements on one connection."""
    # The bench database holds every source: a trucker's rule reads the gate in place.
    rule = cargo_rule(request.principal, None, gate_alongside=True)
    async with pool.acquire() as conn:
        rows = await floor_rows(conn, request, rule)
    return orjson.dumps(rows)


def floor_shape(rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    """The floor's JSON as comparable tuples (instants parsed)."""
    return [
        (
            imo,
            name,
            dt.datetime.fromisoformat(arrival),
            smdg,
            tuple(
                (
                    number,
                    status,
                    available,
                    tuple((t, dt.datetime.fromisoformat(at), c) for t, at, c in events),
                )
                for number, status, available, events in boxes
            ),
        )
        for imo, name, arrival, smdg, boxes in rows
    ]


def answer_shape(data: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The GraphQL answer as the same tuples."""
    calls = []
    for call in (edge["node"] for edge in data["portCalls"]["edges"]):
        boxes = []
        for box in (edge["node"] for edge in (call["containers"] or {"edges": []})["edges"]):
            events = tuple(
                (
                    event["eventType"],
                    dt.datetime.fromisoformat(event["eventDateTime"]),
                    event.get("equipmentEventTypeCode"),
                )
                for event in (edge["node"] for edge in box["events"]["edges"])
            )
            boxes.append((box["number"], box["status"], box["availableForPickup"], events))
        vessel, terminal = call["vessel"] or {}, call["terminal"] or {}
        calls.append(
            (
                vessel.get("imo"),
                vessel.get("name"),
                dt.datetime.fromisoformat(call["estimatedArrival"]),
                terminal.get("smdgCode"),
                tuple(boxes),
            )
        )
    return calls
