"""DCSA Track & Trace events at the edge: a partner's JSON object read into a storable draft,
and a stored event written back as T&T 2.2 JSON.

A partner sends T&T 2.2 objects, with T&T 3.0's full-word values (ACTUAL, GATED_IN, ...)
accepted in place of the codes; each is read into one canonical draft (2.2 codes) or refused
with the field and the reason. What an event carries beyond the indexed columns (the
transport call's voyage and service, document references, seals, remarks, the timestamps as
written) is kept in `extra`, so the event reads back as it was sent. A retraction (T&T 3.0)
is an object with `retractedEventID`: metadata only.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from resolvers import identifiers
from resolvers.cargo import (
    EQUIPMENT_EVENT_TYPE_CODES,
    FULL_WORD_EVENT_TYPE_CODES,
    SHIPMENT_EVENT_TYPE_CODES,
    TRANSPORT_EVENT_TYPE_CODES,
)
from resolvers.instants import OUT_OF_RANGE, in_range
from resolvers.writes import Invalid

MAX_EVENTS = 1_000  # per call: GraphQL, DCSA POST and each ingest batch


def codes(*values: str) -> dict[str, str]:
    """A code list: each accepted spelling to the code stored."""
    return {v: v for v in values}


EVENT_TYPES = codes("EQUIPMENT", "TRANSPORT", "SHIPMENT")
# T&T 3.0 writes the classifier as a word.
CLASSIFIERS = {**codes("PLN", "EST", "ACT"), "PLANNED": "PLN", "ESTIMATED": "EST", "ACTUAL": "ACT"}
DOCUMENT_TYPES = codes("CBR", "BKG", "SHI", "SRM", "TRD", "ARN", "VGM", "CAS", "CUS", "DGD", "OOG")
BOOKING_DOCUMENTS = ("CBR", "BKG")  # their documentID is the carrier booking reference
MODES = codes("VESSEL", "RAIL", "TRUCK", "BARGE")
EMPTY_INDICATORS = codes("EMPTY", "LADEN")
DOCUMENT_REFERENCE_TYPES = codes("BKG", "TRD")
# An actual event happens by its creation (a day's slack for clocks and time zones), as the
# table's CHECK says.
ACTUAL_SLACK = datetime.timedelta(days=1)
MAX_TEXT = 500
AS_WRITTEN = "asWritten"  # extra's key for the timestamps as sent: not part of the content

COMMON_FIELDS = frozenset(
    {"eventID", "eventType", "eventClassifierCode", "eventDateTime", "eventCreatedDateTime"}
    | {"retractedEventID", "eventTypeCode", "references"}
)
# The fields of each kind of event, the common ones included.
KIND_FIELDS: Mapping[str, frozenset[str]] = {
    "EQUIPMENT": COMMON_FIELDS
    | {"equipmentEventTypeCode", "equipmentReference", "ISOEquipmentCode"}
    | {"emptyIndicatorCode", "transportCallID", "transportCall", "documentReferences"}
    | {"seals", "eventLocation"},
    "TRANSPORT": COMMON_FIELDS
    | {"transportEventTypeCode", "delayReasonCode", "vesselScheduleChangeRemark"}
    | {"changeRemark", "transportCallID", "transportCall", "documentReferences"},
    "SHIPMENT": COMMON_FIELDS
    | {"shipmentEventTypeCode", "documentID", "documentTypeCode", "reason"}
    | {"shipmentInformationTypeCode", "shipmentID"},
}
# Kept as sent (after a type check): they travel with the event but index nothing.
PASSED_ON_ARRAYS = frozenset({"references", "seals", "documentReferences"})
PASSED_ON_OBJECTS = frozenset({"eventLocation"})
PASSED_ON_TEXT = frozenset(
    {"reason", "changeRemark", "vesselScheduleChangeRemark", "delayReasonCode"}
    | {"eventTypeCode", "shipmentInformationTypeCode", "shipmentID"}
)
LONG_TEXT = frozenset({"reason", "changeRemark", "vesselScheduleChangeRemark"})
TRANSPORT_CALL_FIELDS = frozenset(
    {"transportCallID", "modeOfTransport", "UNLocationCode", "facilityCode"}
    | {"facilityCodeListProvider", "facilityTypeCode", "otherFacility", "carrierServiceCode"}
    | {"carrierVoyageNumber", "transportCallSequenceNumber", "location", "vessel"}
    | {"exportVoyageNumber", "importVoyageNumber"}
)


@dataclass(slots=True)
class EventDraft:
    """An event as cargo.event stores it (canonical 2.2 codes). Not frozen: a frozen
    dataclass sets each of its 20 fields through object.__setattr__, for every event."""

    event_id: uuid.UUID
    event_type: str
    event_classifier_code: str
    event_datetime: datetime.datetime
    event_created_datetime: datetime.datetime
    equipment_event_type_code: str | None = None
    transport_event_type_code: str | None = None
    shipment_event_type_code: str | None = None
    document_type_code: str | None = None
    equipment_reference: str | None = None
    iso_equipment_code: str | None = None
    empty_indicator_code: str | None = None
    transport_document_reference: str | None = None
    carrier_booking_reference: str | None = None
    port_call_id: uuid.UUID | None = None
    vessel_imo: str | None = None
    mode_of_transport: str | None = None
    unlocode: str | None = None
    facility_smdg_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class RetractionDraft:
    """A T&T 3.0 retraction: event `event_id` withdraws event `retracted_event_id`."""

    event_id: uuid.UUID
    retracted_event_id: uuid.UUID
    event_created_datetime: datetime.datetime


Draft = EventDraft | RetractionDraft


# --- Values ---------------------------------------------------------------------------------


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 42 else text[:40] + "..."


def text(body: Mapping[str, Any], name: str, path: str, *, limit: int = MAX_TEXT) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Invalid(path, "must be a non-empty string")
    if len(value) > limit:
        raise Invalid(path, f"must be at most {limit} characters")
    return value


def required(value: Any, path: str) -> Any:
    if value is None:
        raise Invalid(path, "is required")
    return value


def event_uuid(body: Mapping[str, Any], name: str, path: str) -> uuid.UUID:
    value = required(text(body, name, path, limit=64), path)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(path, f"{_shown(value)} is not a UUID") from None


def instant(body: Mapping[str, Any], name: str) -> tuple[datetime.datetime, str]:
    """An ISO 8601 date-time with its offset, and the text as written."""
    written = required(text(body, name, name, limit=64), name)
    try:
        parsed = datetime.datetime.fromisoformat(written)
    except ValueError:
        raise Invalid(name, f"{_shown(written)} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Invalid(name, "needs a UTC offset (e.g. +01:00 or Z)")
    if not in_range(parsed):
        raise Invalid(name, OUT_OF_RANGE)
    return parsed, written


def code(
    body: Mapping[str, Any], name: str, allowed: Mapping[str, str], path: str | None = None
) -> str:
    """A required DCSA code; `allowed` maps accepted spellings to the stored code."""
    value = body.get(name)
    found = allowed.get(value) if isinstance(value, str) else None
    if found is not None:
        return found
    where = path or name
    value = required(text(body, name, where, limit=64), where)
    listed = ", ".join(dict.fromkeys(allowed.values()))
    raise Invalid(where, f"{_shown(value)} is not one of {listed}")


def event_codes(codes: tuple[str, ...]) -> dict[str, str]:
    """2.2 codes and the T&T 3.0 words for them."""
    words = {w: c for w, c in FULL_WORD_EVENT_TYPE_CODES.items() if c in codes}
    return {**{c: c for c in codes}, **words}


EQUIPMENT_CODES = event_codes(EQUIPMENT_EVENT_TYPE_CODES)
TRANSPORT_CODES = event_codes(TRANSPORT_EVENT_TYPE_CODES)
SHIPMENT_CODES = event_codes(SHIPMENT_EVENT_TYPE_CODES)


def identifier(check: Callable[[str, str], str], value: str | None, path: str) -> str | None:
    if value is None:
        return None
    try:
        return check(value, path)
    except identifiers.IdentifierError as error:
        raise Invalid(path, error.message) from None


def mapping(value: object, path: str) -> Mapping[str, Any]:
    """A JSON object, its null members left out (DCSA gives null no meaning; GraphQL's
    coerced input has one for every field not sent)."""
    if not isinstance(value, dict):
        raise Invalid(path, "must be a JSON object")
    if None in value.values():
        return {k: v for k, v in value.items() if v is not None}
    return value


def array(body: Mapping[str, Any], name: str, path: str, limit: int = 100) -> list[Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > limit:
        raise Invalid(path, f"must be an array of at most {limit} items")
    return [without_nulls(item, path) for item in value]


MAX_DEPTH = 8  # DCSA's objects nest three levels; anything deeper is no event


def without_nulls(value: Any, path: str, depth: int = 1) -> Any:
    """JSON without its null members (as `mapping` reads objects), at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise Invalid(path, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {k: without_nulls(v, path, depth + 1) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item, path, depth + 1) for item in value]
    return value


