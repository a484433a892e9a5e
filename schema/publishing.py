"""Partners publish DCSA Track & Trace events: the `publishEvents` mutation.

The input mirrors a T&T 2.2 event object field for field (DCSA's own names), codes as strings
so that T&T 3.0's full words are accepted too and a bad value is refused per item, with its
index and field, rather than failing the whole request. It is read by the same code as the
DCSA REST endpoint and `harborgraph ingest` (resolvers.dcsa, resolvers.cargo_writes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any

import asyncpg
import strawberry
from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.types.base import has_object_definition

from resolvers.cargo_writes import ItemOutcome, Publication, TooManyEvents, publish_events
from resolvers.writes import Outcome
from schema.context import Context, Info
from schema.inputs import bad_input
from schema.permissions import scopes
from schema.scopes import Scope

EVENTS_WRITE = scopes(Scope.EVENTS_WRITE)

# --- Input: a DCSA T&T 2.2 event ------------------------------------------------------------


@strawberry.input(description="The vessel of a transport call (DCSA vessel).")
class VesselInput:
    vessel_imo_number: str | None = strawberry.field(
        name="vesselIMONumber", default=None, description="IMO number (7 digits)."
    )
    vessel_name: str | None = strawberry.field(default=None, description="Vessel name.")
    vessel_flag: str | None = strawberry.field(default=None, description="Flag (ISO 3166).")
    vessel_call_sign_number: str | None = strawberry.field(
        default=None, description="Radio call sign."
    )
    vessel_operator_carrier_code: str | None = strawberry.field(
        default=None, description="Operator's SCAC or SMDG code."
    )
    vessel_operator_carrier_code_list_provider: str | None = strawberry.field(
        default=None, description="SMDG or NMFTA."
    )


@strawberry.input(description="Where and by what an event happens (DCSA transportCall).")
class TransportCallInput:
    transport_call_id: str = strawberry.field(
        name="transportCallID", description="The port call's ID (PortCall.id, a UUID)."
    )
    mode_of_transport: str = strawberry.field(description="VESSEL, RAIL, TRUCK or BARGE.")
    un_location_code: str | None = strawberry.field(
        name="UNLocationCode", default=None, description="UN/LOCODE of the place."
    )
    facility_code: str | None = strawberry.field(
        default=None, description="The facility's code (SMDG terminal code with SMDG)."
    )
    facility_code_list_provider: str | None = strawberry.field(
        default=None, description="SMDG or BIC."
    )
    facility_type_code: str | None = strawberry.field(
        default=None, description="DCSA facility type, e.g. POTE (port terminal)."
    )
    other_facility: str | None = strawberry.field(
        default=None, description="A facility without a code."
    )
    carrier_service_code: str | None = strawberry.field(
        default=None, description="The carrier's service code."
    )
    carrier_voyage_number: str | None = strawberry.field(
        default=None, description="The carrier's voyage number."
    )
    transport_call_sequence_number: int | None = strawberry.field(
        default=None, description="The call's sequence number on its voyage."
    )
    vessel: VesselInput | None = strawberry.field(default=None, description="The vessel.")


@strawberry.input(description="A document an event relates to (DCSA documentReferences).")
class DocumentReferenceInput:
    document_reference_type: str = strawberry.field(
        description="BKG (booking) or TRD (transport document)."
    )
    document_reference_value: str = strawberry.field(description="Its reference.")


@strawberry.input(description="A reference of the shipment (DCSA references).")
class ReferenceInput:
    reference_type: str = strawberry.field(description="DCSA reference type, e.g. FF, SI, PO, CR.")
    reference_value: str = strawberry.field(description="The reference.")


@strawberry.input(description="A seal on the container (DCSA seals).")
class SealInput:
    seal_number: str = strawberry.field(description="The seal's number.")
    seal_source: str | None = strawberry.field(default=None, description="CAR, SHI, PHY or VET.")
    seal_type: str | None = strawberry.field(default=None, description="KLP, BLT, WIR...")


@strawberry.input(
    description="A DCSA Track & Trace 2.2 event, field for field; codes are the 2.2 codes "
    "or T&T 3.0's words (ACTUAL, GATED_IN...), timestamps ISO 8601 with an offset. A "
    "retraction sends only eventID, eventCreatedDateTime and retractedEventID."
)
class EventInput:
    event_id: str = strawberry.field(
        name="eventID", description="The event's UUID: publishing is idempotent by it."
    )
    event_created_date_time: str = strawberry.field(
        name="eventCreatedDateTime", description="When the publisher created the event."
    )
    event_type: str | None = strawberry.field(
        default=None, description="EQUIPMENT, TRANSPORT or SHIPMENT."
    )
    event_classifier_code: str | None = strawberry.field(
        default=None, description="PLN, EST or ACT."
    )
    event_date_time: str | None = strawberry.field(
        name="eventDateTime", default=None, description="When it happens or happened."
    )
    retracted_event_id: str | None = strawberry.field(
        name="retractedEventID", default=None, description="The event this one retracts."
    )
    equipment_event_type_code: str | None = strawberry.field(
        default=None, description="Equipment events: LOAD, DISC, GTIN, GTOT, AVPU..."
    )
    equipment_reference: str | None = strawberry.field(
        default=None, description="Equipment events: the ISO 6346 container number."
    )
    iso_equipment_code: str | None = strawberry.field(
        name="ISOEquipmentCode", default=None, description="ISO 6346 size/type, e.g. 22G1."
    )
    empty_indicator_code: str | None = strawberry.field(
        default=None, description="Equipment events: EMPTY or LADEN."
    )
    transport_event_type_code: str | None = strawberry.field(
        default=None, description="Transport events: ARRI or DEPA."
    )
    delay_reason_code: str | None = strawberry.field(
        default=None, description="Transport events: SMDG delay reason code."
    )
    change_remark: str | None = strawberry.field(
        default=None, description="Transport events: why the schedule changed."
    )
    shipment_event_type_code: str | None = strawberry.field(
        default=None, description="Shipment events: RECE, DRFT, ISSU, CONF..."
    )
    document_type_code: str | None = strawberry.field(
        default=None, description="Shipment events: BKG, CBR, SHI, TRD..."
    )
    document_id: str | None = strawberry.field(
        name="documentID",
        default=None,
        description="Shipment events: the booking reference (BKG, CBR) or the transport "
        "document reference.",
    )
    reason: str | None = strawberry.field(default=None, description="Shipment events: why.")
    transport_call: TransportCallInput | None = strawberry.field(
        default=None, description="Equipment and transport events: the transport call."
    )
    document_references: list[DocumentReferenceInput] | None = strawberry.field(
        default=None, description="Documents the event relates to."
    )
    references: list[ReferenceInput] | None = strawberry.field(
        default=None, description="References of the shipment."
    )
    seals: list[SealInput] | None = strawberry.field(
        default=None, description="Equipment events: seals on the container."
    )


def dcsa_json(value: Any) -> Any:
    """An input object as the DCSA JSON it mirrors (the GraphQL names are DCSA's)."""
    if isinstance(value, list):
        return [dcsa_json(v) for v in value]
    if not has_object_definition(value):
        return value
    found: dict[str, Any] = {}
    for definition in value.__strawberry_definition__.fields:
        item = getattr(value, definition.python_name)
        if item is not None:
            name = definition.graphql_name or strawberry_camel(definition.python_name)
            found[name] = dcsa_json(item)
    return found


def strawberry_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- Output: what became of each event ------------------------------------------------------


@strawberry.enum(description="What became of one published event.")
class PublishOutcome(Enum):
    ACCEPTED = strawberry.enum_value("ACCEPTED", description="Stored by this call.")
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="Stored before with the same content: nothing changed."
    )
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Refused (see code, field and reason): nothing was stored."
    )
    NOT_STORED = strawberry.enum_value(
        "NOT_STORED", description="Valid, but another event of the batch was rejected."
    )


