"""The change log (issue 11): what accepted writes stored, in commit order, and the feed that
follows it for subscriptions.

A write appends one row to its source's log in its own transaction (`append_events`), taking
the position under an advisory lock held until commit, so positions commit in order, and
NOTIFY wakes every replica. A replica holds one `ChangeFeed`: one listening connection that
keeps the log's head; its subscriptions read the rows past their position. Subscriptions of
one shape (the same partner and filter) share a group, and a group reads the new rows once
for all its members: one statement per group per change, not per subscriber. A member that
lags (it resumed from an old cursor, or reads slowly) reads on by itself, at its own pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from asyncpg import Record

from resolvers.cargo import (
    EVENT_COLUMNS,
    EVENT_FILTERS,
    EVENT_VISIBLE,
    UNTIED_SLOT,
    EventCriteria,
    event_conditions,
    untied_events,
)
from resolvers.paging import FILTERS_SLOT, LIMIT_SLOT, compose
from resolvers.rules import Rule
from resolvers.sources import Connection, Pool

log = logging.getLogger("harborgraph.changes")

CHANNEL = "harborgraph_changes"
LOG_LOCK = 0x6862_6C6F_6700  # pg_advisory_xact_lock key of the logs ("hblog")
CHUNK = 500  # rows a read returns at most
LAST = 2**62  # an ordinal past every batch's last: (n, LAST) is "all of position n"

# A position in the log: (the write's position, the event's ordinal within it, from 1).
LogPosition = tuple[int, int]
START: LogPosition = (0, 0)

# FROM items are evaluated before the select list: the lock is held before nextval.
APPEND_EVENTS = f"""
INSERT INTO cargo.change_log (position, event_ids)
SELECT nextval('cargo.change_log_position'), $1::uuid[]
FROM (SELECT pg_advisory_xact_lock({LOG_LOCK})) AS locked,
     pg_notify('{CHANNEL}', 'cargo') AS woken
RETURNING position
"""
SELECT_HEAD = "SELECT coalesce(max(c.position), 0) FROM cargo.change_log c"
SELECT_EVENT_POSITION = """
SELECT c.position, k.ord
FROM cargo.change_log c
CROSS JOIN LATERAL unnest(c.event_ids) WITH ORDINALITY AS k(event_id, ord)
WHERE c.event_ids @> ARRAY[$1::uuid] AND k.event_id = $1::uuid
ORDER BY c.position
LIMIT 1
"""
# The logged events past a position, under the caller's row rule and filter, in log order.
SELECT_LOGGED_EVENTS = f"""
SELECT c.position AS log_position, k.ord AS log_ordinal, {EVENT_COLUMNS}
FROM cargo.change_log c
CROSS JOIN LATERAL unnest(c.event_ids) WITH ORDINALITY AS k(event_id, ord)
JOIN cargo.event e ON e.event_id = k.event_id
WHERE e.retracted_at IS NULL AND {FILTERS_SLOT}
  AND {EVENT_VISIBLE}
