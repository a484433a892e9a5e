"""Gate writes: truckers book and cancel appointments, terminals record gate moves
(resolvers.gate_writes has the rules and the SQL)."""

from __future__ import annotations

import datetime
from typing import Annotated

import asyncpg
import strawberry

from resolvers.gate_writes import (
    book_appointment,
    booking,
    cancel_appointment,
    gate_move,
    record_gate_move,
    return_rule,
    set_empty_return_rule,
)
from resolvers.writes import Invalid, Written, invalid
from schema.context import Info
from schema.gate import Appointment, EmptyReturnRule, GateMoveType, GateTransaction
from schema.permissions import scopes
from schema.publishing import busy
from schema.scopes import Scope
from schema.vessel import TerminalKeyInput
from schema.writes import WriteStatus, status, terminal_key

GATE_WRITE = scopes(Scope.GATE_WRITE)


@strawberry.input(description="A place of a terminal's hourly appointment slot to book.")
class BookAppointmentInput:
    terminal: TerminalKeyInput = strawberry.field(description="The terminal.")
    slot_start: datetime.datetime = strawberry.field(
        description="Start of the hour booked (on the hour, with offset, within 30 days)."
    )
    move_type: GateMoveType = strawberry.field(description="What the truck comes to do.")
    container_number: str | None = strawberry.field(
        default=None,
        description="ISO 6346 number of the box (required except for an empty pickup); it "
        "must have a visit at the terminal that the move serves.",
    )
    truck_license_plate: str | None = strawberry.field(
        default=None, description="Plate of the truck."
    )
    appointment_reference: str | None = strawberry.field(
        default=None,
        description="Your own reference (4 to 35 capitals, digits or -): booking again with "
        "it is a DUPLICATE, not a second place. Generated when omitted.",
    )


@strawberry.input(description="An appointment of yours to cancel.")
class CancelAppointmentInput:
    appointment_reference: str = strawberry.field(description="Its reference.")


@strawberry.type(description="What an appointment write did.")
class AppointmentPayload(WriteStatus):
    appointment: Appointment | None = strawberry.field(
        description="The appointment booked, cancelled, or stored before (a duplicate)."
    )

    @classmethod
    def of(cls, done: Written) -> AppointmentPayload:
        return cls(
            **status(done), appointment=None if done.row is None else Appointment.from_row(done.row)
        )


@strawberry.type
class AppointmentMutation:
    @strawberry.federation.mutation(
        description="Book a place of a terminal's hourly slot for your truck (truckers, for "
        "themselves). A full slot is refused (CONFLICT on slotStart); concurrent bookings "
        "never exceed the slot's capacity. Needs `gate:write`.",
        requires_scopes=GATE_WRITE,
    )
    async def book_appointment(
        self,
        info: Info,
        input: Annotated[BookAppointmentInput, strawberry.argument(description="The booking.")],
    ) -> AppointmentPayload | None:
        context = info.context
        try:
            request = booking(
                terminal_key(info, input.terminal, "terminal"),
                input.slot_start,
                input.move_type.name,
                input.container_number,
                input.truck_license_plate,
                input.appointment_reference,
                datetime.datetime.now(datetime.UTC),
            )
            done = await book_appointment(
                context.pools,
                context.principal,
                request,
                operation=context.operation_name or "bookAppointment",
                audit=context.audit,
            )
        except Invalid as error:
            return AppointmentPayload.of(invalid(error))
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return AppointmentPayload.of(done)

    @strawberry.federation.mutation(
        description="Cancel one of your scheduled appointments; its place goes back to the "
        "slot. Needs `gate:write`.",
        requires_scopes=GATE_WRITE,
    )
    async def cancel_appointment(
        self,
        info: Info,
        input: Annotated[
            CancelAppointmentInput, strawberry.argument(description="The appointment.")
        ],
    ) -> AppointmentPayload | None:
        context = info.context
        try:
            done = await cancel_appointment(
                context.pools,
                context.principal,
                input.appointment_reference[:64],
                operation=context.operation_name or "cancelAppointment",
                audit=context.audit,
            )
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return AppointmentPayload.of(done)


