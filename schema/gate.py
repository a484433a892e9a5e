"""The gate part of the schema: truck appointments, gate transactions, the Return Signal.

Also home of the links to terminals and containers the security module shares.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry

from resolvers import gate as sql
from resolvers import identifiers
from resolvers.paging import Cursor
from resolvers.rules import Rule
from resolvers.sources import Pool
from schema.context import Info
from schema.inputs import (
    TerminalInput,
    cursor_key,
    identifier,
    instant,
    ordered,
    parse_instant,
    parse_int,
    parse_text,
    terminal_argument,
)
from schema.pagination import After, Connection, First, PageRequest, page_request, rows_connection
from schema.permissions import scopes
from schema.scopes import Scope

if TYPE_CHECKING:
    from schema.cargo import Container
    from schema.vessel import Terminal

T = TypeVar("T")
F = TypeVar("F")

# --- Links to the terminals and containers of other sources (shared with schema.security) ---


async def load_terminal(info: Info, unlocode: str | None, smdg: str | None) -> Terminal | None:
    """A terminal through the vessel source's loader (batched with every other terminal)."""
    from schema.vessel import Terminal  # late: schema.vessel reaches this module lazily

    if unlocode is None or smdg is None:
        return None
    return await Terminal.load(info, (unlocode, smdg))


async def load_container(info: Info, number: str | None) -> Container | None:
    """A container through the cargo loader, so the caller's cargo row rule applies."""
    from schema.cargo import Container

    if number is None:
        return None
    return await Container.resolve_reference(info, number)


# --- Enums ---------------------------------------------------------------------------------


@strawberry.enum(description="What a truck comes to the terminal to do.")
class GateMoveType(Enum):
    IMPORT_PICKUP = strawberry.enum_value(
        "IMPORT_PICKUP", description="Collect a laden import box."
    )
    EXPORT_DROPOFF = strawberry.enum_value(
        "EXPORT_DROPOFF", description="Deliver a laden export box."
    )
    EMPTY_RETURN = strawberry.enum_value("EMPTY_RETURN", description="Return an empty box.")
    EMPTY_PICKUP = strawberry.enum_value(
        "EMPTY_PICKUP", description="Collect an empty box (for export stuffing)."
    )


@strawberry.enum(description="Where a truck appointment stands.")
class AppointmentStatus(Enum):
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Booked; the truck is not in yet.")
    ARRIVED = strawberry.enum_value("ARRIVED", description="The truck is at the terminal.")
    COMPLETED = strawberry.enum_value("COMPLETED", description="The move was done.")
    MISSED = strawberry.enum_value("MISSED", description="The truck did not come in its window.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled before the window.")


# --- Types ---------------------------------------------------------------------------------

CARGO_READ = scopes(Scope.CARGO_READ)


@strawberry.type(description="A truck appointment at a terminal gate.")
class Appointment:
    reference: str = strawberry.field(description="The terminal's appointment reference.")
    trucker_scac: str = strawberry.field(description="SCAC of the trucking company.")
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    equipment_reference: str | None = strawberry.field(
        description="ISO 6346 number of the box; null for an empty pickup not yet assigned."
    )
    move_type: GateMoveType = strawberry.field(description="What the truck comes to do.")
    window_start: datetime.datetime = strawberry.field(description="Start of the time window.")
    window_end: datetime.datetime = strawberry.field(description="End of the time window.")
    status: AppointmentStatus = strawberry.field(description="Where the appointment stands.")
    truck_license_plate: str | None = strawberry.field(
        description="Plate of the truck, when the trucker gave it."
    )
    created_at: datetime.datetime = strawberry.field(description="When it was booked.")

    @classmethod
    def from_row(cls, row: Any) -> Appointment:
        return cls(
            reference=row["appointment_reference"],
            trucker_scac=row["trucker_scac"],
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            equipment_reference=row["equipment_reference"],
            move_type=GateMoveType(row["move_type"]),
            window_start=row["window_start"],
            window_end=row["window_end"],
            status=AppointmentStatus(row["status"]),
            truck_license_plate=row["truck_license_plate"],
            created_at=row["created_at"],
        )

    @strawberry.field(description="The terminal of the appointment.")
    async def terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.smdg_code)

    @strawberry.federation.field(
        description=(
            "The container to move, as the caller may see it (cargo row rule); null when none "
            "is assigned or it is not visible. Needs `cargo:read`."
        ),
        requires_scopes=CARGO_READ,
    )
    async def container(
        self, info: Info
    ) -> Annotated[Container, strawberry.lazy("schema.cargo")] | None:
        return await load_container(info, self.equipment_reference)


