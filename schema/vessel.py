"""The vessel part of the schema: vessels, ports, terminals, port calls and their JIT timestamps.

Field rules are declared on the fields (see schema/permissions.py); row rules live in
resolvers/vessel.py and apply inside every loader, so nothing here checks access by hand.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from asyncpg import Record
from strawberry import relay

from resolvers import identifiers
from resolvers.identifiers import IdentifierError
from resolvers.vessel import (
    PortCallCriteria,
    PortCallCursor,
    TerminalKey,
    VesselCursor,
)
from schema.context import Info
from schema.inputs import (
    bad_input,
    cursor_key,
    identifier,
    instant,
    parse_instant,
    parse_string,
    parse_uuid,
    refused,
    required_nodes,
    terminal_argument,
    warn,
)
from schema.pagination import After, Connection, First, PageRequest, connection, page_request
from schema.permissions import scopes
from schema.scopes import Scope

if TYPE_CHECKING:
    from schema.cargo import Container
    from schema.security import Advisory

MAX_SEARCH_LENGTH = 100


# --- Input validation: every refusal is a GraphQL error naming the argument --------------------


def valid_imo(info: Info, value: str, argument: str) -> str:
    result = identifier(identifiers.imo, value, argument)
    if result.warning is not None:
        warn(info, result.warning)
    return result.value


def valid_search(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_SEARCH_LENGTH:
        raise bad_input("search", f"must be at most {MAX_SEARCH_LENGTH} characters")
    return value.strip()


# The cursor keys of this schema's lists.
VESSEL_KEY = (parse_string, parse_string)  # (lower(name), imo)
PORT_CALL_KEY = (parse_instant, parse_uuid)  # (estimated arrival, id)
CONTAINER_KEY = (parse_string,)  # (container number,)


def vessel_cursor(key: list[Any] | None) -> VesselCursor | None:
    return cursor_key(key, VESSEL_KEY)


def port_call_cursor(key: list[Any] | None) -> PortCallCursor | None:
    return cursor_key(key, PORT_CALL_KEY)


def container_cursor(key: list[Any] | None) -> tuple[str] | None:
    return cursor_key(key, CONTAINER_KEY)


def port_call_uuid(value: str) -> uuid.UUID | None:
    """A port call's uuid from its global id or from the bare uuid; None if neither."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        global_id = relay.GlobalID.from_id(value)
    except relay.GlobalIDValueError:
        return None
    if global_id.type_name != "PortCall":
        return None
    try:
        return uuid.UUID(global_id.node_id)
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# --- Enums -----------------------------------------------------------------------------------


@strawberry.enum(description="Where a port call stands.")
class PortCallStatus(Enum):
    PLANNED = strawberry.enum_value("PLANNED", description="Expected; not arrived yet.")
    ARRIVED = strawberry.enum_value("ARRIVED", description="In port limits, not yet berthed.")
    AT_BERTH = strawberry.enum_value("AT_BERTH", description="Alongside at the terminal.")
    DEPARTED = strawberry.enum_value("DEPARTED", description="Left the port.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Called off by the carrier.")


@strawberry.enum(description="DCSA JIT 2.0 timestamp classifier: the step of the negotiation.")
class TimestampClassifier(Enum):
    EST = strawberry.enum_value("EST", description="Estimated, e.g. the carrier's ETA.")
    REQ = strawberry.enum_value(
        "REQ", description="Requested: the provider (e.g. the terminal) asks for this time."
    )
    PLN = strawberry.enum_value(
        "PLN", description="Planned: the time agreed, e.g. the carrier confirming a REQ."
    )
    ACT = strawberry.enum_value("ACT", description="Actual: it happened.")


@strawberry.enum(description="DCSA JIT 2.0 port call event type: what the time is of.")
class PortCallEventType(Enum):
    ARRI = strawberry.enum_value("ARRI", description="Arrival at the service's location.")
    DEPA = strawberry.enum_value("DEPA", description="Departure from the service's location.")
    STRT = strawberry.enum_value("STRT", description="Start of the service.")
    CMPL = strawberry.enum_value("CMPL", description="Completion of the service.")