@strawberry.input(description="A truck's move through your gate (terminals, at their own).")
class RecordGateTransactionInput:
    transaction_reference: str = strawberry.field(
        description="Your reference of the move (4 to 35 capitals, digits or -): recording "
        "it again is a DUPLICATE, or, with gateOutAt, the truck leaving."
    )
    lane: str = strawberry.field(
        description="The gate lane (1 to 10 capitals, digits, - or space)."
    )
    trucker_scac: str = strawberry.field(description="SCAC of the trucking company.")
    move_type: GateMoveType = strawberry.field(description="What the truck came to do.")
    gate_in_at: datetime.datetime = strawberry.field(description="When it came in.")
    gate_out_at: datetime.datetime | None = strawberry.field(
        default=None, description="When it left (now, or in a later call with the same reference)."
    )
    container_number: str | None = strawberry.field(
        default=None, description="ISO 6346 number of the box (except for an empty pickup)."
    )
    appointment_reference: str | None = strawberry.field(
        default=None,
        description="The trucker's appointment at your terminal: it becomes ARRIVED, then "
        "COMPLETED when the truck leaves.",
    )


@strawberry.type(description="What a gate move write did.")
class GateTransactionPayload(WriteStatus):
    gate_transaction: GateTransaction | None = strawberry.field(
        description="The move as stored, with its turn time once the truck has left."
    )

    @classmethod
    def of(cls, done: Written) -> GateTransactionPayload:
        return cls(
            **status(done),
            gate_transaction=None if done.row is None else GateTransaction.from_row(done.row),
        )


@strawberry.type
class GateMoveMutation:
    @strawberry.federation.mutation(
        description="Record a truck's move through your gate (terminals, at their own): "
        "gate-in, and gate-out at once or later under the same reference; the turn time "
        "follows. Needs `gate:write`.",
        requires_scopes=GATE_WRITE,
    )
    async def record_gate_transaction(
        self,
        info: Info,
        input: Annotated[RecordGateTransactionInput, strawberry.argument(description="The move.")],
    ) -> GateTransactionPayload | None:
        context = info.context
        try:
            move = gate_move(
                input.transaction_reference,
                input.lane,
                input.trucker_scac,
                input.move_type.name,
                input.container_number,
                input.appointment_reference,
                (input.gate_in_at, input.gate_out_at),
                datetime.datetime.now(datetime.UTC),
            )
            done = await record_gate_move(
                context.pools,
                context.principal,
                move,
                operation=context.operation_name or "recordGateTransaction",
                audit=context.audit,
            )
        except Invalid as error:
            return GateTransactionPayload.of(invalid(error))
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return GateTransactionPayload.of(done)


@strawberry.input(description="Where your terminal takes a line's empties of a type, for a time.")
class SetEmptyReturnRuleInput:
    carrier_scac: str = strawberry.field(description="The line's SCAC.")
    iso_type: str = strawberry.field(description="ISO 6346 size/type code, e.g. 45G1.")
    accepting: bool = strawberry.field(description="Whether you take them.")
    valid_from: datetime.datetime = strawberry.field(
        description="From when (with offset); setting a rule with the same start replaces it."
    )
    valid_to: datetime.datetime = strawberry.field(description="Until when (with offset).")
    alternate_smdg_code: str | None = strawberry.field(
        default=None, description="Where to return them instead, when not accepting."
    )
    remark: str | None = strawberry.field(default=None, description="Free text (500 at most).")


@strawberry.type(description="What an empty-return rule write did.")
class EmptyReturnRulePayload(WriteStatus):
    rule: EmptyReturnRule | None = strawberry.field(description="The rule as stored.")

    @classmethod
    def of(cls, done: Written) -> EmptyReturnRulePayload:
        return cls(
            **status(done), rule=None if done.row is None else EmptyReturnRule.from_row(done.row)
        )


@strawberry.type
class ReturnRuleMutation:
    @strawberry.federation.mutation(
        description="Say where your terminal takes a line's empties of a type (the \"Return "
        'Signal" partners read in emptyReturns): terminals, at their own. Needs `gate:write`.',
        requires_scopes=GATE_WRITE,
    )
    async def set_empty_return_rule(
        self,
        info: Info,
        input: Annotated[SetEmptyReturnRuleInput, strawberry.argument(description="The rule.")],
    ) -> EmptyReturnRulePayload | None:
        context = info.context
        try:
            rule = return_rule(
                input.carrier_scac,
                input.iso_type,
                input.accepting,
                (input.valid_from, input.valid_to),
                input.alternate_smdg_code,
                input.remark,
            )
            done = await set_empty_return_rule(
                context.pools,
                context.principal,
                rule,
                operation=context.operation_name or "setEmptyReturnRule",
                audit=context.audit,
            )
        except Invalid as error:
            done = invalid(error)
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return EmptyReturnRulePayload.of(done)


mutations: list[type] = [AppointmentMutation, GateMoveMutation, ReturnRuleMutation]
types: list[type] = []
