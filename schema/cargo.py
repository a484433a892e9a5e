"""The cargo part of the schema: containers, shipments and holds (DCSA events: schema/events.py).

Field rules are declared once on the fields (`requires_scopes`); row rules apply inside every
cargo loader (resolvers/cargo.py), so nothing here checks access by hand. This is the hottest
path of the API (port calls x containers x events), hence: plain attributes wherever a field
is a column, resolvers only for links, and enum fields carrying the raw code (graphql-core
serialises those with one dict lookup; an Enum member costs a scan of the enum's values).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from asyncpg import Record
from strawberry import relay

from resolvers import identifiers
from resolvers.cargo import ContainerCriteria, ContainerCursor
from resolvers.paging import Page
from schema.context import Info
from schema.inputs import (
    TerminalInput,
    bad_input,
    cursor_key,
    identifier,
    parse_string,
    required_nodes,
    terminal_argument,
)
from schema.pagination import After, Connection, First, PageRequest, connection, page_request
from schema.permissions import scopes, type_scopes
from schema.scopes import Scope

if TYPE_CHECKING:
    from schema.events import Event
    from schema.gate import GateTransaction
    from schema.vessel import PortCall, Terminal

COMMERCIAL = scopes(Scope.CARGO_COMMERCIAL)
CUSTOMS = scopes(Scope.CARGO_CUSTOMS)
CARGO_READ = scopes(Scope.CARGO_READ)
DOCUMENT_REFERENCE = re.compile(r"[A-Z0-9]{4,20}")


# --- Input validation: every refusal is a GraphQL error naming the argument ---------------


def valid_reference(value: str, pattern: re.Pattern[str], argument: str, what: str) -> str:
    reference = value.strip().upper() if value.isascii() else value
    if pattern.fullmatch(reference) is None:
        raise bad_input(argument, f"{value[:40]!r} is not {what}")
    return reference


def document_reference(value: str, argument: str) -> str:
    what = "a transport document reference (4 to 20 letters or digits)"
    return valid_reference(value, DOCUMENT_REFERENCE, argument, what)


# The cursor key of container lists: (container number,).
CONTAINER_KEY = (parse_string,)


def container_cursor(key: list[Any] | None) -> ContainerCursor | None:
    return cursor_key(key, CONTAINER_KEY)


# --- Enums (DCSA code lists) ----------------------------------------------------------------


@strawberry.enum(description="Where a container stands in its visit to the port.")
class ContainerStatus(Enum):
    ON_VESSEL = strawberry.enum_value(
        "ON_VESSEL", description="On board the vessel of the visit's call."
    )
    IN_YARD = strawberry.enum_value("IN_YARD", description="In the terminal's yard.")
    PICKED_UP = strawberry.enum_value(
        "PICKED_UP", description="Left the terminal by truck or rail."
    )
    EMPTY_RETURNED = strawberry.enum_value(
        "EMPTY_RETURNED", description="Returned empty after an import."
    )
    GATED_IN = strawberry.enum_value(
        "GATED_IN", description="Delivered to the terminal for export."
    )
    LOADED = strawberry.enum_value("LOADED", description="Loaded on the export vessel.")


@strawberry.enum(description="Whether cargo comes into the port's hinterland or leaves it.")
class CargoDirection(Enum):
    IMPORT = "IMPORT"
    EXPORT = "EXPORT"


@strawberry.enum(description="DCSA empty indicator code: whether the equipment is loaded.")
class EmptyIndicatorCode(Enum):
    EMPTY = "EMPTY"
    LADEN = "LADEN"


@strawberry.enum(description="Who holds a container back.")
class HoldType(Enum):
    CUSTOMS = "CUSTOMS"
    FREIGHT = "FREIGHT"
    TERMINAL = "TERMINAL"


# --- Small value types ----------------------------------------------------------------------


@strawberry.type(description="Dangerous goods declared in a container (IMDG).")
class DangerousGoods:
    un_number: str = strawberry.field(description="UN number of the substance (4 digits).")
    imo_class: str | None = strawberry.field(description="IMDG hazard class, e.g. 3 or 2.1.")


@strawberry.type(description="A party named on a transport document (DCSA document party).")
class Party:
    name: str = strawberry.field(description="The party's name as on the document.")
    organization_code: str | None = strawberry.field(
        description="The party's organization code when it is a partner of the port."
    )

    @classmethod
    def from_columns(cls, row: Record, prefix: str) -> Party | None:
        name = row[f"{prefix}_name"]
        return None if name is None else cls(name=name, organization_code=row[f"{prefix}_code"])


@strawberry.type(description="A hold placed on a container visit, and its release.")
class Hold:
    type: HoldType = strawberry.field(
        description="Who holds the container: customs, line, terminal."
    )
    reason_code: str = strawberry.field(description="Coded reason for the hold.")
    remark: str | None = strawberry.federation.field(
        description="Free-text reason. Needs `cargo:customs` (may reveal an inspection).",
        requires_scopes=CUSTOMS,
    )
    placed_at: datetime.datetime = strawberry.field(description="When the hold was placed.")
    placed_by: str = strawberry.field(description="Organization code of who placed it.")
    released_at: datetime.datetime | None = strawberry.field(
        description="When it was released; null while it stands."
    )
    released_by: str | None = strawberry.field(
        description="Organization code of who released it; null while it stands."
    )

    @strawberry.field(description="True while the hold stands (not released).")
    def active(self) -> bool:
        return self.released_at is None

    @classmethod
    def from_row(cls, row: Record) -> Hold:
        return cls(
            type=row["hold_type"],
            reason_code=row["reason_code"],
            remark=row["remark"],
            placed_at=row["placed_at"],
            placed_by=row["placed_by_code"],
            released_at=row["released_at"],
            released_by=row["released_by_code"],
        )


# --- Links to other sources (their types are imported when first needed) ------------------


async def load_port_call(info: Info, port_call_id: uuid.UUID | None) -> PortCall | None:
    from schema.vessel import PortCall

    if port_call_id is None:
        return None
    row = await info.context.loaders.vessel.port_call_by_id.load(port_call_id)
    return None if row is None else PortCall.from_row(row)


async def load_terminal(info: Info, unlocode: str | None, smdg: str | None) -> Terminal | None:
    from schema.vessel import Terminal

    if unlocode is None or smdg is None:
        return None
    row = await info.context.loaders.vessel.terminal_by_key.load((unlocode, smdg))
    return None if row is None else Terminal.from_row(row)


# --- Containers -----------------------------------------------------------------------------


@strawberry.federation.type(
    keys=["number"],
    description="A container (ISO 6346 equipment) in one of its visits to the port: by number, "
    "its latest visit you may see; in a port call, that call's visit; in a filtered list, its "
    "latest visit meeting the filter. Needs `cargo:read` on every path (`node`, `_entities`).",
    directives=type_scopes(Scope.CARGO_READ),
)
class Container(relay.Node):
    number: str = strawberry.field(description="ISO 6346 container number, e.g. MSCU1234565.")
    iso_type: str = strawberry.field(description="ISO 6346 size/type code, e.g. 45G1.")
    tare_weight_kg: int | None = strawberry.field(description="Tare weight in kilograms.")
    carrier: str = strawberry.field(description="SCAC of the carrier the visit is for.")
    direction: CargoDirection = strawberry.field(description="Import or export visit.")
    empty_indicator: EmptyIndicatorCode = strawberry.field(description="Empty or laden.")
    status: ContainerStatus = strawberry.field(description="Where the container stands.")
    yard_location: str | None = strawberry.field(description="Yard slot at the terminal.")
    available_for_pickup: bool = strawberry.field(
        description="The terminal releases it for pickup now (no hold, discharged, paid)."
    )
    last_free_day: datetime.date | None = strawberry.field(
        description="Last day it can stay in the yard before demurrage (terminal's local date)."
    )
    on_hold: bool = strawberry.field(description="At least one hold stands on this visit.")
    transport_document_reference: str | None = strawberry.field(
        description="The bill of lading it travels under; null when empty."
    )
    reefer_setpoint_celsius: float | None = strawberry.field(
        description="Reefer temperature setpoint in degrees Celsius; null for dry boxes."
    )
    dangerous_goods: DangerousGoods | None = strawberry.field(
        description="Declared dangerous goods; null when none."
    )
    updated_at: datetime.datetime = strawberry.field(description="When the visit last changed.")
    gross_weight_kg: float | None = strawberry.federation.field(
        description="Verified gross mass in kilograms. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    seals: list[str] | None = strawberry.federation.field(
        description="Seal numbers. Needs `cargo:commercial`.", requires_scopes=COMMERCIAL
    )
    visit_id: strawberry.Private[int]
    port_call_id: strawberry.Private[uuid.UUID]
    unlocode: strawberry.Private[str]
    smdg_code: strawberry.Private[str]

    @classmethod
    def resolve_id(cls, root: Container, *, info: Info) -> str:
        return root.number

    @classmethod
    def from_row(cls, row: Record) -> Container:
        un_number = row["dangerous_goods_un_number"]
        return cls(
            number=row["equipment_reference"],
            iso_type=row["iso_equipment_code"],
            tare_weight_kg=row["tare_weight_kg"],
            carrier=row["carrier_scac"],
            direction=row["direction"],
            empty_indicator=row["empty_indicator_code"],
            status=row["status"],
            yard_location=row["yard_location"],
            available_for_pickup=row["available_for_pickup"],
            last_free_day=row["last_free_day"],
            on_hold=row["on_hold"],
            transport_document_reference=row["transport_document_reference"],
            reefer_setpoint_celsius=row["reefer_setpoint_c"],
            dangerous_goods=None
            if un_number is None
            else DangerousGoods(un_number=un_number, imo_class=row["dangerous_goods_class"]),
            updated_at=row["updated_at"],
            gross_weight_kg=row["gross_weight_kg"],
            seals=row["seals"],
            visit_id=row["id"],
            port_call_id=row["port_call_id"],
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
        )

    @classmethod
    async def load_many(cls, info: Info, numbers: Iterable[str]) -> list[Container | None]:
        rows = await info.context.loaders.cargo.container_by_number.load_many(list(numbers))
        return [None if r is None else cls.from_row(r) for r in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, number: str) -> Container | None:
        (container,) = await cls.load_many(info, [number])
        return container

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Container | None]:
        return required_nodes(await cls.load_many(info, node_ids), required, "Container")

    async def _shipment_row(self, info: Info) -> Record | None:
        if self.transport_document_reference is None:
            return None
        loader = info.context.loaders.cargo.shipment_by_transport_document_reference
        row: Record | None = await loader.load(self.transport_document_reference)
        return row

    async def _shipment_text(self, info: Info, column: str) -> str | None:
        row = await self._shipment_row(info)
        return None if row is None else cast(str | None, row[column])

    @strawberry.field(description="The terminal where the container is (or is due).")
    async def terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.smdg_code)

    @strawberry.field(description="The vessel call this visit belongs to.")
    async def port_call(
        self, info: Info
    ) -> Annotated[PortCall, strawberry.lazy("schema.vessel")] | None:
        return await load_port_call(info, self.port_call_id)

    @strawberry.field(description="The shipment (bill of lading) it travels under, if laden.")
    async def shipment(self, info: Info) -> Shipment | None:
        row = await self._shipment_row(info)
        return None if row is None else Shipment.from_row(row)

    @strawberry.field(description="Holds placed on this visit, oldest first, released or not.")
    async def holds(self, info: Info) -> list[Hold]:
        rows = await info.context.loaders.cargo.holds_by_container_visit_id.load(self.visit_id)
        return [Hold.from_row(r) for r in rows]

    @strawberry.field(
        description="DCSA T&T events of the container, latest first; retracted ones left out."
    )
    async def events(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Annotated[Event, strawberry.lazy("schema.events")]]:
        # Imported late: schema.events imports this module.
        from schema.events import EVENT_KEY, event_cursor, event_from_row

        request = page_request(first, after, len(EVENT_KEY), info.context.max_page_size)
        key = (self.number, request.size, event_cursor(request.after))
        page = await info.context.loaders.cargo.events_by_equipment_reference.load(key)
        return connection(page, event_from_row, after is not None)

    @strawberry.federation.field(
        description="Gate transactions of the container, oldest first. Needs `gate:read`.",
        requires_scopes=scopes(Scope.GATE_READ),
    )
    async def gate_transactions(
        self, info: Info
    ) -> list[Annotated[GateTransaction, strawberry.lazy("schema.gate")]] | None:
        from schema.gate import GateTransaction

        loader = info.context.loaders.gate.gate_transactions_by_equipment_reference
        return [GateTransaction.from_row(r) for r in await loader.load(self.number)]

    @strawberry.federation.field(
        description="Commodity description from the bill of lading. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    async def commodity(self, info: Info) -> str | None:
        return await self._shipment_text(info, "commodity")

    @strawberry.federation.field(
        description="Harmonized System code of the commodity. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    async def hs_code(self, info: Info) -> str | None:
        return await self._shipment_text(info, "hs_code")

    @strawberry.federation.field(
        description="Name of the shipper (DCSA party OS) on its bill of lading; the party "
        "itself is `shipment.shipper`. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    async def shipper(self, info: Info) -> str | None:
        return await self._shipment_text(info, "shipper_name")

    @strawberry.federation.field(
        description="Name of the consignee (DCSA party CN) on its bill of lading; the party "
        "itself is `shipment.consignee`. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    async def consignee(self, info: Info) -> str | None:
        return await self._shipment_text(info, "consignee_name")


# --- Shipments ------------------------------------------------------------------------------


@strawberry.federation.type(
    keys=["transportDocumentReference"],
    description="A shipment, known by its transport document (bill of lading) reference. Needs "
    "`cargo:read` on every path (`_entities` included).",
    directives=type_scopes(Scope.CARGO_READ),
)
class Shipment:
    transport_document_reference: str = strawberry.field(
        description="Transport document (bill of lading) reference."
    )
    carrier_booking_reference: str = strawberry.field(description="Carrier's booking reference.")
    carrier: str = strawberry.field(description="SCAC of the carrier issuing the document.")
    direction: CargoDirection = strawberry.field(description="Import or export through the port.")
    port_of_loading: str = strawberry.field(description="UN/LOCODE of the port of loading.")
    port_of_discharge: str = strawberry.field(description="UN/LOCODE of the port of discharge.")
    created_at: datetime.datetime = strawberry.field(description="When the booking was made.")
    place_of_receipt: str | None = strawberry.federation.field(
        description="UN/LOCODE where the carrier takes the cargo in. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    place_of_delivery: str | None = strawberry.federation.field(
        description="UN/LOCODE where the carrier hands the cargo over. Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    commodity: str | None = strawberry.federation.field(
        description="Commodity description. Needs `cargo:commercial`.", requires_scopes=COMMERCIAL
    )
    hs_code: str | None = strawberry.federation.field(
        description="Harmonized System code. Needs `cargo:commercial`.", requires_scopes=COMMERCIAL
    )
    shipper: Party | None = strawberry.federation.field(
        description="Shipper (DCSA party OS). Needs `cargo:commercial`.", requires_scopes=COMMERCIAL
    )
    consignee: Party | None = strawberry.federation.field(
        description="Consignee (DCSA party CN). Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )
    notify_party: Party | None = strawberry.federation.field(
        description="Notify party (DCSA party N1). Needs `cargo:commercial`.",
        requires_scopes=COMMERCIAL,
    )

    @classmethod
    def from_row(cls, row: Record) -> Shipment:
        return cls(
            transport_document_reference=row["transport_document_reference"],
            carrier_booking_reference=row["carrier_booking_reference"],
            carrier=row["carrier_scac"],
            direction=row["direction"],
            port_of_loading=row["port_of_loading"],
            port_of_discharge=row["port_of_discharge"],
            created_at=row["created_at"],
            place_of_receipt=row["place_of_receipt"],
            place_of_delivery=row["place_of_delivery"],
            commodity=row["commodity"],
            hs_code=row["hs_code"],
            shipper=Party.from_columns(row, "shipper"),
            consignee=Party.from_columns(row, "consignee"),
            notify_party=Party.from_columns(row, "notify_party"),
        )

    @classmethod
    async def resolve_reference(
        cls,
        info: Info,
        transportDocumentReference: str,  # the representation's GraphQL field name
    ) -> Shipment | None:
        return await load_shipment(info, transportDocumentReference)

    @strawberry.field(description="The shipment's containers, by number (latest visit of each).")
    async def containers(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Container]:
        request = page_request(first, after, len(CONTAINER_KEY), info.context.max_page_size)
        key = (self.transport_document_reference, request.size, container_cursor(request.after))
        loader = info.context.loaders.cargo.containers_by_transport_document_reference
        page: Page[Record] = await loader.load(key)
        return connection(page, Container.from_row, after is not None)


async def load_shipment(info: Info, reference: str | None) -> Shipment | None:
    if reference is None:
        return None
    loader = info.context.loaders.cargo.shipment_by_transport_document_reference
    row = await loader.load(reference)
    return None if row is None else Shipment.from_row(row)


# --- Root fields ----------------------------------------------------------------------------


@strawberry.input(description="Conditions on containers; all those given must hold.")
class ContainerFilter:
    terminal: TerminalInput | None = strawberry.field(
        default=None, description="Containers at this terminal."
    )
    status: ContainerStatus | None = strawberry.field(
        default=None, description="Containers in this status."
    )
    carrier: str | None = strawberry.field(
        default=None, description="Containers of this carrier (SCAC)."
    )
    transport_document_reference: str | None = strawberry.field(
        default=None, description="Containers travelling under this bill of lading."
    )
    available_for_pickup: bool | None = strawberry.field(
        default=None, description="Containers released (true) or not (false) for pickup."
    )
    on_hold: bool | None = strawberry.field(
        default=None, description="Containers with (true) or without (false) a standing hold."
    )

    def criteria(self, info: Info) -> ContainerCriteria:
        document = self.transport_document_reference
        return ContainerCriteria(
            terminal=terminal_argument(info, self.terminal, "filter.terminal"),
            status=None if self.status is None else self.status.name,  # names are the codes
            carrier=identifier(identifiers.scac, self.carrier, "filter.carrier"),
            transport_document_reference=None
            if document is None
            else document_reference(document, "filter.transportDocumentReference"),
            available_for_pickup=self.available_for_pickup,
            on_hold=self.on_hold,
        )


def containers_arguments(
    info: Info, filter: ContainerFilter | None, first: int | None, after: str | None
) -> tuple[ContainerCriteria, PageRequest, str | None]:
    """The root container list's arguments, validated (resolvers and compiled path alike)."""
    where = ContainerCriteria() if filter is None else filter.criteria(info)
    request = page_request(first, after, len(CONTAINER_KEY), info.context.max_page_size)
    cursor = container_cursor(request.after)
    return where, request, None if cursor is None else cursor[0]


