"""The DCSA Track & Trace 2.2 events: the `Event` interface, its three kinds and the feed.

Events are cargo rows (resolvers/cargo.py): the cargo row rule decides which a caller sees,
inside every statement; field rules are declared on the fields. A container's own events
(`Container.events`) are in schema/cargo.py and page with the same cursor key (EVENT_KEY).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from asyncpg import Record

from resolvers import identifiers
from resolvers.cargo import EventCriteria, EventCursor, event_type_code
from schema.cargo import (
    CARGO_READ,
    Container,
    EmptyIndicatorCode,
    Shipment,
    document_reference,
    load_port_call,
    load_shipment,
    valid_reference,
)
from schema.context import Info
from schema.inputs import bad_input, cursor_key, identifier, instant, parse_instant, parse_uuid
from schema.pagination import After, Connection, First, PageRequest, connection, page_request

if TYPE_CHECKING:
    from schema.vessel import PortCall, Vessel

BOOKING_REFERENCE = re.compile(r"[A-Z0-9]{4,35}")

# The cursor key of event lists: (event time or creation time, event id).
EVENT_KEY = (parse_instant, parse_uuid)


def event_cursor(key: list[Any] | None) -> EventCursor | None:
    return cursor_key(key, EVENT_KEY)


# --- Enums (DCSA code lists) ----------------------------------------------------------------


@strawberry.enum(description="DCSA T&T 2.2 event type: what an event is about.")
class EventType(Enum):
    EQUIPMENT = "EQUIPMENT"
    TRANSPORT = "TRANSPORT"
    SHIPMENT = "SHIPMENT"


@strawberry.enum(description="DCSA event classifier: planned, estimated or actual.")
class EventClassifierCode(Enum):
    PLN = strawberry.enum_value("PLN", description="Planned.")
    EST = strawberry.enum_value("EST", description="Estimated.")
    ACT = strawberry.enum_value("ACT", description="Actual.")


@strawberry.enum(description="DCSA T&T 2.2 equipment event type code.")
class EquipmentEventTypeCode(Enum):
    LOAD = strawberry.enum_value("LOAD", description="Loaded onto a transport.")
    DISC = strawberry.enum_value("DISC", description="Discharged from a transport.")
    GTIN = strawberry.enum_value("GTIN", description="Gated in.")
    GTOT = strawberry.enum_value("GTOT", description="Gated out.")
    STUF = strawberry.enum_value("STUF", description="Stuffed.")
    STRP = strawberry.enum_value("STRP", description="Stripped.")
    PICK = strawberry.enum_value("PICK", description="Picked up.")
    DROP = strawberry.enum_value("DROP", description="Dropped off.")
    INSP = strawberry.enum_value("INSP", description="Inspected.")
    RSEA = strawberry.enum_value("RSEA", description="Resealed.")
    RMVD = strawberry.enum_value("RMVD", description="Removed.")
    AVPU = strawberry.enum_value("AVPU", description="Available for pickup.")
    AVDO = strawberry.enum_value("AVDO", description="Available for drop-off.")
    CUSS = strawberry.enum_value("CUSS", description="Customs selected for scan.")
    CUSI = strawberry.enum_value("CUSI", description="Customs inspection.")
    CUSR = strawberry.enum_value("CUSR", description="Customs released.")


@strawberry.enum(description="DCSA T&T 2.2 transport event type code: arrival or departure.")
class TransportEventTypeCode(Enum):
    ARRI = strawberry.enum_value("ARRI", description="Arrived.")
    DEPA = strawberry.enum_value("DEPA", description="Departed.")


@strawberry.enum(description="DCSA T&T 2.2 shipment event type code.")
class ShipmentEventTypeCode(Enum):
    RECE = strawberry.enum_value("RECE", description="Received.")
    DRFT = strawberry.enum_value("DRFT", description="Drafted.")
    PENA = strawberry.enum_value("PENA", description="Pending approval.")
    PENU = strawberry.enum_value("PENU", description="Pending update.")
    REJE = strawberry.enum_value("REJE", description="Rejected.")
    APPR = strawberry.enum_value("APPR", description="Approved.")
    ISSU = strawberry.enum_value("ISSU", description="Issued.")
    SURR = strawberry.enum_value("SURR", description="Surrendered.")
    SUBM = strawberry.enum_value("SUBM", description="Submitted.")
    VOID = strawberry.enum_value("VOID", description="Voided.")
    CONF = strawberry.enum_value("CONF", description="Confirmed.")
    REQS = strawberry.enum_value("REQS", description="Requested.")
    CMPL = strawberry.enum_value("CMPL", description="Completed.")
    HOLD = strawberry.enum_value("HOLD", description="On hold.")
    RELS = strawberry.enum_value("RELS", description="Released.")


@strawberry.enum(description="DCSA document type code of a shipment event's document.")
class DocumentTypeCode(Enum):
    CBR = strawberry.enum_value("CBR", description="Carrier booking request.")
    BKG = strawberry.enum_value("BKG", description="Booking.")
    SHI = strawberry.enum_value("SHI", description="Shipping instructions.")
    SRM = strawberry.enum_value("SRM", description="Shipment release message.")
    TRD = strawberry.enum_value("TRD", description="Transport document (bill of lading).")
    ARN = strawberry.enum_value("ARN", description="Arrival notice.")
    VGM = strawberry.enum_value("VGM", description="Verified gross mass.")
    CAS = strawberry.enum_value("CAS", description="Cargo survey.")
    CUS = strawberry.enum_value("CUS", description="Customs inspection.")
    DGD = strawberry.enum_value("DGD", description="Dangerous goods declaration.")
    OOG = strawberry.enum_value("OOG", description="Out of gauge.")


@strawberry.enum(description="DCSA mode of transport of a transport call.")
class ModeOfTransport(Enum):
    VESSEL = "VESSEL"
    RAIL = "RAIL"
    TRUCK = "TRUCK"
    BARGE = "BARGE"


# --- Small value types and links ------------------------------------------------------------


@strawberry.type(description="Where an event took place (DCSA event location).")
class EventLocation:
    unlocode: str = strawberry.field(name="UNLocationCode", description="UN/LOCODE of the place.")
    facility_smdg_code: str | None = strawberry.field(
        name="facilitySMDGCode", description="SMDG code of the terminal, when at one."
    )

    @classmethod
    def from_row(cls, row: Record) -> EventLocation | None:
        unlocode = row["unlocode"]
        if unlocode is None:
            return None
        return cls(unlocode=unlocode, facility_smdg_code=row["facility_smdg_code"])


async def load_vessel(info: Info, imo: str | None) -> Vessel | None:
    from schema.vessel import Vessel

    if imo is None:
        return None
    row = await info.context.loaders.vessel.vessel_by_imo.load(imo)
    return None if row is None else Vessel.from_row(row)


# --- DCSA Track & Trace 2.2 events --------------------------------------------------------


@strawberry.interface(description="A DCSA Track & Trace 2.2 event.")
class Event:
    event_id: uuid.UUID = strawberry.field(name="eventID", description="DCSA eventID.")
    event_type: EventType = strawberry.field(description="What the event is about.")
    event_classifier: EventClassifierCode = strawberry.field(
        description="Planned, estimated or actual (DCSA eventClassifierCode)."
    )
    event_date_time: datetime.datetime = strawberry.field(
        name="eventDateTime", description="When the event happens or happened."
    )
    event_created_date_time: datetime.datetime = strawberry.field(
        name="eventCreatedDateTime", description="When the publisher created the event."
    )


@strawberry.type(description="A DCSA equipment event: something happened to a container.")
class EquipmentEvent(Event):
    equipment_event_type_code: EquipmentEventTypeCode = strawberry.field(
        description="What happened (LOAD, DISC, GTIN, GTOT, AVPU, CUSR, ...)."
    )
    equipment_reference: str = strawberry.field(description="The container number.")
    iso_equipment_code: str | None = strawberry.field(description="ISO 6346 size/type code.")
    empty_indicator_code: EmptyIndicatorCode | None = strawberry.field(
        description="Empty or laden at the time of the event."
    )
    transport_document_reference: str | None = strawberry.field(
        description="Bill of lading the container travels under."
    )
    mode_of_transport: ModeOfTransport | None = strawberry.field(
        description="Mode of the transport call the event belongs to."
    )
    location: EventLocation | None = strawberry.field(description="Where it happened.")
    port_call_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Record) -> EquipmentEvent:
        return cls(
            event_id=row["event_id"],
            event_type=row["event_type"],
            event_classifier=row["event_classifier_code"],
            event_date_time=row["event_datetime"],
            event_created_date_time=row["event_created_datetime"],
            equipment_event_type_code=row["equipment_event_type_code"],
            equipment_reference=row["equipment_reference"],
            iso_equipment_code=row["iso_equipment_code"],
            empty_indicator_code=row["empty_indicator_code"],
            transport_document_reference=row["transport_document_reference"],
            mode_of_transport=row["mode_of_transport"],
            location=EventLocation.from_row(row),
            port_call_id=row["port_call_id"],
        )

    @strawberry.field(description="The vessel call (DCSA transport call) of the visit.")
    async def port_call(
        self, info: Info
    ) -> Annotated[PortCall, strawberry.lazy("schema.vessel")] | None:
        return await load_port_call(info, self.port_call_id)

    @strawberry.field(description="The container, as the caller may see it.")
    async def container(self, info: Info) -> Container | None:
        return await Container.resolve_reference(info, self.equipment_reference)


@strawberry.type(description="A DCSA transport event: a vessel (or other transport) moved.")
class TransportEvent(Event):
    transport_event_type_code: TransportEventTypeCode = strawberry.field(
        description="Arrival (ARRI) or departure (DEPA)."
    )
    mode_of_transport: ModeOfTransport | None = strawberry.field(description="Mode of transport.")
    equipment_reference: str | None = strawberry.field(
        description="The container carried, when the event is about one box's transport."
    )
    location: EventLocation | None = strawberry.field(description="Where it happened.")
    port_call_id: strawberry.Private[uuid.UUID | None]
    vessel_imo: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Record) -> TransportEvent:
        return cls(
            event_id=row["event_id"],
            event_type=row["event_type"],
            event_classifier=row["event_classifier_code"],
            event_date_time=row["event_datetime"],
            event_created_date_time=row["event_created_datetime"],
            transport_event_type_code=row["transport_event_type_code"],
            mode_of_transport=row["mode_of_transport"],
            equipment_reference=row["equipment_reference"],
            location=EventLocation.from_row(row),
            port_call_id=row["port_call_id"],
            vessel_imo=row["vessel_imo"],
        )

    @strawberry.field(description="The vessel call (DCSA transport call).")
    async def port_call(
        self, info: Info
    ) -> Annotated[PortCall, strawberry.lazy("schema.vessel")] | None:
        return await load_port_call(info, self.port_call_id)

    @strawberry.field(description="The vessel, when the transport is by vessel.")
    async def vessel(
        self, info: Info
    ) -> Annotated[Vessel, strawberry.lazy("schema.vessel")] | None:
        return await load_vessel(info, self.vessel_imo)


@strawberry.type(description="A DCSA shipment event: a document of the shipment changed.")
class ShipmentEvent(Event):
    shipment_event_type_code: ShipmentEventTypeCode = strawberry.field(
        description="What happened to the document (CONF, RECE, ISSU, HOLD, RELS, ...)."
    )
    document_type_code: DocumentTypeCode = strawberry.field(
        description="Which document: booking (BKG), shipping instructions (SHI), B/L (TRD)..."
    )
    document_reference: str = strawberry.field(
        description="Reference of that document: the booking reference for BKG/CBR, else "
        "the transport document reference."
    )
    transport_document_reference: str | None = strawberry.field(
        description="The shipment's transport document reference."
    )
    carrier_booking_reference: str | None = strawberry.field(
        description="The shipment's carrier booking reference."
    )

    @classmethod
    def from_row(cls, row: Record) -> ShipmentEvent:
        document_type = row["document_type_code"]
        booking = row["carrier_booking_reference"]
        document = row["transport_document_reference"]
        by_booking = document_type in ("BKG", "CBR") or document is None
        return cls(
            event_id=row["event_id"],
            event_type=row["event_type"],
            event_classifier=row["event_classifier_code"],
            event_date_time=row["event_datetime"],
            event_created_date_time=row["event_created_datetime"],
            shipment_event_type_code=row["shipment_event_type_code"],
            document_type_code=document_type,
            document_reference=booking if by_booking else document,
            transport_document_reference=document,
            carrier_booking_reference=booking,
        )

    @strawberry.field(description="The shipment, as the caller may see it.")
    async def shipment(self, info: Info) -> Shipment | None:
        return await load_shipment(info, self.transport_document_reference)


EVENT_FROM_ROW: dict[str, Callable[[Record], Event]] = {
    "EQUIPMENT": EquipmentEvent.from_row,
    "TRANSPORT": TransportEvent.from_row,
    "SHIPMENT": ShipmentEvent.from_row,
}


def event_from_row(row: Record) -> Event:
    return EVENT_FROM_ROW[row["event_type"]](row)


# --- Root field -----------------------------------------------------------------------------


@strawberry.input(description="Conditions on events; all those given must hold.")
class EventFilter:
    equipment_reference: str | None = strawberry.field(
        default=None, description="Events of this container (ISO 6346 number)."
    )
    transport_document_reference: str | None = strawberry.field(
        default=None, description="Events naming this transport document (bill of lading)."
    )
    carrier_booking_reference: str | None = strawberry.field(
        default=None, description="Events naming this carrier booking."
    )
    event_types: list[EventType] | None = strawberry.field(
        default=None, description="Events of these DCSA event types."
    )
    event_type_codes: list[str] | None = strawberry.field(
        default=None,
        description="Events with these DCSA 2.2 type codes (equipment, transport or shipment: "
        "GTIN, ARRI, ISSU, ...); T&T 3.0 words (GATED_IN, ARRIVED, ...) are accepted too.",
    )
    created_after: datetime.datetime | None = strawberry.field(
        default=None, description="Events created after this time (with offset)."
    )

    def criteria(self) -> EventCriteria:
        return EventCriteria(
            equipment_reference=identifier(
                identifiers.container_number,
                self.equipment_reference,
                "filter.equipmentReference",
            ),
            transport_document_reference=None
            if self.transport_document_reference is None
            else document_reference(
                self.transport_document_reference, "filter.transportDocumentReference"
            ),
            carrier_booking_reference=None
            if self.carrier_booking_reference is None
            else valid_reference(
                self.carrier_booking_reference,
                BOOKING_REFERENCE,
                "filter.carrierBookingReference",
                "a carrier booking reference (4 to 35 letters or digits)",
            ),
            event_types=None
            if self.event_types is None
            else tuple(sorted({t.name for t in self.event_types})),
            event_type_codes=None
            if self.event_type_codes is None
            else valid_event_type_codes(self.event_type_codes),
            created_after=instant(self.created_after, "filter.createdAfter"),
        )


def valid_event_type_codes(values: list[str]) -> tuple[str, ...]:
    codes: set[str] = set()
    for value in values:
        event_code = event_type_code(value)
        if event_code is None:
            raise bad_input(
                "filter.eventTypeCodes", f"{value[:40]!r} is not a DCSA event type code"
            )
        codes.add(event_code)
    return tuple(sorted(codes))


def events_arguments(
    info: Info, filter: EventFilter | None, first: int | None, after: str | None
) -> tuple[EventCriteria, PageRequest, EventCursor | None]:
    """The event feed's arguments, validated (resolvers and compiled path alike)."""
    where = EventCriteria() if filter is None else filter.criteria()
    request = page_request(first, after, len(EVENT_KEY), info.context.max_page_size)
    return where, request, event_cursor(request.after)


EventFilterArgument = Annotated[
    EventFilter | None, strawberry.argument(description="Conditions the events must meet.")
]


@strawberry.type
class EventQuery:
    @strawberry.federation.field(
        description="DCSA T&T 2.2 events you may see, oldest created first (poll with "
        "`createdAfter` or the cursor); retracted events are left out. Needs `cargo:read`.",
        requires_scopes=CARGO_READ,
    )
    async def events(
        self,
        info: Info,
        filter: EventFilterArgument = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Event] | None:
        where, request, cursor = events_arguments(info, filter, first, after)
        page = await info.context.loaders.cargo.event_page(where, request.size, cursor)
        return connection(page, event_from_row, after is not None)


queries: list[type] = [EventQuery]
types: list[type] = [EquipmentEvent, TransportEvent, ShipmentEvent]
