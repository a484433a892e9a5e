"""The change logs (issue 11): what accepted writes changed, in commit order, and the feed
that follows them for subscriptions.

A write appends one row to its source's log in its own transaction (`append_changes`): the
keys it changed (events, port calls, gate transactions, advisories), at a position taken
under an advisory lock held until commit, so positions commit in order; NOTIFY wakes every
replica. A replica holds one `ChangeFeed`: one listening connection per database, keeping
each log's head; its subscriptions read the rows past their position. Subscriptions of one
shape (the same partner and filter) share a group, and a group reads the new rows once for
all its members: one statement per group per change, not per subscriber. A member that lags
(it resumed from an old cursor, or reads slowly) reads on by itself, at its own pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
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
from resolvers.gate import TRANSACTION_COLUMNS, TRANSACTION_CONDITIONS
from resolvers.paging import FILTERS_SLOT, LIMIT_SLOT, Statement, compose, fetch_page, present
from resolvers.rules import Rule
from resolvers.security import ADVISORY_COLUMNS
from resolvers.sources import OUT_OF_REACH, Connection, Pool, SourcePools
from resolvers.vessel import (
    PORT_CALL_COLUMNS,
    PORT_CALL_FILTERS,
    PORT_CALL_FROM,
    PortCallCriteria,
    port_call_conditions,
)

log = logging.getLogger("harborgraph.changes")

CHANNEL = "harborgraph_changes"
CHUNK = 500  # rows a read returns at most
LAST = 2**62  # an ordinal past every write's last: (n, LAST) is "all of position n"

# A position in a log: (the write's position, the item's ordinal within it, from 1).
LogPosition = tuple[int, int]
START: LogPosition = (0, 0)


@dataclass(frozen=True, slots=True)
class ChangeLog:
    """One source's log: `<source>.change_log`, the changed rows' keys in `column`."""

    source: str
    column: str
    key_type: str
    lock: int  # pg_advisory_xact_lock key: each log serialises only its own writers

    @property
    def append_sql(self) -> str:
        # FROM items are evaluated before the select list: the lock is held before nextval.
        return f"""
INSERT INTO {self.source}.change_log (position, {self.column})
SELECT nextval('{self.source}.change_log_position'), $1::{self.key_type}[]
FROM (SELECT pg_advisory_xact_lock({self.lock})) AS locked,
     pg_notify('{CHANNEL}', '{self.source}') AS woken
RETURNING position
"""

    @property
    def head_sql(self) -> str:
        return f"SELECT coalesce(max(c.position), 0) FROM {self.source}.change_log c"

    def items(self, key: str) -> str:
        """The log's rows, one per changed key (`k.{key}`, `k.ord`), for a FROM clause."""
        return (
            f"{self.source}.change_log c CROSS JOIN LATERAL unnest(c.{self.column}) "
            f"WITH ORDINALITY AS k({key}, ord)"
        )


LOGS = {
    log.source: log
    for log in (
        ChangeLog("cargo", "event_ids", "uuid", 0x6862_6C6F_6700),  # "hblog" + n
        ChangeLog("vessel", "port_call_ids", "uuid", 0x6862_6C6F_6701),
        ChangeLog("gate", "transaction_ids", "bigint", 0x6862_6C6F_6702),
        ChangeLog("security", "advisory_ids", "uuid", 0x6862_6C6F_6703),
    )
}
APPEND = {source: log.append_sql for source, log in LOGS.items()}
POSITION_FILTERS: Mapping[str, str] = {
    "logged_after": (
        "c.position >= {0}::bigint AND (c.position, k.ord) > ({0}::bigint, {1}::bigint)"
    ),
    "logged_until": "c.position <= {0}::bigint",
}


def logged(position: LogPosition, head: int) -> list[tuple[str, tuple[Any, ...]]]:
    """The filters of a read past `position`, up to `head`."""
    return [("logged_after", position), ("logged_until", (head,))]


async def append_changes(connection: Connection, source: str, keys: Sequence[Any]) -> int:
    """Log what a write changed (in the write's transaction); its position."""
    position: int = await connection.fetchval(APPEND[source], list(keys))
    return position


async def append_events(connection: Connection, event_ids: Sequence[uuid.UUID]) -> int:
    return await append_changes(connection, "cargo", event_ids)


