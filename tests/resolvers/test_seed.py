"""Seed data: deterministic, valid identifiers, coherent lifecycles, every kind of row."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from graph.database import with_database
from resolvers.identifiers import container_check_digit, imo_check_digit
from resolvers.migrate import migrate
from resolvers.seed import AlreadySeededError, SeedReport, is_seeded, seed
from resolvers.sources import SOURCES, Connection, Pool, SourcePools
from tests.conftest import TEST_ANCHOR, TEST_SCALE, TEST_SEED

ANCHOR = dt.date.fromisoformat(TEST_ANCHOR)
NOW = dt.datetime.combine(ANCHOR, dt.time(0), tzinfo=dt.UTC)
OTHER_SEED = TEST_SEED + 1

TABLES_SQL = """
SELECT table_schema || '.' || table_name AS name
FROM information_schema.tables
WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'
ORDER BY 1
"""
# Rows at scale 0.05, seed 7, anchor 2026-03-02: any change to the generator shows here.
EXPECTED_COUNTS = {
    "cargo.container_visit": 2900,
    "cargo.equipment": 2751,
    "cargo.event": 16_724,
    "cargo.hold": 497,
    "cargo.shipment": 1206,
    "cargo.shipment_party": 3618,
    "community.audit_event": 0,
    "community.open_operation": 0,
    "community.rate_count": 0,
    "cargo.event_retraction": 0,
    "cargo.change_log": 0,
    "cargo.event_subscription": 0,
    "gate.change_log": 0,
    "security.change_log": 0,
    "vessel.change_log": 0,
    "gate.appointment_slot": 0,
    "community.carrier": 12,
    "community.organization": 45,
    "gate.appointment": 2321,
    "gate.empty_return_rule": 588,
    "gate.gate_transaction": 2362,
    "security.advisory": 12,
    "security.advisory_facility": 13,
    "security.blocked_intrusion": 300,
    "security.incident": 12,
    "security.indicator": 64,
    "vessel.ais_position": 74,
    "vessel.port": 19,
    "vessel.port_call": 24,
    "vessel.port_call_service": 72,
    "vessel.terminal": 12,
    "vessel.terminal_call": 24,
    "vessel.timestamp": 239,
    "vessel.vessel": 12,
}

# Full lifecycles, step by step; what happened by the anchor is a prefix of one of them.
IMPORT_LIFECYCLES = [
    ["ARRI", "DISC", *exam, "CUSR", "AVPU", "GTOT", *stripped, "GTIN"]
    for exam in ([], ["CUSS"], ["CUSS", "CUSI"])
    for stripped in ([], ["STRP"])
]
EXPORT_LIFECYCLES = [["GTOT", "STUF", "GTIN", "LOAD", "DEPA"]]
EMPTY_EXPORT_LIFECYCLES = [["GTIN", "LOAD", "DEPA"], ["LOAD", "DEPA"]]
LIFECYCLES = {
    ("IMPORT", "LADEN"): IMPORT_LIFECYCLES,
    ("EXPORT", "LADEN"): EXPORT_LIFECYCLES,
    ("EXPORT", "EMPTY"): EMPTY_EXPORT_LIFECYCLES,
}
# The visit status each last step leads to (no step yet: the first entry).
STATUS_AFTER = {
    ("IMPORT", "LADEN"): {
        None: "ON_VESSEL", "ARRI": "ON_VESSEL", "DISC": "IN_YARD", "CUSS": "IN_YARD",
        "CUSI": "IN_YARD", "CUSR": "IN_YARD", "AVPU": "IN_YARD", "GTOT": "PICKED_UP",
        "STRP": "PICKED_UP", "GTIN": "EMPTY_RETURNED",
    },
    ("EXPORT", "LADEN"): {
        None: "IN_YARD", "GTOT": "PICKED_UP", "STUF": "PICKED_UP", "GTIN": "GATED_IN",
        "LOAD": "LOADED", "DEPA": "LOADED",
    },
    ("EXPORT", "EMPTY"): {None: "IN_YARD", "GTIN": "GATED_IN", "LOAD": "LOADED", "DEPA": "LOADED"},
}  # fmt: skip

ORGANIZATION_KINDS = {
    "CARRIER", "TERMINAL", "TRUCKER", "BCO", "CUSTOMS", "PORT_AUTHORITY", "CSOC", "OTHER_PORT",
}  # fmt: skip
TLP_LEVELS = {"CLEAR", "GREEN", "AMBER", "RED"}
SEVERITIES = {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
INCIDENT_CATEGORIES = {
    "PHISHING", "MALWARE", "RANSOMWARE", "INTRUSION", "DDOS", "INSIDER", "GNSS_SPOOFING",
    "AIS_SPOOFING", "PHYSICAL",
}  # fmt: skip
INCIDENT_STATUSES = {"OPEN", "CONTAINED", "RESOLVED", "CLOSED"}
PORT_CALL_STATUSES = {"PLANNED", "ARRIVED", "AT_BERTH", "DEPARTED", "CANCELLED"}
VISIT_STATUSES = {"ON_VESSEL", "IN_YARD", "PICKED_UP", "EMPTY_RETURNED", "GATED_IN", "LOADED"}
HOLD_TYPES = {"CUSTOMS", "FREIGHT", "TERMINAL"}
MOVE_TYPES = {"IMPORT_PICKUP", "EXPORT_DROPOFF", "EMPTY_RETURN", "EMPTY_PICKUP"}
APPOINTMENT_STATUSES = {"SCHEDULED", "ARRIVED", "COMPLETED", "MISSED", "CANCELLED"}


# --- databases -------------------------------------------------------------------------


async def _admin(admin_url: str, statement: str) -> None:
    conn: Connection = await asyncpg.connect(admin_url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def more_databases(pg_admin_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Make further fresh databases for one test (next to `empty_database`); dropped after."""
    names: list[str] = []

    async def make() -> str:
        name = f"hg_test_seed_{uuid.uuid4().hex[:10]}"
        await _admin(pg_admin_url, f'CREATE DATABASE "{name}"')
        names.append(name)
        return with_database(pg_admin_url, name)

    yield make
    for name in names:
        await _admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrated_pool(url: str) -> Pool:
    conn: Connection = await asyncpg.connect(url)
    try:
        await migrate(conn, SOURCES)
    finally:
        await conn.close()
    pool: Pool = await asyncpg.create_pool(url, min_size=1, max_size=len(SOURCES))
    return pool


