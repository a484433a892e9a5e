"""The change logs and the feed: positions in commit order, one read per group of
subscriptions of one shape, a lagging member reading on by itself."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from resolvers.cargo import EventCriteria, cargo_rule
from resolvers.cargo_writes import publish_events
from resolvers.changes import (
    LAST,
    START,
    ChangeFeed,
    LogPosition,
    append_changes,
    event_reader,
)
from resolvers.rules import Rule
from resolvers.sources import DATABASE_UNAVAILABLE, SOURCES, Pool, SourcePools
from tests.dcsa_events import equipment_event, visits
from tests.helpers import carrier, no_writes

MSCU = carrier("MSCU")


@pytest.fixture
async def pool(writable_url: str) -> AsyncIterator[Pool]:
    pool: Pool = await asyncpg.create_pool(writable_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
async def feed(pool: Pool, writable_url: str) -> AsyncIterator[ChangeFeed]:
    pools = SourcePools(dict.fromkeys(SOURCES, pool))
    listen = functools.partial(asyncpg.connect, writable_url)
    feed = ChangeFeed(pools, [(listen, ["cargo", "vessel", "gate", "security"])])
    await feed.start()
    yield feed
    await feed.stop()


async def test_a_position_waits_for_the_transaction_before_it_to_commit(pool: Pool) -> None:
    async with pool.acquire() as first, pool.acquire() as second:
        async with first.transaction():
            taken = await append_changes(first, "gate", [1])
            waiting = asyncio.ensure_future(append_changes(second, "gate", [2]))
            await asyncio.sleep(0.5)
            assert not waiting.done()  # held by the first's advisory lock until it commits
        later = await waiting
    assert later == taken + 1


async def test_subscriptions_of_one_shape_read_each_change_once_and_a_late_one_alone(
    pool: Pool, feed: ChangeFeed
) -> None:
    reads: list[LogPosition] = []
    plain = event_reader(pool, rule_of(cargo_rule(MSCU, None)), EventCriteria())

    async def read(position: LogPosition, head: int) -> list[Any]:
        reads.append(position)
        return await plain(position, head)

    now = feed.now("cargo")
    streams = [feed.stream("cargo", "MSCU", read, now) for _ in range(20)]
    waiting = [asyncio.ensure_future(take(stream, 3)) for stream in streams]
    await asyncio.sleep(0.2)
    boxes = await visits(pool, "MSCU", "IMPORT", "ON_VESSEL")
    events = [equipment_event(boxes[n], "DISC", "EST") for n in range(3)]
    pools = SourcePools(dict.fromkeys(SOURCES, pool))
    published = await publish_events(pools, MSCU, events, operation="test", audit=no_writes)
    assert published.stored
    received = await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert received == [[e["eventID"] for e in events]] * 20
    assert reads == [now]  # one statement for the twenty
    late = feed.stream("cargo", "MSCU", read, START)
    assert await asyncio.wait_for(take(late, 3), 10) == [e["eventID"] for e in events]
    assert reads[1] == START  # the late one read by itself, from where it was
    assert feed.groups == 1  # the late one joined the twenty's group


def rule_of(rule: Rule) -> Any:
    async def found() -> Rule:
        return rule

    return found


async def take(stream: AsyncIterator[tuple[LogPosition, Any]], count: int) -> list[str]:
    found: list[str] = []
    async for _, row in stream:
        found.append(str(row["event_id"]))
        if len(found) == count:
            break
    return found


@pytest.fixture
async def split_dsns(pg_admin_url: str) -> AsyncIterator[dict[str, str]]:
    """Every source in a database of its own, migrated (and empty)."""
    from graph.database import with_database
    from graph.runtime import migrate_all
    from tests.conftest import _create, _drop

    names = {source: await _create(pg_admin_url) for source in SOURCES}
    dsns = {source: with_database(pg_admin_url, name) for source, name in names.items()}
    await migrate_all(dsns)
    yield dsns
    for name in names.values():
        await _drop(pg_admin_url, name)


async def test_the_feed_follows_each_log_where_its_source_lives(
    split_dsns: dict[str, str],
) -> None:
    from graph.app import listeners

    pools = {
        s: await asyncpg.create_pool(dsn, min_size=1, max_size=2) for s, dsn in split_dsns.items()
    }
    feed = ChangeFeed(SourcePools(pools), listeners(split_dsns))
    assert sorted(sources for _, sources in listeners(split_dsns)) == [
        ["cargo"],
        ["gate"],
        ["security"],
        ["vessel"],
    ]
    await feed.start()
    try:
        for source, keys in (
            ("gate", [7]),
            ("security", [uuid.uuid4()]),
            ("vessel", [uuid.uuid4()]),
        ):
            moved = asyncio.ensure_future(feed.moved(source))
            async with pools[source].acquire() as connection:
                await append_changes(connection, source, keys)
            await asyncio.wait_for(moved, 5)  # woken by its own database's NOTIFY
            assert feed.heads[source] == 1
        assert feed.heads["cargo"] == 0
    finally:
        await feed.stop()
        for pool in pools.values():
            await pool.close()


async def test_a_log_whose_database_is_away_at_start_is_read_once_it_answers(
    pool: Pool, writable_url: str
) -> None:
    """The feed starts without the security database: "from now on" is refused there (as a
    database away, never as the whole log), the other logs are followed, and the security
    log's head is read when its listener first connects."""
    away: Pool = await asyncpg.create_pool("postgresql://postgres@127.0.0.1:1/none", min_size=0)
    reachable = asyncio.Event()

    async def connect_security() -> Any:
        if not reachable.is_set():
            raise ConnectionRefusedError(111, "Connection refused")
        return await asyncpg.connect(writable_url)

    pools = SourcePools({s: away if s == "security" else pool for s in SOURCES})
    listen = functools.partial(asyncpg.connect, writable_url)
    feed = ChangeFeed(
        pools, [(listen, ["cargo", "vessel", "gate"]), (connect_security, ["security"])]
    )
    await feed.start()
    try:
        with pytest.raises(DATABASE_UNAVAILABLE):
            feed.now("security")
        assert feed.now("gate")[0] == feed.heads["gate"]
        async with pool.acquire() as connection:
            head = await append_changes(connection, "security", [uuid.uuid4()])
        moved = asyncio.ensure_future(feed.moved("security"))
        reachable.set()
        await asyncio.wait_for(moved, 10)  # the listener's next attempt reads the head
        assert feed.heads["security"] == head
        assert feed.now("security") == (head, LAST)
    finally:
        await feed.stop()
        await away.close()


