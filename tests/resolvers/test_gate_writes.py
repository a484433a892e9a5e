"""Truck appointments: a slot's places hold under concurrency; truckers book and cancel their
own; booking is idempotent by reference."""

from __future__ import annotations

import asyncio
import datetime as dt
import string
from collections.abc import AsyncIterator

import asyncpg
import pytest

from resolvers.community import AuditRecord
from resolvers.gate_writes import (
    Booking,
    GateMove,
    book_appointment,
    booking,
    cancel_appointment,
    gate_move,
    record_gate_move,
)
from resolvers.principal import OrganizationKind, Principal
from resolvers.sources import SOURCES, Pool, SourcePools
from resolvers.writes import Invalid, Outcome, Refusal, Written
from tests.helpers import carrier, principal, terminal

NOW = dt.datetime.now(dt.UTC)
SLOT = (NOW + dt.timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
APMT = ("USLAX", "APMT")
SLOT_ROW = """
SELECT capacity, booked FROM gate.appointment_slot
WHERE unlocode = $1 AND smdg_code = $2 AND slot_start = $3
"""
IN_SLOT = """
SELECT count(*) FROM gate.appointment
WHERE unlocode = $1 AND smdg_code = $2 AND slot_start = $3 AND status = 'SCHEDULED'
"""


def trucker(scac: str) -> Principal:
    return principal(OrganizationKind.TRUCKER, scac, scac=scac)


BYLC = trucker("BYLC")


@pytest.fixture
async def pool(writable_url: str) -> AsyncIterator[Pool]:
    pool: Pool = await asyncpg.create_pool(writable_url, min_size=1, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
def pools(pool: Pool) -> SourcePools:
    return SourcePools(dict.fromkeys(SOURCES, pool))


def empty_pickup(reference: str | None = None, start: dt.datetime = SLOT) -> Booking:
    return booking(APMT, start, "EMPTY_PICKUP", None, "7ABC123", reference, NOW)


async def book(pools: SourcePools, who: Principal, request: Booking) -> Written:
    records: list[AuditRecord] = []
    return await book_appointment(pools, who, request, operation="test", audit=records.append)


async def cancel(pools: SourcePools, who: Principal, reference: str) -> Written:
    records: list[AuditRecord] = []
    return await cancel_appointment(pools, who, reference, operation="test", audit=records.append)


async def test_sixteen_truckers_booking_the_last_three_places_get_three(
    pool: Pool, pools: SourcePools
) -> None:
    await pool.execute(
        "INSERT INTO gate.appointment_slot (unlocode, smdg_code, slot_start, capacity, booked)"
        " VALUES ($1, $2, $3, 40, 37)",
        *APMT,
        SLOT,
    )
    truckers = [trucker("TR" + letter) for letter in string.ascii_uppercase[:16]]
    done = await asyncio.gather(*(book(pools, t, empty_pickup()) for t in truckers))
    outcomes = sorted((d.outcome, d.code, d.field, d.reason) for d in done)
    assert outcomes == sorted(
        [(Outcome.ACCEPTED, None, None, None)] * 3
        + [(Outcome.REJECTED, Refusal.CONFLICT, "slotStart", "the slot is full")] * 13
    )
    assert tuple(await pool.fetchrow(SLOT_ROW, *APMT, SLOT) or ()) == (40, 40)
    assert await pool.fetchval(IN_SLOT, *APMT, SLOT) == 3


async def test_a_slot_counts_the_appointments_already_in_its_hour(
    pool: Pool, pools: SourcePools
) -> None:
    await pool.execute(
        "INSERT INTO gate.appointment (appointment_reference, trucker_scac, unlocode, smdg_code,"
        " move_type, window_start, window_end, status, created_at)"
        " VALUES ('DEMO-1', 'GEDY', $1, $2, 'EMPTY_PICKUP', $3::timestamptz,"
        " $3::timestamptz + interval '1 hour',"
        " 'SCHEDULED', now())",
        *APMT,
        SLOT + dt.timedelta(minutes=30),
    )
    assert (await book(pools, BYLC, empty_pickup())).outcome is Outcome.ACCEPTED
    assert tuple(await pool.fetchrow(SLOT_ROW, *APMT, SLOT) or ()) == (40, 2)


async def test_booking_again_with_the_same_reference_is_a_duplicate(
    pool: Pool, pools: SourcePools
) -> None:
    first = await book(pools, BYLC, empty_pickup("BYLC-0001"))
    again = await book(pools, BYLC, empty_pickup("BYLC-0001"))
    assert (first.outcome, again.outcome) == (Outcome.ACCEPTED, Outcome.DUPLICATE)
    assert first.row is not None
    assert again.row is not None
    assert again.row["id"] == first.row["id"]
    assert tuple(await pool.fetchrow(SLOT_ROW, *APMT, SLOT) or ()) == (40, 1)
    taken = await book(pools, trucker("GEDY"), empty_pickup("BYLC-0001"))
    assert (taken.outcome, taken.code, taken.field) == (
        Outcome.REJECTED,
        Refusal.CONFLICT,
        "appointmentReference",
    )


async def test_the_same_booking_sent_twice_at_once_takes_one_place(
    pool: Pool, pools: SourcePools
) -> None:
    done = await asyncio.gather(*(book(pools, BYLC, empty_pickup("BYLC-0005")) for _ in range(2)))
    assert sorted(d.outcome for d in done) == [Outcome.ACCEPTED, Outcome.DUPLICATE]
    assert tuple(await pool.fetchrow(SLOT_ROW, *APMT, SLOT) or ()) == (40, 1)


async def test_a_trucker_cancels_its_own_appointment_and_the_place_comes_back(
    pool: Pool, pools: SourcePools
) -> None:
    assert (await book(pools, BYLC, empty_pickup("BYLC-0002"))).outcome is Outcome.ACCEPTED
    fingerprint = "SELECT md5(string_agg(a::text, '' ORDER BY a.id)) FROM gate.appointment a"
    before = await pool.fetchval(fingerprint)
    for who in (trucker("GEDY"), carrier("MSCU")):
        other = await cancel(pools, who, "BYLC-0002")
        assert (other.outcome, other.code, other.field) == (
            Outcome.REJECTED,
            Refusal.NOT_FOUND,
            "appointmentReference",
        )
    assert await pool.fetchval(fingerprint) == before
    cancelled = await cancel(pools, BYLC, "BYLC-0002")
    assert cancelled.row is not None
    assert (cancelled.outcome, cancelled.row["status"]) == (Outcome.ACCEPTED, "CANCELLED")
    assert tuple(await pool.fetchrow(SLOT_ROW, *APMT, SLOT) or ()) == (40, 0)
    assert (await cancel(pools, BYLC, "BYLC-0002")).outcome is Outcome.DUPLICATE


async def test_only_truckers_book_and_only_for_boxes_the_move_serves(pools: SourcePools) -> None:
    refused = await book(pools, carrier("MSCU"), empty_pickup())
    assert (refused.code, refused.field) == (Refusal.NOT_FOUND, "terminal")
    nowhere = booking(("USLAX", "NOPE"), SLOT, "EMPTY_PICKUP", None, None, None, NOW)
    assert (await book(pools, BYLC, nowhere)).field == "terminal"
    unknown_box = booking(APMT, SLOT, "IMPORT_PICKUP", "MSCU1234566", None, None, NOW)
    missing = await book(pools, BYLC, unknown_box)
    assert (missing.code, missing.field) == (Refusal.NOT_FOUND, "containerNumber")


@pytest.mark.parametrize(
    ("start", "move_type", "number", "field", "reason"),
    [
        (
            SLOT + dt.timedelta(minutes=30),
            "EMPTY_PICKUP",
            None,
            "slotStart",
            "slots start on the hour (UTC)",
        ),
        (
            SLOT - dt.timedelta(days=5),
            "EMPTY_PICKUP",
            None,
            "slotStart",
            "must be within the next 30 days",
        ),
        (SLOT, "IMPORT_PICKUP", None, "containerNumber", "is required for IMPORT_PICKUP"),
        (
            SLOT,
            "DELIVERY",
            None,
            "moveType",
            "one of IMPORT_PICKUP, EXPORT_DROPOFF, EMPTY_RETURN, EMPTY_PICKUP",
        ),
    ],
)
def test_a_booking_is_checked_at_the_edge(
    start: dt.datetime, move_type: str, number: str | None, field: str, reason: str
) -> None:
    with pytest.raises(Invalid) as caught:
        booking(APMT, start, move_type, number, None, None, NOW)
    assert (caught.value.field, caught.value.reason) == (field, reason)


# --- Gate moves ---------------------------------------------------------------------------------

APMT_TERMINAL = terminal(*APMT)
GATE_IN = NOW.replace(microsecond=0) - dt.timedelta(hours=2)


def move(reference: str, out: dt.datetime | None = None, **changes: str | None) -> GateMove:
    fields: dict[str, str | None] = {
        "lane": "L4",
        "trucker_scac": "BYLC",
        "move_type": "EMPTY_PICKUP",
        "number": None,
        "appointment": None,
        **changes,
    }
    return gate_move(
        reference,
        fields["lane"] or "",
        fields["trucker_scac"] or "",
        fields["move_type"] or "",
        fields["number"],
        fields["appointment"],
        (GATE_IN, out),
        NOW,
    )


async def record(pools: SourcePools, who: Principal, given: GateMove) -> Written:
    records: list[AuditRecord] = []
    return await record_gate_move(pools, who, given, operation="test", audit=records.append)


async def test_a_terminal_records_a_truck_in_and_out_and_the_appointment_follows(
    pool: Pool, pools: SourcePools
) -> None:
    assert (await book(pools, BYLC, empty_pickup("BYLC-0003"))).outcome is Outcome.ACCEPTED
    status = "SELECT status FROM gate.appointment WHERE appointment_reference = 'BYLC-0003'"
    came_in = await record(pools, APMT_TERMINAL, move("GATE-0001", appointment="BYLC-0003"))
    assert came_in.outcome is Outcome.ACCEPTED
    assert came_in.row is not None
    assert (came_in.row["gate_out_at"], came_in.row["turn_time_minutes"]) == (None, None)
    assert await pool.fetchval(status) == "ARRIVED"
    again = await record(pools, APMT_TERMINAL, move("GATE-0001", appointment="BYLC-0003"))
    assert again.outcome is Outcome.DUPLICATE
    left = await record(pools, APMT_TERMINAL, move("GATE-0001", GATE_IN + dt.timedelta(minutes=47)))
    assert left.row is not None
    assert (left.outcome, left.row["turn_time_minutes"]) == (Outcome.ACCEPTED, 47)
    assert await pool.fetchval(status) == "COMPLETED"
    other_time = await record(
        pools, APMT_TERMINAL, move("GATE-0001", GATE_IN + dt.timedelta(minutes=50))
    )
    assert (other_time.code, other_time.field) == (Refusal.CONFLICT, "gateOutAt")


async def test_gate_moves_are_the_terminals_own(pool: Pool, pools: SourcePools) -> None:
    assert (await book(pools, BYLC, empty_pickup("BYLC-0004"))).outcome is Outcome.ACCEPTED
    elsewhere = terminal("USLAX", "TRAP")
    before = await pool.fetchval("SELECT count(*) FROM gate.gate_transaction")
    not_theirs = await record(pools, elsewhere, move("GATE-0002", appointment="BYLC-0004"))
    assert (not_theirs.code, not_theirs.field) == (Refusal.NOT_FOUND, "appointmentReference")
    for who in (BYLC, carrier("MSCU")):
        refused = await record(pools, who, move("GATE-0003"))
        assert (refused.code, refused.field) == (Refusal.NOT_FOUND, "transactionReference")
    assert await pool.fetchval("SELECT count(*) FROM gate.gate_transaction") == before
    assert (await record(pools, APMT_TERMINAL, move("GATE-0004"))).outcome is Outcome.ACCEPTED
    taken = await record(pools, elsewhere, move("GATE-0004"))
    assert (taken.code, taken.field) == (Refusal.CONFLICT, "transactionReference")


@pytest.mark.parametrize(
    ("out", "changes", "field", "reason"),
    [
        (GATE_IN - dt.timedelta(minutes=1), {}, "gateOutAt", "must be after gateInAt"),
        (NOW + dt.timedelta(hours=1), {}, "gateOutAt", "is in the future"),
        (
            None,
            {"trucker_scac": "B1"},
            "truckerScac",
            "'B1' is not a SCAC (expected 2 to 4 letters)",
        ),
        (None, {"lane": "lane four!"}, "lane", "'lane four!' is not a gate lane"),
    ],
)
def test_a_gate_move_is_checked_at_the_edge(
    out: dt.datetime | None, changes: dict[str, str], field: str, reason: str
) -> None:
    with pytest.raises(Invalid) as caught:
        move("GATE-0009", out, **changes)
    assert (caught.value.field, caught.value.reason) == (field, reason)
