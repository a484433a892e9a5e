"""The vessel source against the seeded database: loaders, pages, filters and row rules.

Expected values come from plain SQL written here, independently of resolvers/vessel.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

import asyncpg
import pytest

from resolvers.principal import ANONYMOUS, OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING
from resolvers.sources import Pool, SourcePools
from resolvers.vessel import (
    PortCallCriteria,
    VesselLoaders,
    port_call_page,
    timestamp_rule,
    vessel_page,
)
from tests.helpers import CountingPool, all_pages, carrier, principal, terminal

Row = asyncpg.Record


def loaders(pools: SourcePools, who: Principal = ANONYMOUS) -> tuple[VesselLoaders, CountingPool]:
    counting = CountingPool(pools["vessel"])
    return VesselLoaders(cast(Pool, counting), who), counting


@pytest.fixture(scope="module")
async def busy_call(seeded_pools: SourcePools) -> Row:
    """A port call with a full berth negotiation (EST -> REQ -> PLN) and its terminal."""
    row = await seeded_pools["vessel"].fetchrow(
        """
        SELECT pc.id, pc.carrier_scac, tc.unlocode, tc.smdg_code
        FROM vessel.port_call pc
        JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id
        JOIN vessel.port_call_service s ON s.terminal_call_id = tc.id
        JOIN vessel.timestamp t ON t.port_call_service_id = s.id
        WHERE t.classifier = 'PLN' AND t.reply_to_timestamp_id IS NOT NULL
        ORDER BY pc.estimated_arrival, pc.id
        LIMIT 1
        """
    )
    assert row is not None
    return row


async def timestamp_ids(pools: SourcePools, port_call_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await pools["vessel"].fetch(
        """
        SELECT t.id FROM vessel.timestamp t
        JOIN vessel.port_call_service s ON s.id = t.port_call_service_id
        JOIN vessel.terminal_call tc ON tc.id = s.terminal_call_id
        WHERE tc.port_call_id = $1
        ORDER BY t.created_at, t.id
        """,
        port_call_id,
    )
    return [r["id"] for r in rows]


# --- Lookups by key ---------------------------------------------------------------------------


async def test_vessel_by_imo_batches_in_key_order(seeded_pools: SourcePools) -> None:
    expected = await seeded_pools["vessel"].fetch(
        "SELECT imo, name, flag, operator_scac FROM vessel.vessel ORDER BY imo DESC LIMIT 3"
    )
    vessel, counting = loaders(seeded_pools)
    keys = [expected[0]["imo"], "0000000", expected[1]["imo"], expected[2]["imo"]]
    rows = await vessel.vessel_by_imo.load_many(keys)
    assert [None if r is None else (r["imo"], r["name"], r["flag"]) for r in rows] == [
        (expected[0]["imo"], expected[0]["name"], expected[0]["flag"]),
        None,
        (expected[1]["imo"], expected[1]["name"], expected[1]["flag"]),
        (expected[2]["imo"], expected[2]["name"], expected[2]["flag"]),
    ]
    assert len(counting.statements) == 1


async def test_port_call_by_id_carries_its_terminal(seeded_pools: SourcePools) -> None:
    expected = await seeded_pools["vessel"].fetch(
        """
        SELECT pc.id, pc.vessel_imo, pc.status, tc.unlocode, tc.smdg_code, tc.berth
        FROM vessel.port_call pc JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id
        WHERE tc.sequence = 1 ORDER BY pc.id LIMIT 5
        """
    )
    vessel, counting = loaders(seeded_pools)
    rows = await vessel.port_call_by_id.load_many([r["id"] for r in expected] + [uuid.uuid4()])
    got = [
        None
        if r is None
        else (
            r["id"],
            r["vessel_imo"],
            r["status"],
            r["terminal_unlocode"],
            r["terminal_smdg_code"],
            r["berth"],
        )
        for r in rows
    ]
    assert got == [tuple(r.values()) for r in expected] + [None]
    assert len(counting.statements) == 1


async def test_terminals_ports_and_positions(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["vessel"]
    terminals = await pool.fetch(
        "SELECT unlocode, smdg_code, name FROM vessel.terminal ORDER BY 1, 2"
    )
    latest = await pool.fetch(
        """
        SELECT DISTINCT ON (vessel_imo) vessel_imo, recorded_at, latitude, longitude
        FROM vessel.ais_position ORDER BY vessel_imo, recorded_at DESC LIMIT 4
        """
    )
    vessel, counting = loaders(seeded_pools)
    keys = [(t["unlocode"], t["smdg_code"]) for t in terminals]
    got_terminals = await vessel.terminal_by_key.load_many([*keys, ("USLAX", "NOPE")])
    assert [None if t is None else t["name"] for t in got_terminals] == [
        *(t["name"] for t in terminals),
        None,
    ]
    by_port = await vessel.terminals_by_unlocode.load_many(["USLAX", "USLGB"])
    assert [[t["smdg_code"] for t in rows] for rows in by_port] == [
        [t["smdg_code"] for t in terminals if t["unlocode"] == port] for port in ("USLAX", "USLGB")
    ]
    port = await vessel.port_by_unlocode.load("USLGB")
    assert port is not None
    assert port["country"] == "US"
    positions = await vessel.latest_position_by_vessel_imo.load_many(
        [r["vessel_imo"] for r in latest]
    )
    assert [(p["vessel_imo"], p["recorded_at"], p["latitude"]) for p in positions if p] == [
        (r["vessel_imo"], r["recorded_at"], r["latitude"]) for r in latest
    ]
    assert len(counting.statements) == 4


# --- Keyset pages -----------------------------------------------------------------------------


async def test_vessel_pages_concatenate_to_the_ordered_list(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["vessel"]
    expected = await pool.fetch("SELECT imo FROM vessel.vessel ORDER BY lower(name), imo")
    got = await all_pages(lambda size, after: vessel_page(pool, SEES_ALL, None, size, after), 7)
    assert [r["imo"] for r in got] == [r["imo"] for r in expected]


async def test_vessel_search_by_name_prefix_and_imo(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["vessel"]
    some = await pool.fetchrow("SELECT imo, name FROM vessel.vessel ORDER BY imo LIMIT 1")
    assert some is not None
    prefix = some["name"][:3].lower()
    expected = await pool.fetch(
        "SELECT imo FROM vessel.vessel WHERE lower(name) LIKE $1 || '%' ORDER BY lower(name), imo",
        prefix,
    )
    by_name = await vessel_page(pool, SEES_ALL, prefix, 100, None)
    assert [r["imo"] for r, _ in by_name.items] == [r["imo"] for r in expected]
    by_imo = await vessel_page(pool, SEES_ALL, some["imo"], 100, None)
    assert [r["imo"] for r, _ in by_imo.items] == [some["imo"]]


async def test_port_call_pages_concatenate_to_the_ordered_list(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["vessel"]
    expected = await pool.fetch("SELECT id FROM vessel.port_call ORDER BY estimated_arrival, id")
    criteria = PortCallCriteria()
    got = await all_pages(
        lambda size, after: port_call_page(pool, SEES_ALL, criteria, size, _cursor(after)), 13
    )
    assert [r["id"] for r in got] == [r["id"] for r in expected]


def _cursor(key: tuple[Any, ...] | None) -> tuple[dt.datetime, uuid.UUID] | None:
    # Page keys are what cursors hold (JSON-friendly strings); the SQL takes typed values.
    if key is None:
        return None
    return (dt.datetime.fromisoformat(key[0]), uuid.UUID(key[1]))


async def test_port_call_filters(seeded_pools: SourcePools, busy_call: Row) -> None:
    pool = seeded_pools["vessel"]
    anchor = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    after, before = anchor - dt.timedelta(days=3), anchor + dt.timedelta(days=4)
    vessel_imo = await pool.fetchval(
        "SELECT vessel_imo FROM vessel.port_call WHERE id = $1", busy_call["id"]
    )
    expected = await pool.fetch(
        """
        SELECT pc.id FROM vessel.port_call pc
        WHERE EXISTS (SELECT 1 FROM vessel.terminal_call tc WHERE tc.port_call_id = pc.id
                      AND tc.unlocode = $1 AND tc.smdg_code = $2)
          AND pc.carrier_scac = $3 AND pc.estimated_arrival >= $4 AND pc.estimated_arrival < $5
        ORDER BY pc.estimated_arrival, pc.id
        """,
        busy_call["unlocode"],
        busy_call["smdg_code"],
        busy_call["carrier_scac"],
        after,
        before,
    )
    criteria = PortCallCriteria(
        terminal=(busy_call["unlocode"], busy_call["smdg_code"]),
        carrier_scac=busy_call["carrier_scac"],
        arriving_after=after,
        arriving_before=before,
    )
    page = await port_call_page(pool, SEES_ALL, criteria, 100, None)
    assert [r["id"] for r, _ in page.items] == [r["id"] for r in expected]

    by_vessel = await port_call_page(
        pool, SEES_ALL, PortCallCriteria(vessel_imo=vessel_imo), 100, None
    )
    expected_by_vessel = await pool.fetch(
        "SELECT id FROM vessel.port_call WHERE vessel_imo = $1 ORDER BY estimated_arrival, id",
        vessel_imo,
    )
    assert [r["id"] for r, _ in by_vessel.items] == [r["id"] for r in expected_by_vessel]

    departed = await port_call_page(pool, SEES_ALL, PortCallCriteria(status="DEPARTED"), 100, None)
    assert departed.items
    assert {r["status"] for r, _ in departed.items} == {"DEPARTED"}


async def test_port_calls_by_vessel_one_statement_for_mixed_pages(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["vessel"]
    imos = [
        r["vessel_imo"]
        for r in await pool.fetch(
            """
            SELECT vessel_imo FROM vessel.port_call GROUP BY vessel_imo
            HAVING count(*) >= 2 ORDER BY vessel_imo LIMIT 3
            """
        )
    ]
    assert len(imos) == 3
    calls = {
        imo: await pool.fetch(
            """
            SELECT id, estimated_arrival FROM vessel.port_call WHERE vessel_imo = $1
            ORDER BY estimated_arrival, id
            """,
            imo,
        )
        for imo in imos
    }
    first_of_c = calls[imos[2]][0]
    vessel, counting = loaders(seeded_pools)
    pages = await vessel.port_calls_by_vessel_imo.load_many(
        [
            (imos[0], 1, None),
            (imos[1], 100, None),
            (imos[2], 1, (first_of_c["estimated_arrival"], first_of_c["id"])),
        ]
    )
    assert [[r["id"] for r, _ in p.items] for p in pages] == [
        [r["id"] for r in calls[imos[0]][:1]],
        [r["id"] for r in calls[imos[1]]],
        [calls[imos[2]][1]["id"]],
    ]
    assert [p.has_next for p in pages] == [True, False, len(calls[imos[2]]) > 2]
    assert len(counting.statements) == 1


# --- JIT timestamps and their row rule --------------------------------------------------------


async def test_timestamps_in_sending_order_with_the_reply_chain(
    seeded_pools: SourcePools, busy_call: Row
) -> None:
    vessel, counting = loaders(seeded_pools, carrier(busy_call["carrier_scac"]))
    rows = await vessel.timestamps_by_port_call_id.load(busy_call["id"])
    assert [r["id"] for r in rows] == await timestamp_ids(seeded_pools, busy_call["id"])
    pln = next(r for r in rows if r["classifier"] == "PLN" and r["reply_to_timestamp_id"])
    req = await vessel.timestamp_by_id.load(pln["reply_to_timestamp_id"])
    assert req is not None
    assert (req["classifier"], req["publisher_role"]) == ("REQ", "TR")
    est = await vessel.timestamp_by_id.load(req["reply_to_timestamp_id"])
    assert est is not None
    assert (est["classifier"], est["event_type"]) == ("EST", "ARRI")
    assert est["reply_to_timestamp_id"] is None
    # The chain was primed by the list: following replyTo cost no statement.
    assert len(counting.statements) == 1


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("own carrier", True),
        ("other carrier", False),
        ("terminal of the call", True),
        ("other terminal", False),
        ("customs", True),
        ("port authority", True),
        ("trucker", False),
        ("anonymous", False),
    ],
)
async def test_timestamp_row_rule(
    seeded_pools: SourcePools, busy_call: Row, who: str, sees: bool
) -> None:
    other_terminal = await seeded_pools["vessel"].fetchrow(
        """
        SELECT unlocode, smdg_code FROM vessel.terminal
        WHERE (unlocode, smdg_code) <> ($1, $2) ORDER BY 1, 2 LIMIT 1
        """,
        busy_call["unlocode"],
        busy_call["smdg_code"],
    )
    assert other_terminal is not None
    other_scac = "ZZZZ" if busy_call["carrier_scac"] != "ZZZZ" else "YYYY"
    principals = {
        "own carrier": carrier(busy_call["carrier_scac"]),
        "other carrier": carrier(other_scac),
        "terminal of the call": terminal(busy_call["unlocode"], busy_call["smdg_code"]),
        "other terminal": terminal(other_terminal["unlocode"], other_terminal["smdg_code"]),
        "customs": principal(OrganizationKind.CUSTOMS),
        "port authority": principal(OrganizationKind.PORT_AUTHORITY),
        # A trucker's SCAC matching the carrier's must not open the carrier's view.
        "trucker": principal(OrganizationKind.TRUCKER, scac=busy_call["carrier_scac"]),
        "anonymous": ANONYMOUS,
    }
    vessel, _ = loaders(seeded_pools, principals[who])
    rows = await vessel.timestamps_by_port_call_id.load(busy_call["id"])
    expected = await timestamp_ids(seeded_pools, busy_call["id"])
    assert [r["id"] for r in rows] == (expected if sees else [])
    # Looked up by id, an invisible timestamp is simply not found.
    assert (await vessel.timestamp_by_id.load(expected[0]) is not None) is sees


def test_timestamp_rule_shapes() -> None:
    assert timestamp_rule(ANONYMOUS) is SEES_NOTHING
    assert timestamp_rule(principal(OrganizationKind.CUSTOMS)) is SEES_ALL
    assert timestamp_rule(principal(OrganizationKind.CARRIER)) is SEES_NOTHING  # no SCAC known
    assert timestamp_rule(carrier("MSCU")).args == ("MSCU",)
    assert timestamp_rule(terminal("USLAX", "APMT")).args == ("USLAX", "APMT")