def _pools(pool: Pool) -> SourcePools:
    return SourcePools(dict.fromkeys(SOURCES, pool))


async def _seed(url: str, seed_value: int) -> tuple[Pool, SeedReport]:
    pool = await _migrated_pool(url)
    report = await seed(_pools(pool), scale=TEST_SCALE, seed=seed_value, anchor=ANCHOR)
    return pool, report


@pytest.fixture
def seeded(seeded_pools: SourcePools) -> Pool:
    """The session's read-only database seeded at the test scale, seed and anchor (conftest)."""
    return seeded_pools["cargo"]


async def _tables(pool: Pool) -> list[str]:
    return [r["name"] for r in await pool.fetch(TABLES_SQL, list(SOURCES))]


async def _checksums(pool: Pool) -> dict[str, str]:
    """An md5 of every row of every table of the five sources, rows in text order."""
    sums: dict[str, str] = {}
    for table in await _tables(pool):
        sql = f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        sums[table] = await pool.fetchval(sql)
    return sums


async def _counts(pool: Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in await _tables(pool)}


# --- determinism and counts ------------------------------------------------------------


async def test_same_seed_and_anchor_give_identical_rows_another_seed_differs(
    empty_database: str, more_databases: Callable[[], Awaitable[str]]
) -> None:
    first, report = await _seed(empty_database, TEST_SEED)
    again, _ = await _seed(await more_databases(), TEST_SEED)
    other, _ = await _seed(await more_databases(), OTHER_SEED)
    try:
        sums = [await _checksums(pool) for pool in (first, again, other)]
        counts = await _counts(first)
    finally:
        for pool in (first, again, other):
            await pool.close()
    assert sums[0] == sums[1]
    changed = {table for table in sums[0] if sums[0][table] != sums[2][table]}
    # Reference data (carriers, ports, terminals), the run-time audit log, retractions (the
    # demo retracts by a flag, publishers by an event), booked slots and the change log do not depend on the
    # seed; everything generated does.
    assert set(sums[0]) - changed == {
        "cargo.change_log",
        "cargo.event_retraction",
        "cargo.event_subscription",
        "gate.change_log",
        "security.change_log",
        "vessel.change_log",
        "gate.appointment_slot",
        "community.audit_event",
        "community.carrier",
        "community.open_operation",
        "community.rate_count",
        "vessel.port",
        "vessel.terminal",
    }
    assert report.counts == counts, "the report names every table with its rows"
    assert report.counts == EXPECTED_COUNTS
    assert report.seconds > 0


