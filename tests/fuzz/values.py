"""Values the fuzzers put in arguments beside random ones (schemathesis dictionaries), so that
part of the generated requests get past identifier validation into the resolvers and the
publishing code: the carrier's own boxes, port calls and documents of the seeded test data,
and the standards' codes (DCSA T&T 2.2 / 3.0, JIT 2.0) that the API takes as plain strings.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Any

from resolvers.seed import generate
from resolvers.seed.plan import Plan
from resolvers.seed.tables import Table
from tests.conftest import TEST_ANCHOR, TEST_SCALE, TEST_SEED

OWN_LIMIT = 8  # values per dictionary taken from the data
# Subscriptions tests/fuzz/test_dcsa.py keeps in its database, for the fuzzer to find by id.
KNOWN_SUBSCRIPTIONS = (
    "8fbdc2d8-57c8-48b9-a04b-18fd8ec1d809",  # T&T 2.2's example
    "123e4567-e89b-12d3-a456-426614174000",
)
STANDARD: dict[str, list[str]] = {
    "event_types": ["EQUIPMENT", "TRANSPORT", "SHIPMENT"],
    "classifiers": ["ACT", "PLN", "EST", "ACTUAL", "PLANNED", "ESTIMATED", "REQ"],
    "equipment_codes": ["LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "AVPU", "GATED_IN"],
    "transport_codes": ["ARRI", "DEPA", "ARRIVED", "DEPARTED"],
    "shipment_codes": ["RECE", "DRFT", "ISSU", "HOLD", "RELS", "CONF"],
    "document_types": ["BKG", "TRD", "SHI", "CBR"],
    "empty_indicators": ["LADEN", "EMPTY"],
    "modes": ["VESSEL", "TRUCK", "RAIL", "BARGE"],
    "iso_codes": ["22GP", "45G1", "45R1", "22G1"],
    "instants": [
        "2026-03-02T07:41:00-08:00",
        "2026-03-02T15:41:00Z",
        "2026-03-02T07:41:00",
        "1969-12-31T23:59:59Z",
        "2100-01-01T00:00:00+14:00",
        "2026-02-30T07:41:00Z",
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-14:00",  # after 9999 in UTC
    ],
    "uuids": [
        "3cecb101-7a1a-43a4-9d62-e88a131651e2",
        "84db923d-2a19-4eb0-beb5-446c1ec57d34",
        "00000000-0000-0000-0000-000000000000",
    ],
    "hold_reasons": ["FREIGHT_UNPAID", "EXAM", "DOCS"],
    # Webhook subscriptions: secrets of 32 and 1,024 bytes (and one byte short, one over),
    # callbacks the production rules take and refuse (tests/fuzz/test_dcsa.py resolves names).
    "secrets": [
        base64.b64encode(bytes(range(32))).decode(),
        base64.b64encode(b"k" * 1024).decode(),
        base64.b64encode(b"k" * 31).decode(),
        base64.b64encode(b"k" * 1025).decode(),
    ],
    "callbacks": [
        "https://hooks.partner.example/dcsa/events?shipperRef=42",
        "https://hooks.partner.example:8443/cb",
        "https://no-such-host.invalid/cb",
        "http://hooks.partner.example/cb",
        "https://user:secret@hooks.partner.example/cb",
        "https://127.0.0.1/cb",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/cb",
        "https://hooks.partner.example:0/cb",
        "https://hooks.partner.example/\x00",  # PostgreSQL text takes no NUL
    ],
    # eventIDs: the standards' examples, and a NUL, which PostgreSQL cannot store. (Lone
    # surrogates, which schemathesis's dictionaries cannot hold, are tests/graph/test_dcsa.py's.)
    "event_ids": [
        "3cecb101-7a1a-43a4-9d62-e88a131651e2",
        "84db923d-2a19-4eb0-beb5-446c1ec57d34",
        "\x00",
    ],
    "subscriptions": list(KNOWN_SUBSCRIPTIONS),
}


def _rows(tables: dict[str, list[Table]], name: str) -> list[dict[str, Any]]:
    table = next(t for group in tables.values() for t in group if t.name == name)
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _first(values: Iterable[object]) -> list[str]:
    return sorted({str(v) for v in values if v is not None})[:OWN_LIMIT]


@cache
def known_values() -> dict[str, list[str]]:
    """Dictionary name -> values. The seed is pure computation (the same seed, scale and anchor
    as the test database: tests/conftest.py), so the carrier's own rows are known here, at
    collection, without the database: the carrier is the one the `tokens` fixture picks, the
    first organization of that kind by code."""
    anchor = dt.date.fromisoformat(TEST_ANCHOR)
    tables = generate(Plan(seed=TEST_SEED, scale=TEST_SCALE, anchor=anchor))
    carriers = [o for o in _rows(tables, "community.organization") if o["kind"] == "CARRIER"]
    scac = min(carriers, key=lambda o: str(o["code"]))["scac"]
    visits = [v for v in _rows(tables, "cargo.container_visit") if v["carrier_scac"] == scac]
    shipments = [s for s in _rows(tables, "cargo.shipment") if s["carrier_scac"] == scac]
    calls = [c for c in _rows(tables, "vessel.port_call") if c["carrier_scac"] == scac]
    return {
        **STANDARD,
        "containers": _first(v["equipment_reference"] for v in visits),
        "documents": _first(s["transport_document_reference"] for s in shipments),
        "bookings": _first(s["carrier_booking_reference"] for s in shipments),
        "port_calls": _first(c["id"] for c in calls),
        "imos": _first(c["vessel_imo"] for c in calls),
        "terminals": _first(t["smdg_code"] for t in _rows(tables, "vessel.terminal")),
        "unlocodes": _first(p["unlocode"] for p in _rows(tables, "vessel.port")),
    }


# Where each dictionary goes in GraphQL: `<Type>.<field>.<argument path>` (`*` any type or
# field, `[*]` any list element).
GRAPHQL_BINDINGS = {
    "*.*.imo": "imos",
    "Query.portCalls.filter.vesselImo": "imos",
    "Query.container.number": "containers",
    "Query.containers.filter.transportDocumentReference": "documents",
    "Query.events.filter.equipmentReference": "containers",
    "Query.events.filter.transportDocumentReference": "documents",
    "Query.events.filter.carrierBookingReference": "bookings",
    "Query.shipment.transportDocumentReference": "documents",
    "Query.portCall.id": "port_calls",
    "Query.port.unlocode": "unlocodes",
    "*.*.terminal.smdgCode": "terminals",
    "*.*.filter.terminal.smdgCode": "terminals",
    "*.*.input.containerNumber": "containers",
    "*.*.input.reasonCode": "hold_reasons",
    "*.*.input.portCallID": "port_calls",
    "*.*.input.timestampID": "uuids",
    "Mutation.publishEvents.events[*].eventID": "uuids",
    "Mutation.publishEvents.events[*].eventType": "event_types",
    "Mutation.publishEvents.events[*].eventClassifierCode": "classifiers",
    "Mutation.publishEvents.events[*].eventDateTime": "instants",
    "Mutation.publishEvents.events[*].eventCreatedDateTime": "instants",
    "Mutation.publishEvents.events[*].equipmentEventTypeCode": "equipment_codes",
    "Mutation.publishEvents.events[*].transportEventTypeCode": "transport_codes",
    "Mutation.publishEvents.events[*].shipmentEventTypeCode": "shipment_codes",
    "Mutation.publishEvents.events[*].documentTypeCode": "document_types",
    "Mutation.publishEvents.events[*].documentID": "documents",
    "Mutation.publishEvents.events[*].equipmentReference": "containers",
    "Mutation.publishEvents.events[*].ISOEquipmentCode": "iso_codes",
    "Mutation.publishEvents.events[*].emptyIndicatorCode": "empty_indicators",
    "Mutation.publishEvents.events[*].transportCall.transportCallID": "port_calls",
    "Mutation.publishEvents.events[*].transportCall.modeOfTransport": "modes",
    "Mutation.publishEvents.events[*].transportCall.UNLocationCode": "unlocodes",
    "Mutation.publishEvents.events[*].transportCall.facilityCode": "terminals",
}


# In the DCSA REST operations: `<location>.<name>` (`body.` a JSON path into the body).
REST_BINDINGS = {
    "query.equipmentReference": "containers",
    "query.transportCallID": "port_calls",
    "query.transportDocumentReference": "documents",
    "query.carrierBookingReference": "bookings",
    "query.vesselIMONumber": "imos",
    "query.UNLocationCode": "unlocodes",
    "query.eventCreatedDateTime": "instants",
    "path.subscriptionID": "subscriptions",
    "body.secret": "secrets",
    "body.callbackUrl": "callbacks",
    "body.equipmentReference": "containers",
    "body.transportCallID": "port_calls",
    "body.transportDocumentReference": "documents",
    "body.carrierBookingReference": "bookings",
    "body.vesselIMONumber": "imos",
    "body.[*].eventID": "event_ids",
    "body.[*].eventDateTime": "instants",
    "body.[*].eventCreatedDateTime": "instants",
    "body.[*].equipmentReference": "containers",
    "body.[*].transportCall.transportCallID": "port_calls",
    "body.[*].transportCall.UNLocationCode": "unlocodes",
    "body.[*].transportCall.facilityCode": "terminals",
}


def dictionaries_config(
    values: dict[str, list[str]], bindings: dict[str, str], probability: float
) -> dict[str, object]:
    """The `dictionaries` and `parameters` sections of a schemathesis configuration."""
    return {
        "dictionaries": {name: {"values": found} for name, found in values.items()},
        "parameters": {
            key: {"dictionary": name, "probability": probability} for key, name in bindings.items()
        },
    }