SELECT_EVENT_POSITION = """
SELECT c.position, k.ord
FROM cargo.change_log c
CROSS JOIN LATERAL unnest(c.event_ids) WITH ORDINALITY AS k(event_id, ord)
WHERE c.event_ids @> ARRAY[$1::uuid] AND k.event_id = $1::uuid
ORDER BY c.position
LIMIT 1
"""


def log_read(source: str, key: str, columns: str, joined: str, where: str) -> str:
    """A read of `source`'s log past a position: each row's keys (`k.{key}`) joined to what
    they name, under `where` (the row rule) and the filters, in log order."""
    return f"""
SELECT c.position AS log_position, k.ord AS log_ordinal, {columns}
FROM {LOGS[source].items(key)}
{joined}
WHERE {where} AND {FILTERS_SLOT}
ORDER BY c.position, k.ord
LIMIT {LIMIT_SLOT}
"""


SELECT_LOGGED_EVENTS = log_read(
    "cargo",
    "event_id",
    f"{EVENT_COLUMNS}, e.extra::text AS extra",
    "JOIN cargo.event e ON e.event_id = k.event_id",
    f"e.retracted_at IS NULL AND {EVENT_VISIBLE}",
)
LOG_FILTERS = {**EVENT_FILTERS, **POSITION_FILTERS}
# Each port call the log names, as it is now (its schedule, berth times and timestamps).
SELECT_LOGGED_PORT_CALLS = log_read(
    "vessel", "id", PORT_CALL_COLUMNS, f", {PORT_CALL_FROM}", "pc.id = k.id AND /*rule*/"
)
PORT_CALL_LOG_FILTERS = {**PORT_CALL_FILTERS, **POSITION_FILTERS}
SELECT_LOGGED_TRANSACTIONS = log_read(
    "gate", "id", TRANSACTION_COLUMNS, "JOIN gate.gate_transaction g ON g.id = k.id", "/*rule*/"
)
TRANSACTION_LOG_FILTERS = {**TRANSACTION_CONDITIONS, **POSITION_FILTERS}
SELECT_LOGGED_ADVISORIES = log_read(
    "security", "id", ADVISORY_COLUMNS, "JOIN security.advisory a ON a.id = k.id", "/*rule*/"
)


async def event_position(pool: Pool, event_id: uuid.UUID) -> LogPosition:
    """Where an event sits in the log; START for one stored before the log began (seeded)."""
    row = await pool.fetchrow(SELECT_EVENT_POSITION, event_id)
    return START if row is None else (row["position"], row["ord"])


def row_position(row: Record) -> LogPosition:
    return (row["log_position"], row["log_ordinal"])


# --- Readers: one statement reads a chunk of a log past a position ------------------------

Reader = Callable[[LogPosition, int], Awaitable[list[Record]]]
RuleSource = Callable[[], Awaitable[Rule]]


def event_reader(pool: Pool, rule: RuleSource, where: EventCriteria, limit: int = CHUNK) -> Reader:
    async def read(position: LogPosition, head: int) -> list[Record]:
        found = await rule()
        conditions = [*event_conditions(where, None), *logged(position, head)]
        statement = compose(SELECT_LOGGED_EVENTS, LOG_FILTERS, conditions, limit)
        sql = statement.sql.replace(UNTIED_SLOT, untied_events(found))
        return await fetch_page(pool, Statement(sql, statement.args), found)

    return read


def port_call_reader(pool: Pool, rule: Rule, criteria: PortCallCriteria) -> Reader:
    async def read(position: LogPosition, head: int) -> list[Record]:
        chosen = [*port_call_conditions(criteria, None), *logged(position, head)]
        statement = compose(SELECT_LOGGED_PORT_CALLS, PORT_CALL_LOG_FILTERS, chosen, CHUNK)
        return await fetch_page(pool, statement, rule)

    return read


def transaction_reader(pool: Pool, rule: Rule, terminal: tuple[str, str] | None) -> Reader:
    async def read(position: LogPosition, head: int) -> list[Record]:
        chosen = [*present([("terminal", terminal)]), *logged(position, head)]
        statement = compose(SELECT_LOGGED_TRANSACTIONS, TRANSACTION_LOG_FILTERS, chosen, CHUNK)
        return await fetch_page(pool, statement, rule)

    return read


def advisory_reader(pool: Pool, rule: Rule) -> Reader:
    async def read(position: LogPosition, head: int) -> list[Record]:
        statement = compose(
            SELECT_LOGGED_ADVISORIES, POSITION_FILTERS, logged(position, head), CHUNK
        )
        return await fetch_page(pool, statement, rule)

    return read


