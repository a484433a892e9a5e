"""Subscriptions (issue 11): what partners publish, pushed as it is stored.

Each subscription streams from its source's change log (resolvers.changes): first what was
logged after `after`, in order, then each new change. Each edge goes through the same field
rules as a query's; the row rule is in the statement that reads the log. A cursor from an
earlier edge resumes the stream; `events` also takes a cursor of the `events` query.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Hashable
from typing import Annotated, Any

import strawberry
from asyncpg import Record
from graphql import GraphQLError

from resolvers.changes import (
    ChangeFeed,
    LogPosition,
    Reader,
    advisory_reader,
    event_position,
    event_reader,
    port_call_reader,
    transaction_reader,
)
from resolvers.gate import gate_rule
from resolvers.vessel import PortCallCriteria
from schema.cargo import CARGO_READ
from schema.context import Context, Info
from schema.events import EVENT_KEY, Event, EventFilter, EventFilterArgument, event_from_row
from schema.gate import GateTransaction
from schema.inputs import bad_cursor, cursor_key
from schema.pagination import Edge, decode_cursor
from schema.permissions import scopes
from schema.scopes import Scope
from schema.security import Advisory, audit_restricted
from schema.vessel import PortCall, PortCallFilter, TerminalKeyInput

Resume = Annotated[
    str | None,
    strawberry.argument(
        description="Resume after this cursor (an earlier edge's): what was stored after it "
        "comes first, in order, then each new change."
    ),
]
ResumeEvents = Annotated[
    str | None,
    strawberry.argument(
        description="Resume after this cursor: an earlier edge's, or one of the `events` "
        "query's. The events stored after it come first, in order, then the new ones."
    ),
]


@strawberry.input(
    name="TerminalInput",
    description="A terminal: its SMDG code, and its port's UN/LOCODE (this server's port "
    "when omitted).",
)
class TerminalInput(TerminalKeyInput):
    pass


def feed(context: Context) -> ChangeFeed:
    if context.changes is None:  # an app without its feed serves no subscriptions
        raise GraphQLError("subscriptions are not served here", extensions={"code": "NOT_SERVED"})
    return context.changes


def edge_position(key: list[Any]) -> LogPosition | None:
    """An edge's cursor holds (position, ordinal)."""
    if len(key) == 2 and all(type(part) is int and part >= 0 for part in key):
        return (key[0], key[1])
    return None


def resume_position(after: str | None) -> LogPosition | None:
    """Where a stream starts: None for "from now on"."""
    key = decode_cursor(after, 2)
    if key is None:
        return None
    position = edge_position(key)
    if position is None:
        raise bad_cursor()
    return position


async def resume_events(context: Context, after: str | None) -> LogPosition | None:
    key = decode_cursor(after, len(EVENT_KEY))
    if key is None:
        return None
    position = edge_position(key)
    if position is not None:
        return position
    parsed = cursor_key(key, EVENT_KEY)  # the query's: (created, eventID)
    assert parsed is not None
    return await event_position(context.pools["cargo"], parsed[1])


def stream(
    context: Context, source: str, shape: Hashable, read: Reader, start: LogPosition | None
) -> AsyncIterator[tuple[LogPosition, Record]]:
    changes = feed(context)
    position = changes.now(source) if start is None else start
    # Subscriptions that read the same rows: one partner, one filter.
    principal = context.principal
    return changes.stream(
        source, (principal.kind, principal.organization_code, shape), read, position
    )


@strawberry.type
class ChangeSubscription:
    @strawberry.federation.field(
        is_subscription=True,
        description="DCSA T&T 2.2 events you may see, as they are stored: with `after`, "
        "those stored after that cursor first, in order, then each new one. Needs "
        "`cargo:read`.",
        requires_scopes=CARGO_READ,
    )
    async def events(
        self,
        info: Info,
        filter: EventFilterArgument = None,
        after: ResumeEvents = None,
    ) -> AsyncGenerator[Edge[Event], None]:
        context = info.context
        where = (filter or EventFilter()).criteria()
        read = event_reader(context.pools["cargo"], context.loaders.cargo_rule, where)
        start = await resume_events(context, after)
        async for key, row in stream(context, "cargo", where, read, start):
            yield Edge(node=event_from_row(row), key=key)

    @strawberry.federation.field(
        is_subscription=True,
        description="Port calls as they change (a JIT timestamp published, a berth time "
        "moved), each as it is now; with `after`, the changes since that cursor first.",
    )
    async def port_call_updates(
        self,
        info: Info,
        filter: Annotated[
            PortCallFilter | None,
            strawberry.argument(description="Conditions the port calls must meet."),
        ] = None,
        after: Resume = None,
    ) -> AsyncGenerator[Edge[PortCall], None]:
        context = info.context
        criteria = PortCallCriteria() if filter is None else filter.criteria(info)
        rule = context.loaders.vessel.rules.schedule
        read = port_call_reader(context.pools["vessel"], rule, criteria)
        async for key, row in stream(context, "vessel", criteria, read, resume_position(after)):
            yield Edge(node=PortCall.from_row(row), key=key)

    @strawberry.federation.field(
        is_subscription=True,
        description="Gate transactions as terminals record them (gate-in, then gate-out with "
        "the turn time): a trucker's own, a terminal's at its terminal, all for customs and "
        "the port authority. Needs `gate:read`.",
        requires_scopes=scopes(Scope.GATE_READ),
    )
    async def gate_activity(
        self,
        info: Info,
        terminal: Annotated[
            TerminalInput | None,
            strawberry.argument(description="Only this terminal's gates."),
        ] = None,
        after: Resume = None,
    ) -> AsyncGenerator[Edge[GateTransaction], None]:
        context = info.context
        at = None if terminal is None else terminal.key(info, "terminal")
        read = transaction_reader(context.pools["gate"], gate_rule(context.principal), at)
        async for key, row in stream(context, "gate", at, read, resume_position(after)):
            yield Edge(node=GateTransaction.from_row(row), key=key)

    @strawberry.federation.field(
        is_subscription=True,
        description="Community advisories as the CSOC publishes them; TLP:AMBER and TLP:RED "
        "ones only for holders of security:restricted. Needs `security:read`.",
        requires_scopes=scopes(Scope.SECURITY_READ),
    )
    async def advisories(
        self, info: Info, after: Resume = None
    ) -> AsyncGenerator[Edge[Advisory], None]:
        context = info.context
        rule = context.loaders.security.rule
        read = advisory_reader(context.pools["security"], rule)
        async for key, row in stream(context, "security", rule, read, resume_position(after)):
            audit_restricted(info, [row])
            yield Edge(node=Advisory.from_row(row), key=key)


subscriptions: list[type] = [ChangeSubscription]