class HeldHeadReads:
    """A listening connection whose next head read, once it has run, is held until `release`:
    a notification that comes meanwhile is for a commit that read did not see."""

    def __init__(self, connection: asyncpg.Connection[Any]) -> None:
        self.connection = connection
        self.hold = False
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        value = await self.connection.fetchval(sql, *args)
        if self.hold:
            self.hold = False
            self.holding.set()
            await self.release.wait()
        return value


async def test_a_notification_during_a_head_read_is_not_lost(pool: Pool, writable_url: str) -> None:
    held: list[HeldHeadReads] = []

    async def connect() -> Any:
        held.append(HeldHeadReads(await asyncpg.connect(writable_url)))
        return held[-1]

    # No poll within the test: only a notification moves the head.
    feed = ChangeFeed(SourcePools(dict.fromkeys(SOURCES, pool)), [(connect, ["gate"])], 60.0)
    await feed.start()
    try:
        await asyncio.sleep(0.2)  # the listener waits
        (listener,) = held
        listener.hold = True
        async with pool.acquire() as connection:
            first = await append_changes(connection, "gate", [1])
        await asyncio.wait_for(listener.holding.wait(), 5)  # it read `first`, and is held
        async with pool.acquire() as connection:
            second = await append_changes(connection, "gate", [2])
        await asyncio.sleep(0.2)  # the second commit's notification reaches the listener
        listener.release.set()
        async with asyncio.timeout(5):
            while feed.heads["gate"] < second:
                await feed.moved("gate")
        assert first < second == feed.heads["gate"]
    finally:
        await feed.stop()
