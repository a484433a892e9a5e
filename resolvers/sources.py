"""The data sources and the pools that reach them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

# Migration and seed order: community first, since every source names organizations.
SOURCES = ("community", "vessel", "cargo", "gate", "security")

if TYPE_CHECKING:
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    Connection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
    )
else:  # asyncpg's classes are generic only in its stubs
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection


@dataclass(frozen=True, slots=True)
class SourcePools:
    """One pool per source; sources that share a database share its pool."""

    pools: Mapping[str, Pool]

    def __getitem__(self, source: str) -> Pool:
        return self.pools[source]

    def alongside(self, source: str, other: str) -> bool:
        """Whether two sources live in one database (so one statement may read both)."""
        return self.pools[source] is self.pools[other]

    def distinct(self) -> list[Pool]:
        return [pool for pool, _ in self.by_database()]

    def by_database(self) -> list[tuple[Pool, list[str]]]:
        """Each distinct pool with the sources it serves, in migration order."""
        grouped: dict[int, tuple[Pool, list[str]]] = {}
        for source in SOURCES:
            pool = self.pools[source]
            grouped.setdefault(id(pool), (pool, []))[1].append(source)
        return list(grouped.values())


# Marks the statements background tasks send on the request pools (webhook deliveries, the
# replica's refreshes), so that a count of a request's statements can leave them out.
BACKGROUND = "/* background */"

# The database is restarting, shutting down or out of reach: the request may simply be sent
# again (a connection lost mid-statement, one refused while it starts, the pool's reconnect).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    # On a standby: a statement cancelled by a conflict with recovery.
    asyncpg.exceptions.SerializationError,
    # A pooled connection that had read the server's "terminating connection" but not yet
    # its end when it was lent: "cannot switch to state 12; another operation (2) is in
    # progress" (asyncpg#1069). asyncpg drops the connection; the next one is a fresh one.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
)
# What connecting to a database that is away raises (refused, no route, starting up, timed
# out), but not a wrong password or database name: those are mistakes, not outages.
OUT_OF_REACH: tuple[type[BaseException], ...] = (OSError, TimeoutError, *DATABASE_UNAVAILABLE)

# Raised only by values a caller sent (a NUL byte, a date past year 9999, a lone surrogate,
# an integer of thousands of digits) when they reach the database or the encoder.
INPUT_VALUE_ERRORS = (asyncpg.exceptions.DataError, OverflowError, UnicodeEncodeError)
