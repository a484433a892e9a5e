"""The security source against the seeded database: TLP rule, filters, pages, loaders.

Expected rows are read with plain SQL written here, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import asyncpg

from resolvers import security
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING
from resolvers.sources import Pool, SourcePools
from tests.helpers import CountingPool, all_rows

ANCHOR = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
READER = Principal("t", "CBP", OrganizationKind.CUSTOMS, frozenset({"security:read"}))
RESTRICTED = Principal(
    "t", "CSOC", OrganizationKind.CSOC, frozenset({"security:read", "security:restricted"})
)
NOBODY = Principal("t", "MSCU", OrganizationKind.CARRIER, frozenset({"cargo:read"}), scac="MSCU")
ORDER = " ORDER BY published_at DESC, id"


def advisory_key(row: asyncpg.Record) -> tuple[Any, ...]:
    return (row["published_at"], row["id"])


async def every_advisory(pool: Pool, rule: Any, f: security.AdvisoryFilter) -> list[Any]:
    async def fetch(size: int, after: Any) -> list[asyncpg.Record]:
        return await security.advisories_page(pool, rule, f, size, after)

    rows = await all_rows(fetch, 3, advisory_key)
    return [r["id"] for r in rows]


def test_tlp_rule_by_scope() -> None:
    assert security.advisory_rule(RESTRICTED) is SEES_ALL
    assert security.advisory_rule(READER).predicate == "a.tlp IN ('CLEAR', 'GREEN')"
    assert security.advisory_rule(NOBODY) is SEES_NOTHING
    assert security.incident_rule(RESTRICTED) is SEES_ALL
    assert security.incident_rule(READER) is SEES_NOTHING


def test_severities_at_or_above() -> None:
    assert security.severities_from("HIGH") == ["HIGH", "CRITICAL"]
    assert security.severities_from("LOW") == ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert security.severities_from(None) is None


async def test_amber_and_red_only_for_restricted(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["security"]
    everything = security.AdvisoryFilter()  # expired ones too
    shared = await pool.fetch(
        "SELECT id FROM security.advisory WHERE tlp IN ('CLEAR', 'GREEN')" + ORDER
    )
    every = await pool.fetch("SELECT id, tlp FROM security.advisory" + ORDER)
    assert {r["tlp"] for r in every} == {"CLEAR", "GREEN", "AMBER", "RED"}
    reader = await every_advisory(pool, security.advisory_rule(READER), everything)
    assert reader == [r["id"] for r in shared]
    restricted = await every_advisory(pool, security.advisory_rule(RESTRICTED), everything)
    assert restricted == [r["id"] for r in every]
    assert await every_advisory(pool, security.advisory_rule(NOBODY), everything) == []


async def test_advisory_filters(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["security"]
    since = ANCHOR - dt.timedelta(days=40)
    expected = await pool.fetch(
        "SELECT id FROM security.advisory WHERE severity IN ('HIGH', 'CRITICAL') "
        "AND published_at >= $1 AND (expires_at IS NULL OR expires_at > $2)" + ORDER,
        since,
        ANCHOR,
    )
    f = security.AdvisoryFilter(
        severities=security.severities_from("HIGH"), since=since, unexpired_at=ANCHOR
    )
    got = await every_advisory(pool, SEES_ALL, f)
    assert got == [r["id"] for r in expected]
    expired = await pool.fetchval(
        "SELECT count(*) FROM security.advisory WHERE expires_at <= $1", ANCHOR
    )
    assert expired >= 1  # the seed has one surely expired: it is left out unless asked
    unexpired = await every_advisory(pool, SEES_ALL, security.AdvisoryFilter(unexpired_at=ANCHOR))
    every = await every_advisory(pool, SEES_ALL, security.AdvisoryFilter())
    assert len(every) - len(unexpired) == expired


async def test_incidents_newest_first_and_filtered(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["security"]
    expected = await pool.fetch("SELECT id FROM security.incident ORDER BY detected_at DESC, id")
    rule = security.incident_rule(RESTRICTED)

    async def fetch(size: int, after: Any) -> list[asyncpg.Record]:
        return await security.incidents_page(pool, rule, security.IncidentFilter(), size, after)

    rows = await all_rows(fetch, 4, lambda r: (r["detected_at"], r["id"]))
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    narrow = await pool.fetch(
        "SELECT id FROM security.incident WHERE status = 'OPEN' "
        "AND severity IN ('MEDIUM', 'HIGH', 'CRITICAL') ORDER BY detected_at DESC, id"
    )
    f = security.IncidentFilter(status="OPEN", severities=security.severities_from("MEDIUM"))
    got = await security.incidents_page(pool, rule, f, 100, None)
    assert [r["id"] for r in got] == [r["id"] for r in narrow]
    category = await pool.fetchval("SELECT category FROM security.incident LIMIT 1")
    by_category = await security.incidents_page(
        pool, rule, security.IncidentFilter(category=category), 100, None
    )
    assert by_category
    assert {r["category"] for r in by_category} == {category}
    denied = security.incident_rule(READER)
    assert await security.incidents_page(pool, denied, security.IncidentFilter(), 100, None) == []


OPEN_BY_TERMINAL = """
SELECT f.unlocode, f.smdg_code, a.id, a.tlp
FROM security.advisory_facility f JOIN security.advisory a ON a.id = f.advisory_id
WHERE a.expires_at IS NULL OR a.expires_at > $1
ORDER BY a.published_at DESC, a.id
"""


async def test_open_advisories_by_terminal_in_one_statement(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["security"]
    terminals = [
        (r["unlocode"], r["smdg_code"])
        for r in await seeded_pools["vessel"].fetch(
            "SELECT unlocode, smdg_code FROM vessel.terminal ORDER BY 1, 2"
        )
    ]
    rows = await pool.fetch(OPEN_BY_TERMINAL, ANCHOR)
    # The comparison means something: an open AMBER advisory is linked to some terminal.
    assert any(r["tlp"] in ("AMBER", "RED") for r in rows)
    for who, shared_only in ((RESTRICTED, False), (READER, True)):
        expected: dict[tuple[str, str], list[uuid.UUID]] = {t: [] for t in terminals}
        for row in rows:
            if not shared_only or row["tlp"] in ("CLEAR", "GREEN"):
                expected[(row["unlocode"], row["smdg_code"])].append(row["id"])
        counting = CountingPool(pool)
        loaders = security.SecurityLoaders(cast(Pool, counting), who, ANCHOR)
        got = await loaders.open_advisories_by_terminal.load_many(terminals)
        assert len(counting.statements) == 1
        assert [[r["id"] for r in found] for found in got] == [expected[t] for t in terminals]


async def test_advisory_children_and_node_lookup_loaders(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["security"]
    advisories = await pool.fetch("SELECT id, tlp FROM security.advisory ORDER BY id")
    ids = [r["id"] for r in advisories]
    indicators = await pool.fetch(
        "SELECT advisory_id, indicator_type, value FROM security.indicator "
        "ORDER BY advisory_id, indicator_type, value"
    )
    counting = CountingPool(pool)
    loaders = security.SecurityLoaders(cast(Pool, counting), READER, ANCHOR)
    got = await loaders.indicators_by_advisory_id.load_many(ids)
    assert len(counting.statements) == 1
    flat = [(r["advisory_id"], r["indicator_type"], r["value"]) for rows in got for r in rows]
    assert flat == [(r["advisory_id"], r["indicator_type"], r["value"]) for r in indicators]
    found = await loaders.advisory_by_id.load_many([*ids, uuid.UUID(int=0)])
    assert len(counting.statements) == 2
    visible = [r["tlp"] in ("CLEAR", "GREEN") for r in advisories] + [False]
    assert [row is not None for row in found] == visible