@strawberry.type(description="A truck's visit through a terminal gate: in, out, turn time.")
class GateTransaction:
    trucker_scac: str = strawberry.field(description="SCAC of the trucking company.")
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    lane: str = strawberry.field(description="Gate lane the truck came through.")
    equipment_reference: str | None = strawberry.field(
        description="ISO 6346 number of the box moved; null for a bobtail visit."
    )
    move_type: GateMoveType = strawberry.field(description="What the truck came to do.")
    gate_in_at: datetime.datetime = strawberry.field(description="When the truck gated in.")
    gate_out_at: datetime.datetime | None = strawberry.field(
        description="When the truck gated out; null while it is still inside."
    )
    turn_time_minutes: int | None = strawberry.field(
        description="Minutes from gate-in to gate-out; null while the truck is inside."
    )
    appointment_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> GateTransaction:
        return cls(
            trucker_scac=row["trucker_scac"],
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            lane=row["lane"],
            equipment_reference=row["equipment_reference"],
            move_type=GateMoveType(row["move_type"]),
            gate_in_at=row["gate_in_at"],
            gate_out_at=row["gate_out_at"],
            turn_time_minutes=row["turn_time_minutes"],
            appointment_id=row["appointment_id"],
        )

    @strawberry.field(description="The appointment the truck came on; null for a walk-in.")
    async def appointment(self, info: Info) -> Appointment | None:
        if self.appointment_id is None:
            return None
        row = await info.context.loaders.gate.appointment_by_id.load(self.appointment_id)
        return None if row is None else Appointment.from_row(row)

    @strawberry.field(description="The terminal of the gate.")
    async def terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.smdg_code)

    @strawberry.federation.field(
        description=(
            "The container moved, as the caller may see it (cargo row rule); null for a "
            "bobtail visit or when it is not visible. Needs `cargo:read`."
        ),
        requires_scopes=CARGO_READ,
    )
    async def container(
        self, info: Info
    ) -> Annotated[Container, strawberry.lazy("schema.cargo")] | None:
        return await load_container(info, self.equipment_reference)


@strawberry.type(
    description=(
        "The Return Signal: whether a terminal accepts a line's empties of one ISO type "
        "during a period, and where to go instead."
    )
)
class EmptyReturnRule:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    carrier_scac: str = strawberry.field(description="SCAC of the line owning the empties.")
    iso_type: str = strawberry.field(description="ISO 6346 size/type code, e.g. 45G1.")
    accepting: bool = strawberry.field(description="True when the terminal takes these empties.")
    valid_from: datetime.datetime = strawberry.field(description="Start of the rule's period.")
    valid_to: datetime.datetime = strawberry.field(description="End of the rule's period.")
    alternate_smdg_code: str | None = strawberry.field(
        description="SMDG code of the terminal (same port) to return to instead, if any."
    )
    remark: str | None = strawberry.field(description="The terminal's note to truckers.")

    @classmethod
    def from_row(cls, row: Any) -> EmptyReturnRule:
        return cls(
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            carrier_scac=row["carrier_scac"],
            iso_type=row["iso_equipment_code"],
            accepting=row["accepting"],
            valid_from=row["valid_from"],
            valid_to=row["valid_to"],
            alternate_smdg_code=row["alternate_smdg_code"],
            remark=row["remark"],
        )

    @strawberry.field(description="The terminal the rule is for.")
    async def terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.smdg_code)

    @strawberry.field(description="The terminal to return to instead, if the rule names one.")
    async def alternate_terminal(
        self, info: Info
    ) -> Annotated[Terminal, strawberry.lazy("schema.vessel")] | None:
        return await load_terminal(info, self.unlocode, self.alternate_smdg_code)


