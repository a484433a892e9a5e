"""The gate source against the seeded database: row rule, filters, keyset pages, loaders.

Expected rows are read with plain SQL written here, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import asyncpg

from resolvers import gate, paging
from resolvers.migrate import migrate
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, AppointmentVisits
from resolvers.sources import Pool, SourcePools
from tests.helpers import CountingPool, all_rows, principal, terminal

Kind = OrganizationKind
ANCHOR = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def trucker(scac: str) -> Principal:
    return principal(Kind.TRUCKER, scac=scac)


async def busiest(pool: Pool, sql: str) -> asyncpg.Record:
    row = await pool.fetchrow(sql)
    assert row is not None
    return row


async def busiest_trucker(pool: Pool) -> str:
    sql = "SELECT trucker_scac FROM gate.appointment GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    return str((await busiest(pool, sql))["trucker_scac"])


async def busiest_terminal(pool: Pool) -> tuple[str, str]:
    row = await busiest(
        pool,
        "SELECT unlocode, smdg_code FROM gate.gate_transaction GROUP BY 1, 2 "
        "ORDER BY count(*) DESC, 1, 2 LIMIT 1",
    )
    return row["unlocode"], row["smdg_code"]


# --- The row rule --------------------------------------------------------------------------


def test_gate_rule_is_one_predicate_per_kind() -> None:
    assert gate.gate_rule(trucker("HBDR")).predicate == "g.trucker_scac = {0}"
    assert gate.gate_rule(trucker("HBDR")).args == ("HBDR",)
    rule = gate.gate_rule(terminal("USLAX", "APMT"))
    assert rule.predicate == "g.unlocode = {0} AND g.smdg_code = {1}"
    assert rule.args == ("USLAX", "APMT")
    assert gate.gate_rule(principal(Kind.CUSTOMS)) is SEES_ALL
    assert gate.gate_rule(principal(Kind.PORT_AUTHORITY)) is SEES_ALL
    for kind in (Kind.CARRIER, Kind.BCO, Kind.CSOC, Kind.OTHER_PORT):
        assert gate.gate_rule(principal(kind, scac="MSCU")) is SEES_NOTHING
    assert gate.gate_rule(principal(Kind.TRUCKER)) is SEES_NOTHING  # a trucker without SCAC


def test_rule_parameters_follow_the_filters_and_the_limit() -> None:
    statement = paging.compose(
        gate.SELECT_APPOINTMENTS,
        gate.APPOINTMENT_CONDITIONS,
        [("status", ("SCHEDULED",)), ("terminal", ("USLAX", "APMT"))],
        11,
    )
    sql, args = gate.gate_rule(trucker("HBDR")).bind(statement.sql, *statement.args)
    assert "(g.status = $1) AND (g.unlocode = $2 AND g.smdg_code = $3)" in sql
    assert "LIMIT $4" in sql
    assert "(g.trucker_scac = $5)" in sql
    assert args == ("SCHEDULED", "USLAX", "APMT", 11, "HBDR")


# --- Appointments --------------------------------------------------------------------------


async def test_trucker_pages_through_exactly_its_own_appointments(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    scac = await busiest_trucker(pool)
    expected = await pool.fetch(
        "SELECT id FROM gate.appointment WHERE trucker_scac = $1 ORDER BY window_start, id", scac
    )
    rule = gate.gate_rule(trucker(scac))

    async def fetch(size: int, after: Any) -> list[asyncpg.Record]:
        return await gate.appointments_page(pool, rule, gate.AppointmentFilter(), size, after)

    def key(row: asyncpg.Record) -> tuple[Any, ...]:
        return (row["window_start"], row["id"])

    rows = await all_rows(fetch, 40, key)
    assert len(expected) > 40  # several pages
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert {r["trucker_scac"] for r in rows} == {scac}


async def test_terminal_sees_only_its_terminal_and_filters_narrow_it(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    port, code = await busiest_terminal(pool)
    start, end = ANCHOR - dt.timedelta(days=14), ANCHOR
    expected = await pool.fetch(
        """
        SELECT id FROM gate.appointment
        WHERE unlocode = $1 AND smdg_code = $2 AND status = 'COMPLETED'
          AND move_type = 'EMPTY_RETURN' AND window_start >= $3 AND window_start < $4
        ORDER BY window_start, id
        """,
        port,
        code,
        start,
        end,
    )
    f = gate.AppointmentFilter(status="COMPLETED", move_type="EMPTY_RETURN", start=start, end=end)
    rows = await gate.appointments_page(pool, gate.gate_rule(terminal(port, code)), f, 1000, None)
    assert expected
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    # Another terminal's filter under this terminal's rule: nothing, not an error.
    other = await pool.fetchval(
        "SELECT smdg_code FROM gate.appointment WHERE smdg_code <> $1 LIMIT 1", code
    )
    f_other = gate.AppointmentFilter(terminal=(port, str(other)))
    rule = gate.gate_rule(terminal(port, code))
    assert await gate.appointments_page(pool, rule, f_other, 50, None) == []


async def test_equipment_filter_and_kinds_that_see_nothing(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["gate"]
    row = await pool.fetchrow(
        "SELECT equipment_reference, count(*) AS n FROM gate.appointment "
        "WHERE equipment_reference IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    )
    assert row is not None
    f = gate.AppointmentFilter(equipment_reference=row["equipment_reference"])
    rows = await gate.appointments_page(pool, SEES_ALL, f, 100, None)
    assert len(rows) == row["n"]
    for kind in (Kind.CARRIER, Kind.BCO, Kind.CSOC):
        rule = gate.gate_rule(principal(kind, scac="MSCU"))
        assert await gate.appointments_page(pool, rule, gate.AppointmentFilter(), 10, None) == []


# The visit a move serves, written as a join (the code computes it with a CASE).
LIVE_APPOINTMENT_VISITS = """
SELECT DISTINCT a.equipment_reference, a.unlocode, a.smdg_code, m.direction
FROM gate.appointment a
JOIN (VALUES ('IMPORT_PICKUP', 'IMPORT'), ('EMPTY_RETURN', 'IMPORT'),
             ('EXPORT_DROPOFF', 'EXPORT'), ('EMPTY_PICKUP', 'EXPORT')) AS m(move_type, direction)
  ON m.move_type = a.move_type