@strawberry.enum(description="Why an event was rejected.")
class PublishRefusal(Enum):
    INVALID = strawberry.enum_value("INVALID", description="A field breaks the DCSA contract.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description="It names no container visit, port call, document or event you may "
        "publish for (whether it exists or not).",
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="Its eventID is taken by an event with other content."
    )


@strawberry.type(description="The outcome of one event of a batch, by its index.")
class EventPublication:
    index: int = strawberry.field(description="Position in the batch, from 0.")
    event_id: str | None = strawberry.field(name="eventID", description="Its eventID as sent.")
    outcome: PublishOutcome = strawberry.field(description="What became of it.")
    code: PublishRefusal | None = strawberry.field(description="Why it was rejected.")
    field: str | None = strawberry.field(description="The field at fault (a JSON path).")
    reason: str | None = strawberry.field(description="What is wrong with it.")

    @classmethod
    def of(cls, item: ItemOutcome) -> EventPublication:
        return cls(
            index=item.index,
            event_id=item.event_id,
            outcome=PublishOutcome(item.outcome.value),
            code=None if item.code is None else PublishRefusal(item.code.value),
            field=item.field,
            reason=item.reason,
        )


@strawberry.type(description="A published batch: stored whole, or (any event rejected) not.")
class PublishEventsPayload:
    stored: bool = strawberry.field(description="Whether the batch was stored.")
    accepted: int = strawberry.field(description="Events stored by this call.")
    duplicates: int = strawberry.field(description="Events stored before: nothing changed.")
    rejected: int = strawberry.field(description="Events rejected.")
    publication: strawberry.Private[Publication]

    @strawberry.field(description="Each event, in order.")
    def results(self) -> list[EventPublication]:
        # Made only when asked for: a publisher that reads the counts pays for no 1,000 objects.
        return [EventPublication.of(i) for i in self.publication.items]

    @classmethod
    def of(cls, publication: Publication) -> PublishEventsPayload:
        return cls(
            stored=publication.stored,
            accepted=publication.count(Outcome.ACCEPTED),
            duplicates=publication.count(Outcome.DUPLICATE),
            rejected=publication.count(Outcome.REJECTED),
            publication=publication,
        )