async def test_is_seeded_and_a_second_seed_is_refused(
    seeded_pools: SourcePools, empty_database: str
) -> None:
    pool = await _migrated_pool(empty_database)
    try:
        assert not await is_seeded(_pools(pool))
    finally:
        await pool.close()
    assert await is_seeded(seeded_pools)
    with pytest.raises(AlreadySeededError):
        await seed(seeded_pools, scale=TEST_SCALE, seed=TEST_SEED, anchor=ANCHOR)


# --- identifiers -----------------------------------------------------------------------


async def test_every_imo_passes_its_check_digit(seeded: Pool) -> None:
    imos = [r["imo"] for r in await seeded.fetch("SELECT imo FROM vessel.vessel")]
    assert imos
    for imo in imos:
        assert imo.startswith("9")
        assert imo_check_digit(imo[:6]) == int(imo[6]), imo


async def test_every_container_number_passes_iso_6346(seeded: Pool) -> None:
    sql = """
    SELECT equipment_reference FROM cargo.equipment
    UNION SELECT equipment_reference FROM cargo.container_visit
    UNION SELECT equipment_reference FROM cargo.event WHERE equipment_reference IS NOT NULL
    """
    gate_sql = """
    SELECT equipment_reference FROM gate.appointment
    UNION SELECT equipment_reference FROM gate.gate_transaction
    """
    numbers = [r[0] for r in await seeded.fetch(sql)]
    numbers += [r[0] for r in await seeded.fetch(gate_sql)]
    owners = {
        p for r in await seeded.fetch("SELECT owner_prefixes FROM community.carrier") for p in r[0]
    }
    assert len(numbers) > 1000
    for number in numbers:
        assert number[:4] in owners, number
        assert container_check_digit(number[:10]) == int(number[10]), number


# --- lifecycles ------------------------------------------------------------------------


def _is_lifecycle_prefix(codes: list[str], lifecycles: list[list[str]]) -> bool:
    return any(codes == full[: len(codes)] for full in lifecycles)


async def test_event_histories_are_in_time_order_and_follow_the_lifecycle(seeded: Pool) -> None:
    visits = await seeded.fetch(
        "SELECT equipment_reference, port_call_id, direction, empty_indicator_code, status"
        " FROM cargo.container_visit"
    )
    # In time order: a step stamped before the one it follows in its lifecycle shows as codes
    # out of the lifecycle's order, two at the same instant as no strict increase. (Not in
    # the order written: the generator's batches reach the table in no set physical order.)
    events = await seeded.fetch(
        """
        SELECT equipment_reference, port_call_id, event_datetime,
               coalesce(equipment_event_type_code, transport_event_type_code) AS code
        FROM cargo.event
        WHERE equipment_reference IS NOT NULL AND event_classifier_code = 'ACT'
          AND retracted_at IS NULL
        ORDER BY event_datetime, event_id
        """
    )
    assert len(events) > 1000
    history: dict[tuple[str, uuid.UUID], list[tuple[dt.datetime, str]]] = {}
    for e in events:
        key = (e["equipment_reference"], e["port_call_id"])
        history.setdefault(key, []).append((e["event_datetime"], e["code"]))
    assert len(history) > 0.6 * len(visits)  # the rest are on calls still to come
    for v in visits:
        key = (v["equipment_reference"], v["port_call_id"])
        kind = (v["direction"], v["empty_indicator_code"])
        steps = history.pop(key, [])
        times, codes = [t for t, _ in steps], [c for _, c in steps]
        assert all(a < b for a, b in itertools.pairwise(times)), (key, steps)
        assert all(t <= NOW for t in times), (key, steps)
        assert _is_lifecycle_prefix(codes, LIFECYCLES[kind]), (key, kind, codes)
        assert STATUS_AFTER[kind][codes[-1] if codes else None] == v["status"], (key, codes)
    assert history == {}, "every container event belongs to a visit"