# --- Filters -------------------------------------------------------------------------------


@strawberry.input(description="Conditions on appointments; all those given must hold.")
class AppointmentFilter:
    terminal: TerminalInput | None = strawberry.field(
        default=None, description="Appointments at this terminal."
    )
    status: AppointmentStatus | None = strawberry.field(
        default=None, description="Appointments in this status."
    )
    move_type: GateMoveType | None = strawberry.field(
        default=None, description="Appointments for this kind of move."
    )
    from_: datetime.datetime | None = strawberry.field(
        default=None,
        name="from",
        description="Windows starting at or after this time (with offset).",
    )
    to: datetime.datetime | None = strawberry.field(
        default=None, description="Windows starting before this time (with offset)."
    )
    equipment_reference: str | None = strawberry.field(
        default=None, description="Appointments for this container (ISO 6346 number)."
    )


@strawberry.input(description="Conditions on gate transactions; all those given must hold.")
class GateTransactionFilter:
    terminal: TerminalInput | None = strawberry.field(
        default=None, description="Transactions at this terminal."
    )
    trucker: str | None = strawberry.field(
        default=None, description="Transactions of this trucking company (SCAC)."
    )
    from_: datetime.datetime | None = strawberry.field(
        default=None, name="from", description="Gate-ins at or after this time (with offset)."
    )
    to: datetime.datetime | None = strawberry.field(
        default=None, description="Gate-ins before this time (with offset)."
    )
    move_type: GateMoveType | None = strawberry.field(
        default=None, description="Transactions for this kind of move."
    )


def appointment_filter(info: Info, f: AppointmentFilter | None) -> sql.AppointmentFilter:
    if f is None:
        return sql.AppointmentFilter()
    start = instant(f.from_, "filter.from")
    end = instant(f.to, "filter.to")
    ordered(start, end, "filter.from", "filter.to")
    return sql.AppointmentFilter(
        terminal=terminal_argument(info, f.terminal, "filter.terminal"),
        status=None if f.status is None else f.status.name,
        move_type=None if f.move_type is None else f.move_type.name,
        start=start,
        end=end,
        equipment_reference=identifier(
            identifiers.container_number, f.equipment_reference, "filter.equipmentReference"
        ),
    )


def transaction_filter(info: Info, f: GateTransactionFilter | None) -> sql.TransactionFilter:
    if f is None:
        return sql.TransactionFilter()
    start = instant(f.from_, "filter.from")
    end = instant(f.to, "filter.to")
    ordered(start, end, "filter.from", "filter.to")
    return sql.TransactionFilter(
        terminal=terminal_argument(info, f.terminal, "filter.terminal"),
        trucker=identifier(identifiers.scac, f.trucker, "filter.trucker"),
        start=start,
        end=end,
        move_type=None if f.move_type is None else f.move_type.name,
    )


# --- Root fields ---------------------------------------------------------------------------

INSTANT_KEY = (parse_instant, parse_int)
RULE_KEY = (parse_text, parse_text, parse_text, parse_text, parse_instant, parse_int)


def appointments_arguments(
    info: Info, filter: AppointmentFilter | None, first: int | None, after: str | None
) -> tuple[sql.AppointmentFilter, PageRequest, Cursor | None]:
    """The appointment list's arguments, validated (resolvers and compiled path alike)."""
    request = page_request(first, after, len(INSTANT_KEY), info.context.max_page_size)
    return appointment_filter(info, filter), request, cursor_key(request.after, INSTANT_KEY)


def transactions_arguments(
    info: Info, filter: GateTransactionFilter | None, first: int | None, after: str | None
) -> tuple[sql.TransactionFilter, PageRequest, Cursor | None]:
    """The gate transaction list's arguments, validated (resolvers and compiled path alike)."""
    request = page_request(first, after, len(INSTANT_KEY), info.context.max_page_size)
    return transaction_filter(info, filter), request, cursor_key(request.after, INSTANT_KEY)


