"""The token's organization, cached for a few seconds: not one statement per request.

A change to `community.organization` (a suspension, a partner's kind, SCAC or rate limit) is
announced by a trigger (`harborgraph_organizations`); each replica listens and forgets what
it kept, so the change holds from the next request on. Should the notice be lost with its
connection, entries still expire after TTL_SECONDS; unknown codes are remembered as unknown
for as long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import asyncpg

from graph.expiring import MISSING, Expiring
from resolvers.community import OrgRecord
from resolvers.sources import Connection

log = logging.getLogger("harborgraph.organizations")
TTL_SECONDS = 5.0
CHANNEL = "harborgraph_organizations"

Lookup = Callable[[str], Awaitable[OrgRecord | None]]
Connect = Callable[[], Awaitable[Connection]]


class OrganizationCache:
    def __init__(
        self,
        lookup: Lookup,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._found: Expiring[str, OrgRecord | None] = Expiring()
        self._generation = 0  # bumped by forget: a look-up begun before must not be kept

    async def __call__(self, code: str) -> OrgRecord | None:
        now = self._clock()
        kept = self._found.get(code, now)
        if kept is not MISSING:
            return kept
        generation = self._generation
        found = await self._lookup(code)
        if generation == self._generation:
            self._found.put(code, found, now + self._ttl)
        return found

    def forget(self) -> None:
        """Everything kept: an organization changed (or a notice may have been missed)."""
        self._generation += 1
        self._found = Expiring()


async def _listen(cache: OrganizationCache, connect: Connect) -> None:
    connection = await connect()
    closed = asyncio.Event()
    try:
        connection.add_termination_listener(lambda _connection: closed.set())
        await connection.add_listener(CHANNEL, lambda *_: cache.forget())
        cache.forget()  # what changed while nobody listened
        await closed.wait()
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


async def watch(cache: OrganizationCache, connect: Connect) -> None:
    """Forget the cache on each change, for as long as the app runs; reconnect when the
    connection drops."""
    delay = 0.1
    while True:
        try:
            await _listen(cache, connect)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("organizations: listener lost (%s); reconnecting", error)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