@strawberry.enum(description="DCSA JIT 2.0 port call service type: what is being timed.")
class PortCallServiceType(Enum):
    BERTH = strawberry.enum_value("BERTH", description="Berthing at the terminal.")
    CARGO_OPERATIONS = strawberry.enum_value(
        "CARGO_OPERATIONS", description="Loading and discharge."
    )
    PILOTAGE = strawberry.enum_value("PILOTAGE", description="Pilot on board.")
    TOWAGE = strawberry.enum_value("TOWAGE", description="Tug assistance.")
    MOORING = strawberry.enum_value("MOORING", description="Mooring or unmooring.")
    BUNKERING = strawberry.enum_value("BUNKERING", description="Fuel delivery.")
    PILOT_BOARDING_PLACE = strawberry.enum_value(
        "PILOT_BOARDING_PLACE", description="At the pilot boarding place."
    )
    ANCHORAGE = strawberry.enum_value("ANCHORAGE", description="At anchor.")
    SHORE_POWER = strawberry.enum_value("SHORE_POWER", description="Connected to shore power.")
    SLUDGE = strawberry.enum_value("SLUDGE", description="Sludge disposal.")
    SEA_PASSAGE = strawberry.enum_value("SEA_PASSAGE", description="Passage towards the port.")
    ALL_FAST = strawberry.enum_value("ALL_FAST", description="All mooring lines made fast.")
    GANGWAY_DOWN_AND_SAFE = strawberry.enum_value(
        "GANGWAY_DOWN_AND_SAFE", description="Gangway down and safe to use."
    )
    VTS_REPORT = strawberry.enum_value(
        "VTS_REPORT", description="Report to vessel traffic services."
    )
    SAFETY = strawberry.enum_value("SAFETY", description="Safety check.")
    FAST_CLOSE = strawberry.enum_value("FAST_CLOSE", description="Fast close of operations.")
    WITHDRAWAL = strawberry.enum_value("WITHDRAWAL", description="A time withdrawn.")
    CANCEL = strawberry.enum_value("CANCEL", description="The service is cancelled.")


@strawberry.enum(description="DCSA JIT 2.0 role of the party that published a timestamp.")
class PublisherRole(Enum):
    CA = strawberry.enum_value("CA", description="Carrier.")
    AG = strawberry.enum_value("AG", description="Carrier's agent.")
    VSL = strawberry.enum_value("VSL", description="The vessel.")
    ATH = strawberry.enum_value("ATH", description="Port authority.")
    PLT = strawberry.enum_value("PLT", description="Pilot.")
    TR = strawberry.enum_value("TR", description="Terminal.")
    TWG = strawberry.enum_value("TWG", description="Towage provider.")
    BUK = strawberry.enum_value("BUK", description="Bunker supplier.")
    LSH = strawberry.enum_value("LSH", description="Lashing provider.")


@strawberry.enum(description="AIS navigational status.")
class NavigationalStatus(Enum):
    UNDER_WAY_USING_ENGINE = strawberry.enum_value(
        "UNDER_WAY_USING_ENGINE", description="Under way using engine."
    )
    AT_ANCHOR = strawberry.enum_value("AT_ANCHOR", description="At anchor.")
    MOORED = strawberry.enum_value("MOORED", description="Moored.")
    RESTRICTED_MANOEUVRABILITY = strawberry.enum_value(
        "RESTRICTED_MANOEUVRABILITY", description="Restricted manoeuvrability."
    )
    NOT_UNDER_COMMAND = strawberry.enum_value("NOT_UNDER_COMMAND", description="Not under command.")
    UNDER_WAY_SAILING = strawberry.enum_value("UNDER_WAY_SAILING", description="Under way sailing.")


# --- Ports and terminals ---------------------------------------------------------------------