ORDER BY c.position, k.ord
LIMIT {LIMIT_SLOT}
"""
LOG_FILTERS = {
    **EVENT_FILTERS,
    "logged_after": (
        "c.position >= {0}::bigint AND (c.position, k.ord) > ({0}::bigint, {1}::bigint)"
    ),
    "logged_until": "c.position <= {0}::bigint",
}


async def append_events(connection: Connection, event_ids: Sequence[uuid.UUID]) -> int:
    """Log the events a write stored (in the write's transaction); their position."""
    position: int = await connection.fetchval(APPEND_EVENTS, list(event_ids))
    return position


async def event_position(pool: Pool, event_id: uuid.UUID) -> LogPosition:
    """Where an event sits in the log; START for one stored before the log began (seeded)."""
    row = await pool.fetchrow(SELECT_EVENT_POSITION, event_id)
    return START if row is None else (row["position"], row["ord"])


def row_position(row: Record) -> LogPosition:
    return (row["log_position"], row["log_ordinal"])


# --- Reading the log for a group of subscriptions -----------------------------------------

RuleSource = Callable[[], Awaitable[Rule]]


@dataclass(frozen=True, slots=True)
class Chunk:
    """The rows read past `start`; everything up to `end` was read."""

    start: LogPosition
    end: LogPosition
    rows: list[Record]


@dataclass(slots=True)
class EventGroup:
    """Subscriptions of one shape: the same rows, so the same reads."""

    pool: Pool
    rule: RuleSource
    where: EventCriteria
    members: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: Chunk | None = None

    async def after(self, position: LogPosition, head: int) -> Chunk:
        """The rows past `position`: the last read when it covers them (members that wait at
        the same place take one read), else a new one up to `head`."""
        async with self.lock:
            last = self.last
            if last is not None and last.start <= position < last.end:
                return last
            self.last = await self.read(position, head)
            return self.last

    async def read(self, position: LogPosition, head: int) -> Chunk:
        rule = await self.rule()
        conditions = [
            *event_conditions(self.where, None),
            ("logged_after", position),
            ("logged_until", (head,)),
        ]
        statement = compose(SELECT_LOGGED_EVENTS, LOG_FILTERS, conditions, CHUNK)
        sql, args = rule.bind(
            statement.sql.replace(UNTIED_SLOT, untied_events(rule)), *statement.args
        )
        rows = await self.pool.fetch(sql, *args)
        end = row_position(rows[-1]) if len(rows) == CHUNK else (head, LAST)
        return Chunk(position, end, rows)


# --- The feed: one listener per replica, the head of the log ------------------------------

Connect = Callable[[], Awaitable[Connection]]


class ChangeFeed:
    """Follows the cargo log's head through one LISTEN connection (and a slow poll, should a
    notification be lost with its connection); serves subscriptions the rows past theirs."""

    def __init__(self, pool: Pool, connect: Connect, poll_seconds: float = 5.0) -> None:
        self.pool = pool
        self.head = 0
        self._connect = connect
        self._poll_seconds = poll_seconds
        self._moved = asyncio.Event()
        self._woken = asyncio.Event()
        self._groups: dict[Hashable, EventGroup] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.head = int(await self.pool.fetchval(SELECT_HEAD))
        self._task = asyncio.create_task(self._follow(), name="harborgraph change feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def groups(self) -> int:
        return len(self._groups)

    async def _follow(self) -> None:
        """Listen, and read the head on each notification; reconnect when the link drops."""
        delay = 0.1
        while True:
            try:
                await self._listen()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("change feed: listener lost (%s); reconnecting", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _listen(self) -> None:
        connection = await self._connect()
        try:
            await connection.add_listener(CHANNEL, self._notified)
            while not connection.is_closed():
                await self._read_head(connection)  # also what a lost notification missed
                self._woken.clear()
                # Not wait_for: on Python 3.11 it can swallow a cancellation (stop would hang).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await self._woken.wait()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()
        raise asyncpg.InterfaceError("the listening connection closed")

    def _notified(self, *_: Any) -> None:
        self._woken.set()

    async def _read_head(self, connection: Connection) -> None:
        head = int(await connection.fetchval(SELECT_HEAD))
        if head > self.head:
            self.head = head
            moved, self._moved = self._moved, asyncio.Event()
            moved.set()

    async def _beyond(self, position: LogPosition) -> None:
        while position >= (self.head, LAST):
            await self._moved.wait()

    async def events(
        self, shape: Hashable, rule: RuleSource, where: EventCriteria, after: LogPosition
    ) -> AsyncIterator[tuple[LogPosition, Record]]:
        """The logged events past `after` that `rule` and `where` let through, then each new
        one as it is logged; never ends by itself."""
        group = self._groups.get(shape)
        if group is None:
            group = self._groups[shape] = EventGroup(self.pool, rule, where)
        group.members += 1
        try:
            position = after
            while True:
                await self._beyond(position)
                chunk = await group.after(position, self.head)
                for row in chunk.rows:
                    key = row_position(row)
                    if key > position:
                        yield key, row
                        position = key
                position = max(position, chunk.end)
        finally:
            group.members -= 1
            if not group.members:
                self._groups.pop(shape, None)