WHERE a.trucker_scac = $1 AND a.equipment_reference IS NOT NULL
  AND a.status IN ('SCHEDULED', 'ARRIVED', 'COMPLETED', 'MISSED')
"""


async def test_appointment_visits_are_the_distinct_live_visits_of_a_trucker(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    scac = await busiest_trucker(pool)
    expected = sorted(tuple(r) for r in await pool.fetch(LIVE_APPOINTMENT_VISITS, scac))
    visits = await gate.appointment_visits(pool, scac)
    got = await expanded(pool, visits)
    assert got == expected
    assert visits.count == len(got) == len(set(got)) > 0
    assert {d for *_, d in got} == {"IMPORT", "EXPORT"}
    # Some box it moves for two of its visits: one key per visit, not one per box.
    assert len({number for number, *_ in got}) < len(got)
    assert await gate.appointment_visits(pool, "ZZZZ") == AppointmentVisits.of([])


async def expanded(pool: Pool, visits: AppointmentVisits) -> list[tuple[str, ...]]:
    """The visits' array literal read back by PostgreSQL, as sorted tuples."""
    rows = await pool.fetch("SELECT unnest($1::text::text[]) AS key", visits.keys)
    return sorted(tuple(r["key"].split("|")) for r in rows)


# One trucker's appointments for three boxes: what each status and move grants.
APPOINTMENTS = """
INSERT INTO gate.appointment (appointment_reference, trucker_scac, unlocode, smdg_code,
    equipment_reference, move_type, window_start, window_end, status, created_at)
SELECT 'APMT' || lpad(n::text, 8, '0'), t, 'USLAX', s, e, m,
       '2026-03-01T08:00:00Z'::timestamptz + n * interval '1 hour',
       '2026-03-01T09:00:00Z'::timestamptz + n * interval '1 hour', st, '2026-02-28T00:00:00Z'
FROM (VALUES
    (1, 'TRKA', 'APMT', 'MSCU1234565', 'IMPORT_PICKUP', 'CANCELLED'),
    (2, 'TRKA', 'APMT', 'MSCU1234565', 'EMPTY_RETURN', 'CANCELLED'),
    (3, 'TRKA', 'APMT', 'MAEU1234560', 'IMPORT_PICKUP', 'MISSED'),
    (4, 'TRKA', 'APMT', 'MAEU1234560', 'IMPORT_PICKUP', 'COMPLETED'),
    (5, 'TRKA', 'APMT', 'MAEU1234560', 'EMPTY_RETURN', 'COMPLETED'),
    (6, 'TRKA', 'TTI', 'MAEU1234560', 'EMPTY_PICKUP', 'ARRIVED'),
    (7, 'TRKA', 'TTI', 'MAEU1234560', 'EXPORT_DROPOFF', 'SCHEDULED'),
    (8, 'TRKA', 'APMT', NULL, 'EMPTY_PICKUP', 'SCHEDULED'),
    (9, 'TRKB', 'APMT', 'MSCU1234565', 'EXPORT_DROPOFF', 'COMPLETED')
) AS v(n, t, s, e, m, st)
"""


