"""Bringing the databases up: embedded or configured, migrated, seeded on first start."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import logging
import signal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import asyncpg

from graph.database import (
    EMBEDDED_DATABASE,
    EmbeddedServer,
    close_pools,
    ensure_database,
    group_by_dsn,
    open_pools,
    source_dsns,
    start_embedded,
    where,
    with_database,
)
from graph.settings import Settings
from resolvers.migrate import migrate
from resolvers.seed import SeedReport, is_seeded, seed
from resolvers.sources import OUT_OF_REACH, Connection

log = logging.getLogger("harborgraph")


@dataclass(frozen=True, slots=True)
class Databases:
    dsns: Mapping[str, str]
    embedded: bool


@contextlib.contextmanager
def databases(settings: Settings) -> Iterator[Databases]:
    """The per-source DSNs; with no URL set, an embedded server that stops on exit."""
    if settings.database_url is not None:
        yield Databases(source_dsns(settings, settings.database_url), embedded=False)
        return
    server: EmbeddedServer = start_embedded(settings.data_dir)
    try:
        admin_url = server.get_uri()
        asyncio.run(ensure_database(admin_url, EMBEDDED_DATABASE))
        main_url = with_database(admin_url, EMBEDDED_DATABASE)
        yield Databases(source_dsns(settings, main_url), embedded=True)
    finally:
        with signals_ignored():  # a second SIGTERM must not leave the server half-stopped
            server.cleanup()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def migrate_all(dsns: Mapping[str, str], *, skip_away: bool = False) -> list[str]:
    """Migrate each database with the sources it holds. With `skip_away`, a source's own
    database that is out of reach is left as it is (logged; /readyz says it is down, then
    whether its migrations are pending); the main one (community's) never is."""
    applied: list[str] = []
    for dsn, sources in group_by_dsn(dsns).items():
        try:
            conn: Connection = await asyncpg.connect(dsn)
        except OUT_OF_REACH as error:
            if not skip_away or "community" in sources:
                raise
            named = ", ".join(sources)
            log.warning(
                "database %s (%s) is out of reach (%r): not migrated", where(dsn), named, error
            )
            continue
        try:
            applied += await migrate(conn, sources)
        finally:
            await conn.close()
    return applied


async def seed_all(
    dsns: Mapping[str, str],
    settings: Settings,
    *,
    scale: float,
    seed_value: int,
    anchor: datetime.date,
    only_if_empty: bool,
) -> SeedReport | None:
    pools = await open_pools(dsns, settings)
    try:
        if only_if_empty and await is_seeded(pools):
            return None
        return await seed(pools, scale=scale, seed=seed_value, anchor=anchor)
    finally:
        await close_pools(pools)


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


# Python's default (700) runs the collector every few hundred allocations: a request that
# builds thousands of objects pays for scans of everything alive. Measured by the benchmark.
GENERATION_0_THRESHOLD = 50_000


def settle_collector() -> None:
    """After start-up: freeze what lives as long as the process (schema, pools, keys) so
    the collector never scans it again, and let generation 0 grow before it runs."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GENERATION_0_THRESHOLD, *gc.get_threshold()[1:])