@strawberry.type
class CargoQuery:
    @strawberry.federation.field(
        description="A container by ISO 6346 number (its latest visit you may see); null when "
        "unknown or not yours. Needs `cargo:read`.",
        requires_scopes=CARGO_READ,
    )
    async def container(
        self,
        info: Info,
        number: Annotated[
            str,
            strawberry.argument(
                description="ISO 6346 container number; spaces and dashes are ignored, the "
                "check digit is verified."
            ),
        ],
    ) -> Container | None:
        return await Container.resolve_reference(
            info, identifier(identifiers.container_number, number, "number")
        )

    @strawberry.federation.field(
        description="Containers you may see, by number, each once: as its latest visit meeting "
        "the filter. Needs `cargo:read`.",
        requires_scopes=CARGO_READ,
    )
    async def containers(
        self,
        info: Info,
        filter: Annotated[
            ContainerFilter | None,
            strawberry.argument(description="Conditions the containers must meet."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Container] | None:
        where, request, cursor = containers_arguments(info, filter, first, after)
        page = await info.context.loaders.cargo.container_page(where, request.size, cursor)
        return connection(page, Container.from_row, after is not None)

    @strawberry.federation.field(
        description="A shipment by transport document (bill of lading) reference; null when "
        "unknown or not yours. Needs `cargo:read`.",
        requires_scopes=CARGO_READ,
    )
    async def shipment(
        self,
        info: Info,
        transport_document_reference: Annotated[
            str, strawberry.argument(description="Transport document reference, e.g. MSCUSH1234.")
        ],
    ) -> Shipment | None:
        reference = document_reference(transport_document_reference, "transportDocumentReference")
        return await load_shipment(info, reference)


queries: list[type] = [CargoQuery]
types: list[type] = [Container, Shipment]