async def test_nothing_is_published_after_the_anchor(seeded: Pool) -> None:
    checks = {
        "cargo.event": "max(event_created_datetime)",
        "vessel.timestamp": "max(created_at)",
        "vessel.port_call": "max(updated_at)",
        "cargo.container_visit": "max(updated_at)",
        "cargo.shipment": "max(created_at)",
        "cargo.hold": "greatest(max(placed_at), max(released_at))",
        "gate.gate_transaction": "greatest(max(gate_in_at), max(gate_out_at))",
        "gate.appointment": "max(created_at)",
        "security.advisory": "max(published_at)",
        "security.incident": "greatest(max(detected_at), max(resolved_at))",
        "community.organization": "max(created_at)",
    }
    for table, latest in checks.items():
        assert await seeded.fetchval(f"SELECT {latest} FROM {table}") <= NOW, table
    future_actuals = await seeded.fetchval(
        "SELECT count(*) FROM cargo.event WHERE event_classifier_code = 'ACT' AND event_datetime > $1",
        NOW,
    )
    assert future_actuals == 0


async def test_port_call_status_agrees_with_its_times(seeded: Pool) -> None:
    for call in await seeded.fetch("SELECT * FROM vessel.port_call"):
        status = call["status"]
        arrived, departed = call["actual_arrival"], call["actual_departure"]
        assert call["estimated_arrival"] >= NOW - dt.timedelta(days=30)
        assert call["estimated_arrival"] <= NOW + dt.timedelta(days=21)
        if status in ("PLANNED", "CANCELLED"):
            assert (arrived, departed) == (None, None), call
        elif status in ("ARRIVED", "AT_BERTH"):
            assert departed is None, call
            assert arrived is not None, call
            assert arrived <= NOW, call
        else:
            assert departed is not None, call
            assert departed <= NOW, call


async def test_timestamp_chains_reply_in_order(seeded: Pool) -> None:
    rows = await seeded.fetch("SELECT * FROM vessel.timestamp")
    by_id = {r["id"]: r for r in rows}
    replies = 0
    for r in rows:
        if r["reply_to_timestamp_id"] is None:
            continue
        replies += 1
        asked = by_id[r["reply_to_timestamp_id"]]
        expected = {"REQ": "EST", "PLN": "REQ"}[r["classifier"]]
        assert asked["classifier"] == expected
        assert asked["port_call_service_id"] == r["port_call_service_id"]
        assert asked["created_at"] < r["created_at"]
    assert replies > 0


async def test_gate_transactions_match_gate_events_with_plausible_turn_times(
    seeded: Pool,
) -> None:
    transactions = await seeded.fetch("SELECT * FROM gate.gate_transaction")
    events = await seeded.fetch(
        "SELECT equipment_reference, equipment_event_type_code AS code, event_datetime,"
        " facility_smdg_code FROM cargo.event WHERE event_classifier_code = 'ACT'"
        " AND equipment_event_type_code IN ('GTIN', 'GTOT') AND mode_of_transport = 'TRUCK'"
    )
    moves = {
        (e["equipment_reference"], e["code"], e["event_datetime"], e["facility_smdg_code"])
        for e in events
    }
    assert len(transactions) >= 1000
    for t in transactions:
        if t["move_type"] in ("IMPORT_PICKUP", "EMPTY_PICKUP"):
            key = (t["equipment_reference"], "GTOT", t["gate_out_at"], t["smdg_code"])
        else:
            key = (t["equipment_reference"], "GTIN", t["gate_in_at"], t["smdg_code"])
        assert key in moves, dict(t)
        if t["gate_out_at"] is not None:
            assert 25 <= t["turn_time_minutes"] <= 150, dict(t)
    assert len(moves) == len(transactions)


