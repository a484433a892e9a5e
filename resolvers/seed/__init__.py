"""Seed data: a deterministic, coherent port community, written source by source with COPY.

The same seed, scale and anchor always give identical rows: every value comes from
`random.Random` streams derived from the seed, and every instant from the anchor (midnight
UTC at the start of the anchor day is "now": what happened before it is actual, what comes
after is estimated or planned).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.seed import (
    ais,
    cargo,
    community,
    fleet,
    gate,
    jit,
    ports,
    reference,
    return_rules,
    schedule,
    security,
)
from resolvers.seed.load import has_organizations, write_source
from resolvers.seed.plan import Plan
from resolvers.seed.tables import Table
from resolvers.sources import SOURCES, Pool, SourcePools

__all__ = ["AlreadySeededError", "SeedReport", "generate", "is_seeded", "seed"]

# Tables no seed writes (filled at run time), reported with 0 rows so counts name every table.
RUNTIME_TABLES = (
    "community.audit_event",
    "community.open_operation",
    "community.rate_count",
    "cargo.event_retraction",
    "cargo.change_log",
    "cargo.event_subscription",
    "gate.change_log",
    "security.change_log",
    "vessel.change_log",
    "gate.appointment_slot",
)


class AlreadySeededError(RuntimeError):
    """The database already holds organizations; seeding again would collide."""


@dataclass(frozen=True)
class SeedReport:
    counts: dict[str, int]  # "schema.table" -> rows inserted, every table
    seconds: float


def generate(plan: Plan) -> dict[str, list[Table]]:
    """Every row of every source, in write order; pure computation, no I/O."""
    carriers, terminals = reference.carriers(), reference.terminals()
    members = community.generate(plan, carriers, terminals)
    vessels = fleet.generate(plan, carriers)
    calls = schedule.generate(plan, vessels, terminals)
    timestamps = jit.generate(plan, calls)
    goods = cargo.generate(plan, carriers, terminals, members, calls)
    return {
        "community": members.tables,
        "vessel": [
            *ports.tables(terminals),
            fleet.table(vessels),
            schedule.table(plan, calls, timestamps.updated),
            *timestamps.tables,
            ais.table(plan, vessels, calls),
        ],
        "cargo": goods.tables,
        "gate": [
            *gate.generate(plan, members, goods.gate_moves),
            return_rules.table(plan, carriers, terminals),
        ],
        "security": security.generate(plan, carriers, terminals),
    }


def _counts(tables: dict[str, list[Table]]) -> dict[str, int]:
    counts = dict.fromkeys(RUNTIME_TABLES, 0)
    for source in SOURCES:
        for table in tables[source]:
            counts[table.name] = len(table.rows)
    return dict(sorted(counts.items()))


def _by_database(
    pools: SourcePools, tables: dict[str, list[Table]]
) -> list[tuple[Pool, list[Table]]]:
    """Tables per database, so each database is loaded in one transaction: all or nothing."""
    return [
        (pool, [t for source in sources for t in tables[source]])
        for pool, sources in pools.by_database()
    ]


async def is_seeded(pools: SourcePools) -> bool:
    """True when community.organization has rows."""
    return await has_organizations(pools["community"])


async def seed(
    pools: SourcePools, *, scale: float = 1.0, seed: int = 42, anchor: dt.date
) -> SeedReport:
    """Generate and write the seed data; each database in one transaction, databases in parallel."""
    started = time.perf_counter()
    if await is_seeded(pools):
        raise AlreadySeededError("community.organization already has rows; use an empty database")
    # Generation is pure CPU work (seconds at scale 1): keep the event loop responsive.
    tables = await asyncio.to_thread(generate, Plan(seed=seed, scale=scale, anchor=anchor))
    writes: Sequence[asyncio.Future[None]] = [
        asyncio.ensure_future(write_source(pool, group))
        for pool, group in _by_database(pools, tables)
    ]
    await asyncio.gather(*writes)
    return SeedReport(counts=_counts(tables), seconds=time.perf_counter() - started)