async def test_a_cancelled_appointment_is_no_visit_and_moves_give_the_visit_direction(
    empty_database: str,
) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        await migrate(conn, ["gate"])
        await conn.execute(APPOINTMENTS)
        visits = await expanded(
            cast(Pool, conn), await gate.appointment_visits(cast(Pool, conn), "TRKA")
        )
        other = await expanded(
            cast(Pool, conn), await gate.appointment_visits(cast(Pool, conn), "TRKB")
        )
    finally:
        await conn.close()
    assert visits == [
        ("MAEU1234560", "USLAX", "APMT", "IMPORT"),  # pickup, missed or not, and empty return
        ("MAEU1234560", "USLAX", "TTI", "EXPORT"),  # empty pickup and export drop-off
    ]
    assert other == [("MSCU1234565", "USLAX", "APMT", "EXPORT")]


# --- Gate transactions ---------------------------------------------------------------------


async def test_transactions_newest_first_with_turn_times(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["gate"]
    port, code = await busiest_terminal(pool)
    expected = await pool.fetch(
        """
        SELECT id, turn_time_minutes, gate_in_at, gate_out_at FROM gate.gate_transaction
        WHERE unlocode = $1 AND smdg_code = $2 ORDER BY gate_in_at DESC, id DESC
        """,
        port,
        code,
    )
    rule = gate.gate_rule(terminal(port, code))

    async def fetch(size: int, after: Any) -> list[asyncpg.Record]:
        return await gate.transactions_page(pool, rule, gate.TransactionFilter(), size, after)

    def key(row: asyncpg.Record) -> tuple[Any, ...]:
        return (row["gate_in_at"], row["id"])

    rows = await all_rows(fetch, 75, key)
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    for row in rows:
        if row["gate_out_at"] is None:
            assert row["turn_time_minutes"] is None
        else:
            minutes = (row["gate_out_at"] - row["gate_in_at"]).total_seconds() / 60
            assert row["turn_time_minutes"] == round(minutes)


async def test_trucker_filter_inside_another_trucker_rule_finds_nothing(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    scac = await busiest_trucker(pool)
    other = await pool.fetchval(
        "SELECT trucker_scac FROM gate.gate_transaction WHERE trucker_scac <> $1 LIMIT 1", scac
    )
    own = gate.gate_rule(trucker(scac))
    f = gate.TransactionFilter(trucker=str(other))
    assert await gate.transactions_page(pool, own, f, 50, None) == []
    start, end = ANCHOR - dt.timedelta(days=2), ANCHOR
    expected = await pool.fetch(
        "SELECT id FROM gate.gate_transaction WHERE trucker_scac = $1 AND gate_in_at >= $2 "
        "AND gate_in_at < $3 AND move_type = 'EMPTY_RETURN' ORDER BY gate_in_at DESC, id DESC",
        scac,
        start,
        end,
    )
    f = gate.TransactionFilter(trucker=scac, start=start, end=end, move_type="EMPTY_RETURN")
    rows = await gate.transactions_page(pool, own, f, 500, None)
    assert [r["id"] for r in rows] == [r["id"] for r in expected]


async def test_transactions_loader_applies_the_rule_in_one_statement(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    scac = await busiest_trucker(pool)
    boxes = await pool.fetch(
        "SELECT equipment_reference FROM gate.gate_transaction "
        "WHERE equipment_reference IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 60"
    )
    references = [r["equipment_reference"] for r in boxes] + ["MSCU0000000"]
    expected = await pool.fetch(
        "SELECT equipment_reference, id FROM gate.gate_transaction "
        "WHERE equipment_reference = ANY($1::text[]) AND trucker_scac = $2 "
        "ORDER BY equipment_reference, gate_in_at, id",
        references,
        scac,
    )
    counting = CountingPool(pool)
    loaders = gate.GateLoaders(cast(Pool, counting), trucker(scac))
    got = await loaders.gate_transactions_by_equipment_reference.load_many(references)
    assert len(counting.statements) == 1
    by_box: dict[str, list[int]] = {r: [] for r in references}
    for row in expected:
        by_box[row["equipment_reference"]].append(row["id"])
    assert [[row["id"] for row in rows] for rows in got] == [by_box[r] for r in references]
    assert any(got)
    assert not all(got)


async def test_appointment_loader_hides_other_truckers(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["gate"]
    scac = await busiest_trucker(pool)
    mine = await pool.fetchval("SELECT min(id) FROM gate.appointment WHERE trucker_scac = $1", scac)
    theirs = await pool.fetchval(
        "SELECT min(id) FROM gate.appointment WHERE trucker_scac <> $1", scac
    )
    loaders = gate.GateLoaders(pool, trucker(scac))
    found = await loaders.appointment_by_id.load_many([mine, theirs])
    assert found[0] is not None
    assert found[0]["trucker_scac"] == scac
    assert found[1] is None


# --- Empty-return rules --------------------------------------------------------------------


async def test_empty_returns_in_force_at_an_instant(seeded_pools: SourcePools) -> None:
    pool = seeded_pools["gate"]
    at = ANCHOR + dt.timedelta(hours=12)
    expected = await pool.fetch(
        """
        SELECT id FROM gate.empty_return_rule
        WHERE valid_from <= $1 AND valid_to > $1 AND carrier_scac = 'ONEY'
        ORDER BY unlocode, smdg_code, carrier_scac, iso_equipment_code, valid_from, id
        """,
        at,
    )
    f = gate.EmptyReturnFilter(start=at, end=at, carrier="ONEY")

    async def fetch(size: int, after: Any) -> list[asyncpg.Record]:
        return await gate.empty_returns_page(pool, f, size, after)

    def key(row: asyncpg.Record) -> tuple[Any, ...]:
        return (
            row["unlocode"],
            row["smdg_code"],
            row["carrier_scac"],
            row["iso_equipment_code"],
            row["valid_from"],
            row["id"],
        )

    rows = await all_rows(fetch, 5, key)
    assert len(expected) > 5
    assert [r["id"] for r in rows] == [r["id"] for r in expected]


async def test_empty_returns_over_a_day_and_one_terminal_and_type(
    seeded_pools: SourcePools,
) -> None:
    pool = seeded_pools["gate"]
    start, end = ANCHOR, ANCHOR + dt.timedelta(days=1)
    expected = await pool.fetch(
        """
        SELECT id, accepting, alternate_smdg_code, remark FROM gate.empty_return_rule
        WHERE valid_from <= $2 AND valid_to > $1 AND unlocode = 'USLAX' AND smdg_code = 'APMT'
          AND iso_equipment_code = '45G1'
        ORDER BY unlocode, smdg_code, carrier_scac, iso_equipment_code, valid_from, id
        """,
        start,
        end,
    )
    f = gate.EmptyReturnFilter(start, end, ("USLAX", "APMT"), None, "45G1")
    rows = await gate.empty_returns_page(pool, f, 100, None)
    assert [dict(r) for r in expected] == [
        {k: r[k] for k in ("id", "accepting", "alternate_smdg_code", "remark")} for r in rows
    ]
    assert len(rows) >= 2  # the rule ending at `start` does not count, the next two do