async def test_natural_keys_resolve_across_sources(seeded: Pool) -> None:
    async def column(sql: str) -> set[object]:
        return {r[0] for r in await seeded.fetch(sql)}

    calls = await column("SELECT id FROM vessel.port_call")
    organizations = await column("SELECT code FROM community.organization")
    cargo_owners = await column("SELECT code FROM community.organization WHERE kind = 'BCO'")
    truckers = await column("SELECT scac FROM community.organization WHERE kind = 'TRUCKER'")
    terminals = await column("SELECT smdg_code FROM vessel.terminal")
    assert await column("SELECT port_call_id FROM cargo.container_visit") <= calls
    assert await column("SELECT publisher_code FROM cargo.event") <= organizations
    assert await column("SELECT publisher_code FROM vessel.timestamp") <= organizations
    assert await column("SELECT placed_by_code FROM cargo.hold") <= organizations
    linked = await column(
        "SELECT organization_code FROM cargo.shipment_party WHERE organization_code IS NOT NULL"
    )
    assert linked == cargo_owners
    assert await column("SELECT trucker_scac FROM gate.gate_transaction") == truckers
    assert await column("SELECT smdg_code FROM gate.empty_return_rule") == terminals
    assert await column("SELECT published_by_code FROM security.advisory") <= organizations


# --- coverage --------------------------------------------------------------------------


async def test_every_kind_of_row_exists_at_test_scale(seeded: Pool) -> None:
    async def values(sql: str) -> set[object]:
        return {r[0] for r in await seeded.fetch(sql)}

    assert await values("SELECT kind FROM community.organization") == ORGANIZATION_KINDS
    assert await values("SELECT tlp FROM security.advisory") == TLP_LEVELS
    assert await values("SELECT severity FROM security.advisory") == SEVERITIES
    assert await values("SELECT category FROM security.incident") == INCIDENT_CATEGORIES
    assert await values("SELECT status FROM security.incident") == INCIDENT_STATUSES
    assert await values("SELECT status FROM vessel.port_call") == PORT_CALL_STATUSES
    assert await values("SELECT status FROM cargo.container_visit") == VISIT_STATUSES
    assert await values("SELECT hold_type FROM cargo.hold") == HOLD_TYPES
    assert await values("SELECT move_type FROM gate.gate_transaction") == MOVE_TYPES
    assert await values("SELECT status FROM gate.appointment") == APPOINTMENT_STATUSES
    assert await values("SELECT accepting FROM gate.empty_return_rule") == {True, False}
    expired = await seeded.fetchval(
        "SELECT count(*) FROM security.advisory WHERE expires_at < $1", NOW
    )
    assert expired > 0
    assert await seeded.fetchval("SELECT count(*) FROM cargo.hold WHERE released_at IS NULL")
    assert await values("SELECT count(*) > 0 FROM security.advisory_facility") == {True}


async def test_a_failed_load_writes_nothing(empty_database: str) -> None:
    pool = await _migrated_pool(empty_database)
    try:
        # A security row already holding an id the seed will use: the COPY of that table fails.
        await pool.execute(
            """INSERT INTO security.blocked_intrusion (day, vector, attempts)
               VALUES ($1::date - 1, 'WEB', 1)""",
            ANCHOR,
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await seed(_pools(pool), scale=TEST_SCALE, seed=TEST_SEED, anchor=ANCHOR)
        counts = await _counts(pool)
        assert {table: n for table, n in counts.items() if n} == {"security.blocked_intrusion": 1}
    finally:
        await pool.close()
