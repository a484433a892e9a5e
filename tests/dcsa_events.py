"""DCSA T&T 2.2 events for publishing tests, shaped as the spec's examples.

`SPEC_EQUIPMENT_EVENT` is put together from the example values of TNT_v2.2.0.yaml's
components (event_domain and dcsa_domain: eventID, timestamps, LOAD, 22GP, EMPTY, the
transport call's FE1 / 2103S / POTE, King of the Seas); `adapted` points its references at a
seeded container visit (its box, transport call and booking), which is all a test may change.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

SPEC_EQUIPMENT_EVENT: dict[str, Any] = {
    "eventID": "3cecb101-7a1a-43a4-9d62-e88a131651e2",
    "eventCreatedDateTime": "2021-01-09T14:12:56+01:00",
    "eventType": "EQUIPMENT",
    "eventClassifierCode": "EST",
    "eventDateTime": "2019-11-12T07:41:00+08:30",
    "equipmentEventTypeCode": "LOAD",
    "equipmentReference": "APZU4812090",
    "ISOEquipmentCode": "22GP",
    "emptyIndicatorCode": "EMPTY",
    "transportCall": {
        "transportCallID": "123e4567-e89b-12d3-a456-426614174000",
        "carrierServiceCode": "FE1",
        "carrierVoyageNumber": "2103S",
        "UNLocationCode": "FRPAR",
        "facilityCode": "ADT",
        "facilityCodeListProvider": "SMDG",
        "facilityTypeCode": "POTE",
        "modeOfTransport": "VESSEL",
        "vessel": {
            "vesselIMONumber": "9321483",
            "vesselName": "King of the Seas",
            "vesselFlag": "DE",
            "vesselCallSignNumber": "NCVV",
            "vesselOperatorCarrierCode": "MAEU",
            "vesselOperatorCarrierCodeListProvider": "NMFTA",
        },
    },
    "documentReferences": [
        {"documentReferenceType": "BKG", "documentReferenceValue": "ABC123123123"},
    ],
    "references": [{"referenceType": "FF", "referenceValue": "HHL00103004"}],
    "seals": [{"sealNumber": "VKF4567", "sealSource": "CUS", "sealType": "WIR"}],
}


@dataclass(frozen=True, slots=True)
class Visit:
    """A seeded container visit: what an event must name to belong to it."""

    id: int
    equipment_reference: str
    port_call_id: uuid.UUID
    carrier_scac: str
    unlocode: str
    smdg_code: str
    direction: str
    status: str
    transport_document_reference: str | None
    carrier_booking_reference: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Visit:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


VISITS = """
SELECT cv.id, cv.equipment_reference, cv.port_call_id, cv.carrier_scac, cv.unlocode,
       cv.smdg_code, cv.direction, cv.status, cv.transport_document_reference,
       s.carrier_booking_reference
FROM cargo.container_visit cv
LEFT JOIN cargo.shipment s ON s.transport_document_reference = cv.transport_document_reference
WHERE cv.carrier_scac = $1 AND cv.direction = $2 AND cv.status = $3
ORDER BY cv.equipment_reference, cv.id
"""


async def visits(
    connection: asyncpg.Connection | asyncpg.Pool, carrier: str, direction: str, status: str
) -> list[Visit]:
    return [Visit.of(r) for r in await connection.fetch(VISITS, carrier, direction, status)]


def adapted(visit: Visit, **changes: Any) -> dict[str, Any]:
    """The spec's example, its references pointed at `visit` (and `changes` applied)."""
    event = copy.deepcopy(SPEC_EQUIPMENT_EVENT)
    event["equipmentReference"] = visit.equipment_reference
    call = event["transportCall"]
    call["transportCallID"] = str(visit.port_call_id)
    call["UNLocationCode"] = visit.unlocode
    call["facilityCode"] = visit.smdg_code
    if visit.carrier_booking_reference is None:
        del event["documentReferences"]
    else:
        event["documentReferences"][0]["documentReferenceValue"] = visit.carrier_booking_reference
    event.update(changes)
    return event


def equipment_event(
    visit: Visit,
    code: str,
    classifier: str = "ACT",
    at: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A plain equipment event of `visit` (no document references, seals or remarks)."""
    when = at or dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    return {
        "eventID": str(event_id or uuid.uuid4()),
        "eventCreatedDateTime": (when + dt.timedelta(minutes=5)).isoformat(),
        "eventType": "EQUIPMENT",
        "eventClassifierCode": classifier,
        "eventDateTime": when.isoformat(),
        "equipmentEventTypeCode": code,
        "equipmentReference": visit.equipment_reference,
        "emptyIndicatorCode": "LADEN" if visit.transport_document_reference else "EMPTY",
        "transportCall": {
            "transportCallID": str(visit.port_call_id),
            "modeOfTransport": "VESSEL",
            "UNLocationCode": visit.unlocode,
            "facilityCode": visit.smdg_code,
            "facilityCodeListProvider": "SMDG",
        },
    }


def transport_event(visit: Visit, code: str = "ARRI") -> dict[str, Any]:
    """A transport event of `visit`'s call (the vessel operator's to publish)."""
    event = equipment_event(visit, code, "EST")
    for name in ("equipmentEventTypeCode", "equipmentReference", "emptyIndicatorCode"):
        event.pop(name)
    return {**event, "eventType": "TRANSPORT", "transportEventTypeCode": code}


def shipment_event(visit: Visit, code: str = "DRFT") -> dict[str, Any]:
    """A shipment event of `visit`'s transport document."""
    assert visit.transport_document_reference is not None
    when = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    return {
        "eventID": str(uuid.uuid4()),
        "eventCreatedDateTime": (when + dt.timedelta(minutes=5)).isoformat(),
        "eventType": "SHIPMENT",
        "eventClassifierCode": "ACT",
        "eventDateTime": when.isoformat(),
        "shipmentEventTypeCode": code,
        "documentTypeCode": "TRD",
        "documentID": visit.transport_document_reference,
    }