def known_fields(body: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    if body.keys() <= allowed:
        return
    name = next(n for n in body if n not in allowed)
    raise Invalid(prefix + storable(str(name)[:64]), "is not a field of a DCSA T&T 2.2 event")


def storable(name: str) -> str:
    """A caller's key as text that JSON encoders and PostgreSQL take (it is echoed, and kept in
    the audit trail): NUL and lone surrogates written as escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


# --- Parts of an event ----------------------------------------------------------------------


@dataclass(slots=True)
class TransportCall:
    port_call_id: uuid.UUID
    mode_of_transport: str
    unlocode: str | None
    facility_smdg_code: str | None
    vessel_imo: str | None
    extra: dict[str, Any]


def facility(call: Mapping[str, Any], unlocode: str | None) -> str | None:
    """The SMDG terminal code, when the facility is given by SMDG's list."""
    facility_code = text(call, "facilityCode", "transportCall.facilityCode", limit=6)
    provider = call.get("facilityCodeListProvider")
    if provider is not None and provider not in ("SMDG", "BIC"):
        raise Invalid("transportCall.facilityCodeListProvider", "must be SMDG or BIC")
    if facility_code is None or provider == "BIC":
        return None
    if unlocode is None:
        raise Invalid("transportCall.UNLocationCode", "is required with an SMDG facilityCode")
    check = identifiers.smdg_terminal_code
    return check(facility_code, unlocode, "transportCall.facilityCode")[1]


def vessel_imo(call: Mapping[str, Any]) -> str | None:
    vessel = call.get("vessel")
    if vessel is None:
        return None
    number = mapping(vessel, "transportCall.vessel").get("vesselIMONumber")
    path = "transportCall.vessel.vesselIMONumber"
    if number is None:
        return None
    if not isinstance(number, str):
        raise Invalid(path, "must be a string of 7 digits")
    return identifier(lambda v, f: identifiers.imo(v, f).value, number, path)


def transport_call(body: Mapping[str, Any]) -> TransportCall:
    call = mapping(required(body.get("transportCall"), "transportCall"), "transportCall")
    known_fields(call, TRANSPORT_CALL_FIELDS, "transportCall.")
    port_call_id = event_uuid(call, "transportCallID", "transportCall.transportCallID")
    top = body.get("transportCallID")
    if top is not None and top != call["transportCallID"]:
        raise Invalid("transportCallID", "differs from transportCall.transportCallID")
    place = text(call, "UNLocationCode", "transportCall.UNLocationCode", limit=8)
    place = identifier(identifiers.unlocode, place, "transportCall.UNLocationCode")
    try:
        smdg = facility(call, place)
    except identifiers.IdentifierError as error:
        raise Invalid(error.field, error.message) from None
    imo = vessel_imo(call)
    indexed = {"transportCallID", "modeOfTransport", "UNLocationCode", "facilityCode"}
    extra = {k: without_nulls(v, f"transportCall.{k}") for k, v in call.items() if k not in indexed}
    if extra.get("vessel"):  # its IMO number is a column
        extra["vessel"] = {k: v for k, v in extra["vessel"].items() if k != "vesselIMONumber"}
    if "facilityCode" in call and smdg is None:
        extra["facilityCode"] = call["facilityCode"]  # a BIC facility: kept, not indexed
    if smdg is not None:
        extra.pop("facilityCodeListProvider", None)  # SMDG, as the facility column says
    return TransportCall(
        port_call_id=port_call_id,
        mode_of_transport=code(call, "modeOfTransport", MODES, "transportCall.modeOfTransport"),
        unlocode=place,
        facility_smdg_code=smdg,
        vessel_imo=imo,
        extra=extra,
    )


def document_references(body: Mapping[str, Any]) -> dict[str, str]:
    """The booking (BKG) and transport document (TRD) an event names."""
    found: dict[str, str] = {}
    for i, item in enumerate(array(body, "documentReferences", "documentReferences") or ()):
        path = f"documentReferences[{i}]"
        reference = mapping(item, path)
        kind = code(
            reference,
            "documentReferenceType",
            DOCUMENT_REFERENCE_TYPES,
            path + ".documentReferenceType",
        )
        value_path = path + ".documentReferenceValue"
        value = required(
            text(reference, "documentReferenceValue", value_path, limit=35), value_path
        )
        if found.get(kind, value) != value:
            raise Invalid(value_path, f"a second, different {kind} reference")
        found[kind] = value
    return found


def passed_on(body: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for name in body.keys() & PASSED_ON_ARRAYS:
        extra[name] = array(body, name, name)
    for name in body.keys() & PASSED_ON_OBJECTS:
        extra[name] = without_nulls(mapping(body[name], name), name)
    for name in body.keys() & PASSED_ON_TEXT:
        extra[name] = text(body, name, name, limit=MAX_TEXT if name in LONG_TEXT else 100)
    return extra


# --- Events by kind -------------------------------------------------------------------------


def equipment_event(body: Mapping[str, Any], base: dict[str, Any]) -> EventDraft:
    call = transport_call(body)
    documents = document_references(body)
    number = required(
        text(body, "equipmentReference", "equipmentReference", limit=15), "equipmentReference"
    )
    iso = text(body, "ISOEquipmentCode", "ISOEquipmentCode", limit=4)
    return EventDraft(
        **base,
        equipment_event_type_code=code(body, "equipmentEventTypeCode", EQUIPMENT_CODES),
        equipment_reference=identifier(identifiers.container_number, number, "equipmentReference"),
        iso_equipment_code=identifier(identifiers.iso_equipment_code, iso, "ISOEquipmentCode"),
        empty_indicator_code=code(body, "emptyIndicatorCode", EMPTY_INDICATORS),
        transport_document_reference=documents.get("TRD"),
        carrier_booking_reference=documents.get("BKG"),
        **located(call),
        extra={**passed_on(body), **transport_call_extra(call)},
    )


def transport_event(body: Mapping[str, Any], base: dict[str, Any]) -> EventDraft:
    call = transport_call(body)
    documents = document_references(body)
    return EventDraft(
        **base,
        transport_event_type_code=code(body, "transportEventTypeCode", TRANSPORT_CODES),
        transport_document_reference=documents.get("TRD"),
        carrier_booking_reference=documents.get("BKG"),
        **located(call),
        extra={**passed_on(body), **transport_call_extra(call)},
    )


def shipment_event(body: Mapping[str, Any], base: dict[str, Any]) -> EventDraft:
    document_type = code(body, "documentTypeCode", DOCUMENT_TYPES)
    document = required(text(body, "documentID", "documentID", limit=35), "documentID")
    by_booking = document_type in BOOKING_DOCUMENTS
    return EventDraft(
        **base,
        shipment_event_type_code=code(body, "shipmentEventTypeCode", SHIPMENT_CODES),
        document_type_code=document_type,
        carrier_booking_reference=document if by_booking else None,
        transport_document_reference=None if by_booking else document,
        extra=passed_on(body),
    )


def located(call: TransportCall) -> dict[str, Any]:
    return {
        "port_call_id": call.port_call_id,
        "mode_of_transport": call.mode_of_transport,
        "unlocode": call.unlocode,
        "facility_smdg_code": call.facility_smdg_code,
        "vessel_imo": call.vessel_imo,
    }


def transport_call_extra(call: TransportCall) -> dict[str, Any]:
    return {"transportCall": call.extra} if call.extra else {}


READERS: Mapping[str, Callable[[Mapping[str, Any], dict[str, Any]], EventDraft]] = {
    "EQUIPMENT": equipment_event,
    "TRANSPORT": transport_event,
    "SHIPMENT": shipment_event,
}


def retraction(body: Mapping[str, Any], event_id: uuid.UUID) -> RetractionDraft:
    known_fields(
        body, frozenset({"eventID", "eventType", "eventCreatedDateTime", "retractedEventID"})
    )
    retracted = event_uuid(body, "retractedEventID", "retractedEventID")
    if retracted == event_id:
        raise Invalid("retractedEventID", "an event cannot retract itself")
    created, _ = instant(body, "eventCreatedDateTime")
    return RetractionDraft(event_id, retracted, created)


def read_event(value: object) -> Draft:
    """One DCSA event object as a draft to store; Invalid names the field and the reason."""
    body = mapping(value, "")
    event_id = event_uuid(body, "eventID", "eventID")
    if body.get("retractedEventID") is not None:
        return retraction(body, event_id)
    event_type = code(body, "eventType", EVENT_TYPES)
    known_fields(body, KIND_FIELDS[event_type])
    at, at_written = instant(body, "eventDateTime")
    created, created_written = instant(body, "eventCreatedDateTime")
    classifier = code(body, "eventClassifierCode", CLASSIFIERS)
    if classifier == "ACT" and at > created + ACTUAL_SLACK:
        raise Invalid("eventDateTime", "an actual event cannot happen after it was created")
    base = {
        "event_id": event_id,
        "event_type": event_type,
        "event_classifier_code": classifier,
        "event_datetime": at,
        "event_created_datetime": created,
    }
    draft = READERS[event_type](body, base)
    draft.extra[AS_WRITTEN] = {"eventDateTime": at_written, "eventCreatedDateTime": created_written}
    return draft


# --- Back to DCSA JSON ----------------------------------------------------------------------


def written_instant(at: datetime.datetime, written: str | None) -> str:
    """The timestamp as the publisher wrote it when that is this instant, else ISO UTC."""
    if written is not None:
        try:
            if datetime.datetime.fromisoformat(written) == at:
                return written
        except ValueError:
            pass
    return at.astimezone(datetime.UTC).isoformat()


def transport_call_json(row: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any] | None:
    if row["port_call_id"] is None:
        return None
    call: dict[str, Any] = {"transportCallID": str(row["port_call_id"])}
    passed = dict(extra.get("transportCall", {}))
    vessel = dict(passed.pop("vessel", {}) or {})
    if row["mode_of_transport"] is not None:
        call["modeOfTransport"] = row["mode_of_transport"]
    if row["unlocode"] is not None:
        call["UNLocationCode"] = row["unlocode"]
    if row["facility_smdg_code"] is not None:
        call["facilityCode"] = row["facility_smdg_code"]
        passed.setdefault("facilityCodeListProvider", "SMDG")
    if row["vessel_imo"] is not None:
        vessel["vesselIMONumber"] = row["vessel_imo"]
    call.update(passed)
    if vessel:
        call["vessel"] = vessel
    return call


def kind_json(row: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    kind = row["event_type"]
    if kind == "SHIPMENT":
        booking = row["document_type_code"] in BOOKING_DOCUMENTS
        return {
            "shipmentEventTypeCode": row["shipment_event_type_code"],
            "documentTypeCode": row["document_type_code"],
            "documentID": row[
                "carrier_booking_reference" if booking else "transport_document_reference"
            ],
        }
    found: dict[str, Any] = {}
    if kind == "EQUIPMENT":
        found = {
            "equipmentEventTypeCode": row["equipment_event_type_code"],
            "equipmentReference": row["equipment_reference"],
            "ISOEquipmentCode": row["iso_equipment_code"],
            "emptyIndicatorCode": row["empty_indicator_code"],
        }
    else:
        found = {"transportEventTypeCode": row["transport_event_type_code"]}
    found["transportCall"] = transport_call_json(row, extra)
    if "documentReferences" not in extra:
        found["documentReferences"] = seeded_references(row)
    return found


def seeded_references(row: Mapping[str, Any]) -> list[dict[str, str]] | None:
    """Document references of an event that came with none kept (the demo's own)."""
    pairs = [
        ("BKG", row["carrier_booking_reference"]),
        ("TRD", row["transport_document_reference"]),
    ]
    found = [{"documentReferenceType": t, "documentReferenceValue": v} for t, v in pairs if v]
    return found or None


def event_json(row: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event (cargo.event columns and its decoded `extra`) as T&T 2.2 JSON."""
    written = extra.get(AS_WRITTEN, {})
    body: dict[str, Any] = {
        "eventID": str(row["event_id"]),
        "eventType": row["event_type"],
        "eventClassifierCode": row["event_classifier_code"],
        "eventDateTime": written_instant(row["event_datetime"], written.get("eventDateTime")),
        "eventCreatedDateTime": written_instant(
            row["event_created_datetime"], written.get("eventCreatedDateTime")
        ),
        **kind_json(row, extra),
        **{k: v for k, v in extra.items() if k not in (AS_WRITTEN, "transportCall")},
    }
    return {k: v for k, v in body.items() if v is not None}