# --- Groups: subscriptions that read the same rows ----------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """The rows read past `start`; everything up to `end` was read."""

    start: LogPosition
    end: LogPosition
    rows: list[Record]


@dataclass(slots=True)
class Group:
    """Subscriptions of one shape (one partner, one filter): the same rows, the same reads."""

    read: Reader
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
            rows = await self.read(position, head)
            end = row_position(rows[-1]) if len(rows) == CHUNK else (head, LAST)
            self.last = Chunk(position, end, rows)
            return self.last


# --- The feed: one listener per database, the head of each log ---------------------------

Connect = Callable[[], Awaitable[Connection]]


class ChangeFeed:
    """Follows the logs' heads through one LISTEN connection per database (and a slow poll,
    should a notification be lost with its connection); serves subscriptions the rows past
    theirs. `listeners` maps a way to connect to a database to the logged sources there."""

    def __init__(
        self,
        pools: SourcePools,
        listeners: Sequence[tuple[Connect, Sequence[str]]],
        poll_seconds: float = 5.0,
    ) -> None:
        self.pools = pools
        self.heads = dict.fromkeys(LOGS, 0)
        self._listeners = listeners
        self._poll_seconds = poll_seconds
        self._moved = {source: asyncio.Event() for source in LOGS}
        self._groups: dict[Hashable, Group] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._unread: set[str] = set()  # logs whose database was away: head not known yet

    async def start(self) -> None:
        for source, log_of in LOGS.items():
            try:
                self.heads[source] = int(await self.pools[source].fetchval(log_of.head_sql))
            except OUT_OF_REACH as error:  # its listener reads the head once it connects
                log.warning("change feed: %s's log is out of reach (%r)", source, error)
                self._unread.add(source)
        self._tasks = [
            asyncio.create_task(self._follow(connect, sources), name="harborgraph change feed")
            for connect, sources in self._listeners
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def groups(self) -> int:
        return len(self._groups)

    async def _follow(self, connect: Connect, sources: Sequence[str]) -> None:
        """Listen, and read the heads on each notification; reconnect when the link drops."""
        delay = 0.1
        while True:
            try:
                await self._listen(connect, sources)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("change feed: listener lost (%s); reconnecting", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _listen(self, connect: Connect, sources: Sequence[str]) -> None:
        connection = await connect()
        woken = asyncio.Event()
        try:
            await connection.add_listener(CHANNEL, lambda *_: woken.set())
            while not connection.is_closed():
                # Cleared before the reads: a notification that comes during one is for a
                # commit it may not see, and must wake the next round.
                woken.clear()
                for source in sources:  # also what a lost notification missed
                    await self._read_head(connection, source)
                # Not wait_for: on Python 3.11 it can swallow a cancellation (stop would hang).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_seconds):
                        await woken.wait()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()
        raise asyncpg.InterfaceError("the listening connection closed")

    async def _read_head(self, connection: Connection, source: str) -> None:
        head = int(await connection.fetchval(LOGS[source].head_sql))
        self._unread.discard(source)
        if head > self.heads[source]:
            self.heads[source] = head
            moved, self._moved[source] = self._moved[source], asyncio.Event()
            moved.set()

    def now(self, source: str) -> LogPosition:
        """The position of "from now on": past everything logged so far."""
        if source in self._unread:  # "now" is not known: a 503 rather than the whole log
            raise ConnectionError(f"the {source} database is out of reach")
        return (self.heads[source], LAST)

    async def moved(self, source: str) -> None:
        """Returns when `source`'s log has grown."""
        await self._moved[source].wait()

    async def _beyond(self, source: str, position: LogPosition) -> None:
        while position >= (self.heads[source], LAST):
            await self._moved[source].wait()

    async def stream(
        self, source: str, shape: Hashable, read: Reader, after: LogPosition
    ) -> AsyncIterator[tuple[LogPosition, Record]]:
        """The rows `read` finds past `after` in `source`'s log, then each new one as it is
        logged; never ends by itself. Subscriptions of one `shape` share their reads."""
        key = (source, shape)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(read)
        group.members += 1
        try:
            position = after
            while True:
                await self._beyond(source, position)
                chunk = await group.after(position, self.heads[source])
                for row in chunk.rows:
                    at = row_position(row)
                    if at > position:
                        yield at, row
                        position = at
                position = max(position, chunk.end)
        finally:
            group.members -= 1
            if not group.members:
                self._groups.pop(key, None)
