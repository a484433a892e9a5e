"""Subscriptions (issue 11): what partners publish, pushed as it is stored.

`events` streams the DCSA events the caller may see, from the change log
(resolvers.changes): first those stored after `after`, in order, then each new one. Each edge
goes through the same field rules as a query's; the row rule is in the statement that reads
the log. A cursor from an earlier edge, or from the `events` query, resumes the stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from resolvers.changes import LAST, ChangeFeed, LogPosition, event_position
from resolvers.principal import Principal
from schema.cargo import CARGO_READ
from schema.context import Context, Info
from schema.events import EVENT_KEY, Event, EventFilter, event_from_row
from schema.inputs import cursor_key
from schema.pagination import Edge, decode_cursor

Resume = Annotated[
    str | None,
    strawberry.argument(
        description="Resume after this cursor: an earlier edge's, or one of the `events` "
        "query's. The events stored after it come first, in order, then the new ones."
    ),
]


def feed(context: Context) -> ChangeFeed:
    if context.changes is None:  # an app without its feed serves no subscriptions
        raise GraphQLError("subscriptions are not served here", extensions={"code": "NOT_SERVED"})
    return context.changes


async def resume_position(context: Context, after: str | None) -> LogPosition | None:
    """Where a stream starts: None for "from now on"."""
    key = decode_cursor(after, len(EVENT_KEY))
    if key is None:
        return None
    if all(type(part) is int and part >= 0 for part in key):
        return (key[0], key[1])  # an edge's: (position, ordinal)
    parsed = cursor_key(key, EVENT_KEY)  # the query's: (created, eventID)
    assert parsed is not None
    return await event_position(feed(context).pool, parsed[1])


def shape(principal: Principal, where: Any) -> tuple[Any, ...]:
    """Subscriptions that read the same rows: one partner, one filter."""
    return (principal.kind, principal.organization_code, where)


@strawberry.type
class EventSubscription:
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
        filter: Annotated[
            EventFilter | None,
            strawberry.argument(description="Conditions the events must meet."),
        ] = None,
        after: Resume = None,
    ) -> AsyncGenerator[Edge[Event], None]:
        context = info.context
        where = filter.criteria() if filter is not None else EventFilter().criteria()
        changes = feed(context)
        start = await resume_position(context, after)
        position = (changes.head, LAST) if start is None else start  # from now on
        rows = changes.events(
            shape(context.principal, where), context.loaders.cargo_rule, where, position
        )
        async for key, row in rows:
            yield Edge(node=event_from_row(row), key=key)


subscriptions: list[type] = [EventSubscription]