@strawberry.federation.type(keys=["unlocode"], description="A port, known by its UN/LOCODE.")
class Port:
    unlocode: str = strawberry.field(description="UN/LOCODE of the port, e.g. USLAX.")
    name: str = strawberry.field(description="Name of the port.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    latitude: float | None = strawberry.field(description="Latitude in decimal degrees (WGS 84).")
    longitude: float | None = strawberry.field(description="Longitude in decimal degrees (WGS 84).")

    @classmethod
    def from_row(cls, row: Record) -> Port:
        return cls(
            unlocode=row["unlocode"],
            name=row["name"],
            country=row["country"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )

    @classmethod
    async def resolve_reference(cls, info: Info, unlocode: str) -> Port | None:
        row = await info.context.loaders.vessel.port_by_unlocode.load(unlocode)
        return None if row is None else cls.from_row(row)

    @strawberry.field(description="The port's container terminals, by SMDG code.")
    async def terminals(self, info: Info) -> list[Terminal]:
        rows = await info.context.loaders.vessel.terminals_by_unlocode.load(self.unlocode)
        return [Terminal.from_row(r) for r in rows]


@strawberry.federation.type(
    keys=["unlocode smdgCode"],
    description="A container terminal, known by its port's UN/LOCODE and its SMDG code.",
)
class Terminal:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG terminal code, unique within the port.")
    name: str = strawberry.field(description="Facility name.")
    operator_name: str = strawberry.field(description="Company operating the terminal.")
    berths: str = strawberry.field(description="The terminal's berths, as the port lists them.")
    latitude: float | None = strawberry.field(description="Latitude in decimal degrees (WGS 84).")
    longitude: float | None = strawberry.field(description="Longitude in decimal degrees (WGS 84).")

    @property
    def key(self) -> TerminalKey:
        return (self.unlocode, self.smdg_code)

    @classmethod
    def from_row(cls, row: Record) -> Terminal:
        return cls(
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            name=row["name"],
            operator_name=row["operator_name"],
            berths=row["berths"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )

    @classmethod
    async def load(cls, info: Info, key: TerminalKey | None) -> Terminal | None:
        if key is None:
            return None
        row = await info.context.loaders.vessel.terminal_by_key.load(key)
        return None if row is None else cls.from_row(row)

    @classmethod
    async def resolve_reference(
        cls,
        info: Info,
        unlocode: str,
        smdgCode: str,  # the representation's GraphQL field name
    ) -> Terminal | None:
        return await cls.load(info, (unlocode, smdgCode))

    @strawberry.field(description="The terminal's port.")
    async def port(self, info: Info) -> Port | None:
        return await Port.resolve_reference(info, self.unlocode)

    @strawberry.federation.field(
        description="Security advisories open now for this terminal, within the caller's TLP "
        "clearance. Needs `security:read`.",
        requires_scopes=scopes(Scope.SECURITY_READ),
    )
    async def open_advisories(
        self, info: Info
    ) -> list[Annotated[Advisory, strawberry.lazy("schema.security")]] | None:
        from schema.security import Advisory  # imported late: schema.security imports this

        rows = await info.context.loaders.security.open_advisories_by_terminal.load(self.key)
        return Advisory.many(info, rows)


# --- Vessels ---------------------------------------------------------------------------------


@strawberry.type(description="A vessel's position as last reported over AIS.")
class AisPosition:
    recorded_at: datetime.datetime = strawberry.field(description="When the fix was received.")
    latitude: float = strawberry.field(description="Latitude in decimal degrees (WGS 84).")
    longitude: float = strawberry.field(description="Longitude in decimal degrees (WGS 84).")
    speed_knots: float | None = strawberry.field(description="Speed over ground in knots.")
    course: float | None = strawberry.field(description="Course over ground in degrees.")
    heading: int | None = strawberry.field(description="True heading in degrees.")
    navigational_status: NavigationalStatus = strawberry.field(
        description="Navigational status the vessel reports."
    )

    @classmethod
    def from_row(cls, row: Record) -> AisPosition:
        return cls(
            recorded_at=row["recorded_at"],
            latitude=row["latitude"],
            longitude=row["longitude"],
            speed_knots=_float(row["speed_knots"]),
            course=_float(row["course_deg"]),
            heading=row["heading_deg"],
            navigational_status=NavigationalStatus(row["navigational_status"]),
        )


@strawberry.federation.type(keys=["imo"], description="A seagoing vessel, known by its IMO number.")
class Vessel(relay.Node):
    imo: str = strawberry.field(description="IMO ship identification number (7 digits).")
    name: str = strawberry.field(description="Name of the vessel. Public schedule data.")
    flag: str = strawberry.field(description="Flag state, ISO 3166-1 alpha-2. Public.")
    operator: str = strawberry.field(description="SCAC of the operating carrier. Public.")
    length_overall: float | None = strawberry.field(description="Length overall in metres. Public.")
    teu_capacity: int | None = strawberry.field(
        description="Nominal capacity in TEU (twenty-foot equivalent units). Public."
    )
    mmsi: str | None = strawberry.federation.field(
        description="Maritime Mobile Service Identity (9 digits). Needs `vessel:read`: with AIS "
        "feeds it tracks the ship live, which the public schedule does not need.",
        requires_scopes=scopes(Scope.VESSEL_READ),
    )
    call_sign: str | None = strawberry.federation.field(
        description="Radio call sign. Needs `vessel:read`, like the MMSI (a live-tracking key).",
        requires_scopes=scopes(Scope.VESSEL_READ),
    )

    @classmethod
    def resolve_id(cls, root: Vessel, *, info: Info) -> str:
        return root.imo

    @classmethod
    def from_row(cls, row: Record) -> Vessel:
        return cls(
            imo=row["imo"],
            name=row["name"],
            flag=row["flag"],
            operator=row["operator_scac"],
            length_overall=_float(row["length_overall_m"]),
            teu_capacity=row["teu_capacity"],
            mmsi=row["mmsi"],
            call_sign=row["call_sign"],
        )

    @classmethod
    async def load_many(cls, info: Info, imos: Iterable[str]) -> list[Vessel | None]:
        rows = await info.context.loaders.vessel.vessel_by_imo.load_many(list(imos))
        return [None if r is None else cls.from_row(r) for r in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, imo: str) -> Vessel | None:
        (vessel,) = await cls.load_many(info, [imo])
        return vessel

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Vessel | None]:
        return required_nodes(await cls.load_many(info, node_ids), required, "Vessel")

    @strawberry.federation.field(
        description="Latest AIS position; null when none was received. Needs `vessel:read` "
        "(live positions are security-sensitive).",
        requires_scopes=scopes(Scope.VESSEL_READ),
    )
    async def latest_position(self, info: Info) -> AisPosition | None:
        row = await info.context.loaders.vessel.latest_position_by_vessel_imo.load(self.imo)
        return None if row is None else AisPosition.from_row(row)

    @strawberry.field(
        description="The vessel's port calls by estimated arrival, oldest first. Public schedule."
    )
    async def port_calls(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[PortCall]:
        request = page_request(first, after, len(PORT_CALL_KEY), info.context.max_page_size)
        key = (self.imo, request.size, port_call_cursor(request.after))
        page = await info.context.loaders.vessel.port_calls_by_vessel_imo.load(key)
        return connection(page, PortCall.from_row, after is not None)


# --- Port calls and the JIT timestamp chain -------------------------------------------------


@strawberry.type(
    description="A DCSA JIT 2.0 port call timestamp: one step of the negotiation of a service "
    "time (estimated, requested, planned, actual), replying to an earlier one."
)
class Timestamp:
    id: strawberry.ID = strawberry.field(description="The timestamp's uuid (DCSA timestampID).")
    classifier: TimestampClassifier = strawberry.field(
        description="Step of the negotiation: EST, REQ, PLN or ACT."
    )
    service_type: PortCallServiceType = strawberry.field(description="The service timed.")
    event_type: PortCallEventType = strawberry.field(description="What the time is of.")
    event_date_time: datetime.datetime = strawberry.field(description="The time, with offset.")
    publisher: str = strawberry.field(description="Code of the publishing party (SCAC, terminal).")
    publisher_role: PublisherRole = strawberry.field(description="Role of the publisher.")
    remark: str | None = strawberry.field(description="Free-text remark of the publisher.")
    delay_reason_code: str | None = strawberry.field(description="SMDG delay reason code.")
    reply_to_id: strawberry.Private[uuid.UUID | None]
    terminal_key: strawberry.Private[TerminalKey]

    @classmethod
    def from_row(cls, row: Record) -> Timestamp:
        return cls(
            id=strawberry.ID(str(row["id"])),
            classifier=TimestampClassifier(row["classifier"]),
            service_type=PortCallServiceType(row["service_type"]),
            event_type=PortCallEventType(row["event_type"]),
            event_date_time=row["event_datetime"],
            publisher=row["publisher_code"],
            publisher_role=PublisherRole(row["publisher_role"]),
            remark=row["remark"],
            delay_reason_code=row["delay_reason_code"],
            reply_to_id=row["reply_to_timestamp_id"],
            terminal_key=(row["terminal_unlocode"], row["terminal_smdg_code"]),
        )

    @strawberry.field(
        description="The timestamp this one answers (DCSA replyToTimestampID), e.g. the "
        "carrier's PLN confirming the terminal's REQ; null at the start of a chain."
    )
    async def reply_to(self, info: Info) -> Timestamp | None:
        if self.reply_to_id is None:
            return None
        row = await info.context.loaders.vessel.timestamp_by_id.load(self.reply_to_id)
        return None if row is None else Timestamp.from_row(row)

    @strawberry.field(description="The terminal whose call this service belongs to.")
    async def terminal(self, info: Info) -> Terminal | None:
        return await Terminal.load(info, self.terminal_key)


@strawberry.federation.type(
    keys=["id"],
    description="A vessel's call at the port (DCSA JIT 2.0 port call). Its key `id` is the Relay "
    "global id; `portCallId` is the DCSA portCallID (uuid).",
)
class PortCall(relay.Node):
    port_call_id: uuid.UUID = strawberry.field(description="The DCSA portCallID (uuid).")
    port_visit_reference: str = strawberry.field(description="The port's visit reference.")
    carrier: str = strawberry.field(description="SCAC of the carrier operating the call.")
    carrier_import_voyage: str | None = strawberry.field(description="Carrier's import voyage.")
    carrier_export_voyage: str | None = strawberry.field(description="Carrier's export voyage.")
    service_code: str | None = strawberry.field(description="Carrier's service (loop) code.")
    status: PortCallStatus = strawberry.field(description="Where the call stands.")
    estimated_arrival: datetime.datetime = strawberry.field(description="Estimated arrival (ETA).")
    actual_arrival: datetime.datetime | None = strawberry.field(description="Actual arrival (ATA).")
    estimated_departure: datetime.datetime = strawberry.field(
        description="Estimated departure (ETD)."
    )
    actual_departure: datetime.datetime | None = strawberry.field(
        description="Actual departure (ATD)."
    )
    berth: str | None = strawberry.field(description="Berth at the first terminal called at.")
    unlocode: strawberry.Private[str]
    vessel_imo: strawberry.Private[str]
    terminal_key: strawberry.Private[TerminalKey | None]

    @classmethod
    def resolve_id(cls, root: PortCall, *, info: Info) -> str:
        return str(root.port_call_id)

    @classmethod
    def from_row(cls, row: Record) -> PortCall:
        smdg_code = row["terminal_smdg_code"]
        return cls(
            port_call_id=row["id"],
            port_visit_reference=row["port_visit_reference"],
            carrier=row["carrier_scac"],
            carrier_import_voyage=row["carrier_import_voyage"],
            carrier_export_voyage=row["carrier_export_voyage"],
            service_code=row["service_code"],
            status=PortCallStatus(row["status"]),
            estimated_arrival=row["estimated_arrival"],
            actual_arrival=row["actual_arrival"],
            estimated_departure=row["estimated_departure"],
            actual_departure=row["actual_departure"],
            berth=row["berth"],
            unlocode=row["unlocode"],
            vessel_imo=row["vessel_imo"],
            terminal_key=None if smdg_code is None else (row["terminal_unlocode"], smdg_code),
        )

    @classmethod
    async def load_many(cls, info: Info, ids: Iterable[uuid.UUID]) -> list[PortCall | None]:
        rows = await info.context.loaders.vessel.port_call_by_id.load_many(list(ids))
        return [None if r is None else cls.from_row(r) for r in rows]

    @classmethod
    async def load(cls, info: Info, ident: uuid.UUID | None) -> PortCall | None:
        if ident is None:
            return None
        (port_call,) = await cls.load_many(info, [ident])
        return port_call

    @classmethod
    async def resolve_reference(cls, info: Info, id: str) -> PortCall | None:
        return await cls.load(info, port_call_uuid(id))

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PortCall | None]:
        idents = [port_call_uuid(i) for i in node_ids]
        known = [i for i in idents if i is not None]
        found = dict(zip(known, await cls.load_many(info, known), strict=True))
        nodes = [None if i is None else found.get(i) for i in idents]
        return required_nodes(nodes, required, "PortCall")

    @strawberry.field(description="The port called at.")
    async def port(self, info: Info) -> Port | None:
        return await Port.resolve_reference(info, self.unlocode)

    @strawberry.field(description="The (first) terminal called at; null before it is assigned.")
    async def terminal(self, info: Info) -> Terminal | None:
        return await Terminal.load(info, self.terminal_key)

    @strawberry.field(description="The vessel making the call.")
    async def vessel(self, info: Info) -> Vessel | None:
        return await Vessel.resolve_reference(info, self.vessel_imo)

    @strawberry.federation.field(
        description="The JIT timestamps of the call's services, in the order they were sent. "
        "Needs `vessel:read`; and only the call's carrier, the terminal of the service, customs "
        "and the port authority see them (others get an empty list).",
        requires_scopes=scopes(Scope.VESSEL_READ),
    )
    async def timestamps(self, info: Info) -> list[Timestamp] | None:
        loader = info.context.loaders.vessel.timestamps_by_port_call_id
        return [Timestamp.from_row(r) for r in await loader.load(self.port_call_id)]

    @strawberry.federation.field(
        description="Containers handled in this call, by container number; cargo row rules "
        "apply. Needs `cargo:read`.",
        requires_scopes=scopes(Scope.CARGO_READ),
    )
    async def containers(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[Annotated[Container, strawberry.lazy("schema.cargo")]] | None:
        from schema.cargo import Container  # imported late: schema.cargo imports this

        request = page_request(first, after, len(CONTAINER_KEY), info.context.max_page_size)
        key = (self.port_call_id, request.size, container_cursor(request.after))
        page = await info.context.loaders.cargo.containers_by_port_call_id.load(key)
        return connection(page, Container.from_row, after is not None)


# --- Root fields -----------------------------------------------------------------------------


@strawberry.input(description="A terminal by its SMDG code within a port.")
class TerminalKeyInput:
    smdg_code: str = strawberry.field(description="SMDG terminal code, e.g. APMT.")
    unlocode: str | None = strawberry.field(
        default=None, description="UN/LOCODE of the port; this server's port when omitted."
    )

    def key(self, info: Info, argument: str) -> TerminalKey:
        try:
            return self.checked_key(info, argument)
        except IdentifierError as error:
            raise refused(error) from None

    def checked_key(self, info: Info, argument: str) -> TerminalKey:
        """The (UN/LOCODE, SMDG code) named; IdentifierError names the field at fault."""
        port = self.unlocode if self.unlocode is not None else info.context.port_locode
        return identifiers.smdg_terminal_code(
            self.smdg_code,
            port,
            field=f"{argument}.smdgCode",
            unlocode_field=f"{argument}.unlocode",
        )


@strawberry.input(description="Conditions on port calls; all those given must hold.")
class PortCallFilter:
    terminal: TerminalKeyInput | None = strawberry.field(
        default=None, description="Calls with a terminal call at this terminal."
    )
    status: PortCallStatus | None = strawberry.field(
        default=None, description="Calls in this status."
    )
    carrier: str | None = strawberry.field(
        default=None, description="Calls operated by this carrier (SCAC)."
    )
    vessel_imo: str | None = strawberry.field(
        default=None, description="Calls of this vessel (IMO number)."
    )
    arriving_after: datetime.datetime | None = strawberry.field(
        default=None, description="Estimated arrival at or after this time (with offset)."
    )
    arriving_before: datetime.datetime | None = strawberry.field(
        default=None, description="Estimated arrival before this time (with offset)."
    )

    def criteria(self, info: Info) -> PortCallCriteria:
        return PortCallCriteria(
            terminal=terminal_argument(info, self.terminal, "filter.terminal"),
            status=None if self.status is None else self.status.name,
            carrier_scac=identifier(identifiers.scac, self.carrier, "filter.carrier"),
            vessel_imo=None
            if self.vessel_imo is None
            else valid_imo(info, self.vessel_imo, "filter.vesselImo"),
            arriving_after=instant(self.arriving_after, "filter.arrivingAfter"),
            arriving_before=instant(self.arriving_before, "filter.arrivingBefore"),
        )


# The root lists' arguments, validated: shared by the resolvers and the compiled path.


def port_calls_arguments(
    info: Info, filter: PortCallFilter | None, first: int | None, after: str | None
) -> tuple[PortCallCriteria, PageRequest, PortCallCursor | None]:
    criteria = PortCallCriteria() if filter is None else filter.criteria(info)
    request = page_request(first, after, len(PORT_CALL_KEY), info.context.max_page_size)
    return criteria, request, port_call_cursor(request.after)


def vessels_arguments(
    info: Info, search: str | None, first: int | None, after: str | None
) -> tuple[str | None, PageRequest, VesselCursor | None]:
    request = page_request(first, after, len(VESSEL_KEY), info.context.max_page_size)
    return valid_search(search), request, vessel_cursor(request.after)


def port_call_argument(value: str) -> uuid.UUID:
    ident = port_call_uuid(value)
    if ident is None:
        raise bad_input("id", "is not a PortCall id (global id or uuid)")
    return ident


@strawberry.type
class VesselQuery:
    @strawberry.field(description="A vessel by IMO number; null when unknown. Public.")
    async def vessel(
        self,
        info: Info,
        imo: Annotated[
            str, strawberry.argument(description='IMO number: 7 digits, "IMO " prefix allowed.')
        ],
    ) -> Vessel | None:
        return await Vessel.resolve_reference(info, valid_imo(info, imo, "imo"))

    @strawberry.field(description="Vessels by name (case-insensitive), then IMO number. Public.")
    async def vessels(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Start of the vessel's name (any case), or an exact IMO number."
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Vessel]:
        search, request, cursor = vessels_arguments(info, search, first, after)
        page = await info.context.loaders.vessel.vessels(search, request.size, cursor)
        return connection(page, Vessel.from_row, after is not None)

    @strawberry.field(description="A port call by id; null when unknown. Public schedule.")
    async def port_call(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The port call's global `id`, or its `portCallId`."),
        ],
    ) -> PortCall | None:
        return await PortCall.load(info, port_call_argument(id))

    @strawberry.field(
        description="Port calls by estimated arrival, then id (public schedule); filters optional."
    )
    async def port_calls(
        self,
        info: Info,
        filter: Annotated[
            PortCallFilter | None,
            strawberry.argument(description="Conditions the port calls must meet."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[PortCall]:
        criteria, request, cursor = port_calls_arguments(info, filter, first, after)
        page = await info.context.loaders.vessel.port_calls(criteria, request.size, cursor)
        return connection(page, PortCall.from_row, after is not None)

    @strawberry.field(description="A port by UN/LOCODE, with its terminals; null when unknown.")
    async def port(
        self,
        info: Info,
        unlocode: Annotated[str, strawberry.argument(description="UN/LOCODE, e.g. USLAX.")],
    ) -> Port | None:
        return await Port.resolve_reference(
            info, identifier(identifiers.unlocode, unlocode, "unlocode")
        )


queries: list[type] = [VesselQuery]
types: list[type] = [Vessel, PortCall, Port, Terminal, Timestamp]