@strawberry.type
class GateQuery:
    @strawberry.federation.field(
        description=(
            "Truck appointments by window start, oldest first: a trucker's own, a terminal's "
            "at its terminal, all for customs and the port authority. Needs `gate:read`."
        ),
        requires_scopes=scopes(Scope.GATE_READ),
    )
    async def appointments(
        self,
        info: Info,
        filter: Annotated[
            AppointmentFilter | None,
            strawberry.argument(description="Conditions the appointments must meet."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Appointment] | None:
        conditions, request, cursor = appointments_arguments(info, filter, first, after)
        return await _partner_list(
            info,
            request,
            cursor,
            sql.appointments_page,
            conditions,
            sql.appointment_key,
            Appointment.from_row,
        )

    @strawberry.federation.field(
        description=(
            "Gate transactions by gate-in, newest first, with turn times: a trucker's own, a "
            "terminal's at its terminal, all for customs and the port authority. "
            "Needs `gate:read`."
        ),
        requires_scopes=scopes(Scope.GATE_READ),
    )
    async def gate_transactions(
        self,
        info: Info,
        filter: Annotated[
            GateTransactionFilter | None,
            strawberry.argument(description="Conditions the transactions must meet."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[GateTransaction] | None:
        conditions, request, cursor = transactions_arguments(info, filter, first, after)
        return await _partner_list(
            info,
            request,
            cursor,
            sql.transactions_page,
            conditions,
            sql.transaction_key,
            GateTransaction.from_row,
        )

    @strawberry.federation.field(
        description=(
            "The Return Signal: empty-return rules in force at some moment of [from, to] "
            "(both default to now), by terminal, line and ISO type. Any authenticated partner."
        ),
        authenticated=True,
    )
    async def empty_returns(
        self,
        info: Info,
        terminal: Annotated[
            TerminalInput | None, strawberry.argument(description="Rules of this terminal.")
        ] = None,
        carrier: Annotated[
            str | None, strawberry.argument(description="Rules for this line's empties (SCAC).")
        ] = None,
        iso_type: Annotated[
            str | None,
            strawberry.argument(description="Rules for this ISO 6346 size/type code, e.g. 45G1."),
        ] = None,
        from_: Annotated[
            datetime.datetime | None,
            strawberry.argument(
                name="from", description="Start of the period (with offset); default now."
            ),
        ] = None,
        to: Annotated[
            datetime.datetime | None,
            strawberry.argument(description="End of the period (with offset); default `from`."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[EmptyReturnRule] | None:
        request = page_request(first, after, len(RULE_KEY), info.context.max_page_size)
        start = instant(from_, "from") or datetime.datetime.now(datetime.UTC)
        end = instant(to, "to") or start
        ordered(start, end, "from", "to")
        conditions = sql.EmptyReturnFilter(
            start=start,
            end=end,
            terminal=terminal_argument(info, terminal),
            carrier=identifier(identifiers.scac, carrier, "carrier"),
            iso_type=identifier(identifiers.iso_size_type, iso_type, "isoType"),
        )
        key = cursor_key(request.after, RULE_KEY)
        pool = info.context.pools["gate"]
        rows = await sql.empty_returns_page(pool, conditions, request.size, key)
        return rows_connection(rows, request, sql.empty_return_key, EmptyReturnRule.from_row)


async def _partner_list(
    info: Info,
    request: PageRequest,
    after: Cursor | None,
    fetch: Callable[[Pool, Rule, F, int, Cursor | None], Awaitable[list[sql.Record]]],
    conditions: F,
    key: Callable[[sql.Record], tuple[Any, ...]],
    to_node: Callable[[sql.Record], T],
) -> Connection[T]:
    """A list of partner rows under the gate row rule, after its (time, id) cursor."""
    rule = info.context.loaders.gate.rule
    rows = await fetch(info.context.pools["gate"], rule, conditions, request.size, after)
    return rows_connection(rows, request, key, to_node)


queries: list[type] = [GateQuery]
types: list[type] = []
