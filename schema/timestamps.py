"""JIT 2.0 port call timestamps: `publishPortCallTimestamp` (resolvers.vessel_writes)."""

from __future__ import annotations

import datetime
from typing import Annotated

import asyncpg
import strawberry

from resolvers.vessel_writes import (
    MAX_REMARK,
    TimestampRequest,
    a_uuid,
    checked_text,
    maybe_uuid,
    publish_timestamp,
    when,
)
from resolvers.writes import Invalid, Written, invalid
from schema.context import Info
from schema.permissions import scopes
from schema.publishing import busy
from schema.scopes import Scope
from schema.vessel import (
    PortCallEventType,
    PortCallServiceType,
    TerminalKeyInput,
    Timestamp,
    TimestampClassifier,
)
from schema.writes import WriteStatus, status, terminal_key

PORTCALL_WRITE = scopes(Scope.PORTCALL_WRITE)


@strawberry.input(description="A DCSA JIT 2.0 timestamp of a port call service.")
class PortCallTimestampInput:
    timestamp_id: str = strawberry.field(
        name="timestampID",
        description="The timestamp's UUID, made by its publisher: publishing is idempotent by it.",
    )
    port_call_id: str = strawberry.field(
        name="portCallID", description="The port call (PortCall.portCallId)."
    )
    terminal: TerminalKeyInput | None = strawberry.field(
        default=None, description="The terminal call's terminal (needed when there are several)."
    )
    port_call_service_type_code: PortCallServiceType = strawberry.field(
        description="The service timed (BERTH, CARGO_OPERATIONS, PILOTAGE, ...)."
    )
    port_call_service_event_type_code: PortCallEventType = strawberry.field(
        description="What the time is of: ARRI, DEPA, STRT or CMPL."
    )
    classifier_code: TimestampClassifier = strawberry.field(description="EST, REQ, PLN or ACT.")
    date_time: datetime.datetime = strawberry.field(description="The time, with offset.")
    reply_to_timestamp_id: str | None = strawberry.field(
        name="replyToTimestampID",
        default=None,
        description="The timestamp this one answers; it must belong to the same port call.",
    )
    delay_reason_code: str | None = strawberry.field(
        default=None, description="SMDG delay reason code (at most 3 characters)."
    )
    remark: str | None = strawberry.field(
        default=None, description="Free text (at most 500 characters)."
    )


@strawberry.type(description="What a timestamp write did.")
class PortCallTimestampPayload(WriteStatus):
    timestamp: Timestamp | None = strawberry.field(
        description="The timestamp stored (before, for a duplicate)."
    )

    @classmethod
    def of(cls, done: Written) -> PortCallTimestampPayload:
        return cls(
            **status(done), timestamp=None if done.row is None else Timestamp.from_row(done.row)
        )


def request_of(info: Info, given: PortCallTimestampInput) -> TimestampRequest:
    return TimestampRequest(
        timestamp_id=a_uuid(given.timestamp_id, "timestampID"),
        port_call_id=a_uuid(given.port_call_id, "portCallID"),
        terminal=None if given.terminal is None else terminal_key(info, given.terminal, "terminal"),
        service_type=given.port_call_service_type_code.name,
        event_type=given.port_call_service_event_type_code.name,
        classifier=given.classifier_code.name,
        event_datetime=when(given.date_time),
        reply_to=maybe_uuid(given.reply_to_timestamp_id, "replyToTimestampID"),
        delay_reason_code=checked_text(given.delay_reason_code, "delayReasonCode", 3),
        remark=checked_text(given.remark, "remark", MAX_REMARK),
    )


@strawberry.type
class TimestampMutation:
    @strawberry.federation.mutation(
        description="Publish a DCSA JIT 2.0 timestamp of a port call service: the carrier of "
        "the call, the terminal called at, or the port authority. Idempotent by timestampID; "
        "an actual berth arrival or departure sets the call's actual times. Needs "
        "`portcall:write`.",
        requires_scopes=PORTCALL_WRITE,
    )
    async def publish_port_call_timestamp(
        self,
        info: Info,
        input: Annotated[PortCallTimestampInput, strawberry.argument(description="The timestamp.")],
    ) -> PortCallTimestampPayload | None:
        context = info.context
        try:
            done = await publish_timestamp(
                context.pools,
                context.principal,
                request_of(info, input),
                operation=context.operation_name or "publishPortCallTimestamp",
                audit=context.audit,
            )
        except Invalid as error:
            return PortCallTimestampPayload.of(invalid(error))
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return PortCallTimestampPayload.of(done)


mutations: list[type] = [TimestampMutation]
types: list[type] = []