def busy() -> GraphQLError:
    """The batch waited past the statement timeout (another batch held its visits): nothing
    was stored, and the same batch may be sent again."""
    return GraphQLError(
        "the database took too long to take the batch; nothing was stored: send it again",
        extensions={"code": "SERVICE_UNAVAILABLE"},
    )


async def publish(context: Context, events: list[Any]) -> PublishEventsPayload:
    try:
        publication = await publish_events(
            context.pools,
            context.principal,
            events,
            operation=context.operation_name or "publishEvents",
            audit=context.audit,
        )
    except TooManyEvents as error:
        raise bad_input("events", str(error)) from None
    except asyncpg.QueryCanceledError:
        raise busy() from None
    return PublishEventsPayload.of(publication)


@strawberry.type
class EventMutation:
    @strawberry.federation.mutation(
        description="Publish DCSA T&T events (up to 1,000): one transaction, stored whole or "
        "not at all; idempotent by eventID. A carrier publishes for its own visits and "
        "documents, a terminal at its terminal. Needs `events:write`.",
        requires_scopes=EVENTS_WRITE,
    )
    async def publish_events(
        self,
        info: Info,
        events: Annotated[
            list[EventInput], strawberry.argument(description="The events, in DCSA's shape.")
        ],
    ) -> PublishEventsPayload | None:
        return await publish(info.context, [dcsa_json(event) for event in events])


def publish_coerced(
    _root: object, info: GraphQLResolveInfo[Context], events: list[dict[str, Any]]
) -> Awaitable[PublishEventsPayload]:
    """`publishEvents` on graphql-core's coerced input: dicts keyed by the GraphQL names,
    which are DCSA's, so the events go to the publisher as they are. Strawberry's conversion
    to EventInput objects (and dcsa_json back) costs about 0.6 ms of CPU per event; this
    resolver, installed on the compiled schema, skips it (differential test:
    tests/schema/test_publishing.py)."""
    return publish(info.context, events)


# Installed by schema.build_schema on the compiled schema, before the field rules wrap them.
COERCED_RESOLVERS: dict[tuple[str, str], Callable[..., Any]] = {
    ("Mutation", "publishEvents"): publish_coerced,
}

mutations: list[type] = [EventMutation]
types: list[type] = []
